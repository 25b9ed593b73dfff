"""ImagingStudy and DiagnosticReport (DICOM study, SR documents) for FHIR R4 and R5.

Version differences handled here (FHIR R4 vs R5 ImagingStudy / DiagnosticReport):
- `modality` (study and series): R4 Coding, R5 CodeableConcept.
- `series.bodySite`: R4 Coding, R5 CodeableReference; `series.laterality`: R4 Coding, R5 CodeableConcept.
- R4 `procedureCode` (CodeableConcept) → R5 `procedure` (CodeableReference).
- R4 `reasonCode` (CodeableConcept) → R5 `reason` (CodeableReference).
- R4 `interpreter` has no R5 counterpart (not emitted: the model carries no reading physician).
- `DiagnosticReport.imagingStudy` (R4) → `DiagnosticReport.study` (R5).
- MPPS steps become Procedures: R4 `performedPeriod` and `ImagingStudy.procedureReference` (0..1);
  R5 `occurrencePeriod` and `ImagingStudy.partOf`.
- Endpoint (when `ctx.options["imaging_endpoint"]` gives a DICOMweb base URL): R4 `connectionType`
  Coding with required `payloadType`; R5 `connectionType` list of CodeableConcept and a `payload` backbone.
"""

from __future__ import annotations

from typing import Any

from interop.model import (
    DCM_SYSTEM,
    SNOMED_SYSTEM,
    CodeableConcept,
    ContentItem,
    ImagingStudy,
    Instance,
    Message,
    ProcedureStep,
    Report,
    Series,
    Timestamp,
    replace,
)

from . import datatypes as fd
from . import dose
from .context import FhirContext, stable_id

DICOM_UID_SYSTEM = "urn:dicom:uid"
"""Identifier system for DICOM UIDs (FHIR ImagingStudy examples: value `urn:oid:<uid>`)."""
RFC3986_SYSTEM = "urn:ietf:rfc:3986"
"""Code system of `instance.sopClass` (the SOP Class UID as `urn:oid:`)."""
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
ENDPOINT_CONNECTION_TYPE = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"

MODALITY_DISPLAY = {
    # DICOM PS3.16 CID 29 "Acquisition Modality" and CID 33 "Modality" (code meanings)
    "AR": "Autorefraction", "AU": "Audio", "BDUS": "Bone Densitometry (ultrasound)",
    "BI": "Biomagnetic imaging", "BMD": "Bone Densitometry (X-Ray)", "CR": "Computed Radiography",
    "CT": "Computed Tomography", "DG": "Diaphanography", "DOC": "Document", "DX": "Digital Radiography",
    "ECG": "Electrocardiography", "EPS": "Cardiac Electrophysiology", "ES": "Endoscopy",
    "GM": "General Microscopy", "HC": "Hard Copy", "HD": "Hemodynamic Waveform", "IO": "Intra-oral Radiography",
    "IVOCT": "Intravascular Optical Coherence Tomography", "IVUS": "Intravascular Ultrasound",
    "KER": "Keratometry", "KO": "Key Object Selection", "LEN": "Lensometry", "MG": "Mammography",
    "MR": "Magnetic Resonance", "NM": "Nuclear Medicine", "OAM": "Ophthalmic Axial Measurements",
    "OCT": "Optical Coherence Tomography", "OP": "Ophthalmic Photography", "OPT": "Ophthalmic Tomography",
    "OT": "Other", "PR": "Presentation State", "PT": "Positron emission tomography",
    "PX": "Panoramic X-Ray", "RF": "Radio Fluoroscopy", "RG": "Radiographic imaging",
    "RTDOSE": "Radiotherapy Dose", "RTIMAGE": "Radiotherapy Image", "RTPLAN": "Radiotherapy Plan",
    "RTSTRUCT": "Radiotherapy Structure Set", "SEG": "Segmentation", "SM": "Slide Microscopy",
    "SR": "SR Document", "US": "Ultrasound", "XA": "X-Ray Angiography", "XC": "External-camera Photography",
}


def build(message: Message, ctx: FhirContext) -> None:
    """Append a Procedure per MPPS step, the ImagingStudy (and Endpoint), one DiagnosticReport per SR report."""
    procedure_refs = [_procedure(step, message, ctx) for step in message.procedure_steps]
    study = message.imaging_study
    study_ref = _imaging_study(study, message, ctx, procedure_refs) if study is not None else None
    for index, report in enumerate(message.reports):
        results = None
        if dose.is_dose_report(report):
            # Radiation Dose Summary IG: a summary and one Observation per irradiation event, whose components
            # carry every NUM of the report; they replace the report's one-Observation-per-NUM entries
            replaced = set(_report_results(report, message, ctx))
            results = dose.build_dose(report, study_ref, message, ctx)
            if replaced:  # none when the generic path made none (observation.build, dose.replaces_observations)
                ctx.entries[:] = [e for e in ctx.entries
                                  if f"{e['resource']['resourceType']}/{e['resource'].get('id')}" not in replaced]
        _diagnostic_report(report, index, study_ref, message, ctx, results)


# ---------------------------------------------------------------- ImagingStudy


def _imaging_study(study: ImagingStudy, message: Message, ctx: FhirContext, procedure_refs: list[str]) -> str:
    series = _merged_series(study.series)
    res: dict[str, Any] = {"resourceType": "ImagingStudy", "id": stable_id("ImagingStudy", study.uid)}
    res["identifier"] = [_uid_identifier(study.uid)] + [fd.identifier(i) for i in study.identifiers]
    res["status"] = _study_status(series, message, study.uid)
    own_steps = [ref for ref, step in zip(procedure_refs, message.procedure_steps, strict=True)
                 if not step.study_uids or study.uid in step.study_uids]
    if own_steps and ctx.r5:
        res["partOf"] = [ctx.reference(ref) for ref in own_steps]
    elif own_steps:
        res["procedureReference"] = ctx.reference(own_steps[-1])  # R4 allows one
    modalities = list(dict.fromkeys(s.modality for s in series if s.modality))
    if modalities:
        res["modality"] = [_modality(m, ctx) for m in modalities]
    res["subject"] = _subject(message, ctx, "ImagingStudy")
    if ctx.encounter_ref:
        res["encounter"] = ctx.reference(ctx.encounter_ref)
    started = _datetime(study.started, ctx, "ImagingStudy.started")
    if started:
        res["started"] = started
    if study.referrer:
        res["referrer"] = {"display": study.referrer}
    endpoint_ref = _endpoint(study, ctx)
    if endpoint_ref:
        res["endpoint"] = [ctx.reference(endpoint_ref)]
    res["numberOfSeries"] = len(series)
    res["numberOfInstances"] = sum(len(s.instances) for s in series)
    if study.procedure_codes:
        if ctx.r5:
            res["procedure"] = [{"concept": fd.concept(c)} for c in study.procedure_codes]
        else:
            res["procedureCode"] = [fd.concept(c) for c in study.procedure_codes]
    if study.reason:
        if ctx.r5:
            res["reason"] = [{"concept": {"text": study.reason}}]
        else:
            res["reasonCode"] = [{"text": study.reason}]
    if study.description:
        res["description"] = study.description
    if series:
        res["series"] = [_series(s, ctx) for s in series]
    return ctx.add(res, if_none_exist=f"identifier={DICOM_UID_SYSTEM}|urn:oid:{study.uid}")


def _study_status(series: list[Series], message: Message, uid: str) -> str:
    """available once instances arrived; cancelled when its only MPPS steps were discontinued."""
    if any(s.instances for s in series):
        return "available"
    steps = [p for p in message.procedure_steps if uid in p.study_uids]
    if steps and all(p.status.upper() == "DISCONTINUED" for p in steps):
        return "cancelled"
    return "registered"


def _merged_series(series: tuple[Series, ...]) -> list[Series]:
    """Series with the same UID merged (instances deduplicated by SOP Instance UID, ordered by number)."""
    if len(series) == 1 and len(series[0].instances) <= 1:  # one instance (a decoded file): nothing to merge
        return [series[0]]
    by_uid: dict[str, Series] = {}
    instances: dict[str, dict[str, Instance]] = {}
    for s in series:
        if s.uid not in by_uid:
            by_uid[s.uid] = s
            instances[s.uid] = {}
        for inst in s.instances:
            instances[s.uid].setdefault(inst.sop_instance_uid, inst)
    out = []
    for uid, s in by_uid.items():
        ordered = sorted(instances[uid].values(), key=lambda i: (i.number is None, i.number or 0))
        out.append(replace(s, instances=tuple(ordered)))
    return sorted(out, key=lambda s: (s.number is None, s.number or 0))


def _series(s: Series, ctx: FhirContext) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": s.uid}
    if s.number is not None:
        out["number"] = s.number
    out["modality"] = _modality(s.modality, ctx)
    if s.description:
        out["description"] = s.description
    out["numberOfInstances"] = len(s.instances)
    if s.body_site is not None:
        out["bodySite"] = {"concept": fd.concept(s.body_site)} if ctx.r5 else _one_coding(s.body_site)
    if s.laterality is not None:
        out["laterality"] = fd.concept(s.laterality) if ctx.r5 else _one_coding(s.laterality)
    started = _datetime(s.started, ctx, f"ImagingStudy.series[{s.uid}].started")
    if started:
        out["started"] = started
    performers = []
    if s.device_key and s.device_key in ctx.device_refs:
        performers.append({"actor": ctx.reference(ctx.device_refs[s.device_key])})
    if s.performer and not ctx.options.get("mask_names"):
        performers.append({"actor": {"display": s.performer}})
    if performers:
        out["performer"] = performers
    if s.instances:
        out["instance"] = [_instance(i) for i in s.instances]
    return out


def _instance(i: Instance) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": i.sop_instance_uid,
                           "sopClass": {"system": RFC3986_SYSTEM, "code": f"urn:oid:{i.sop_class_uid}"}}
    if i.number is not None:
        out["number"] = i.number
    if i.title:
        out["title"] = i.title
    return out


def _modality(code: str, ctx: FhirContext) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": DCM_SYSTEM, "code": code}
    display = MODALITY_DISPLAY.get(code)
    if display:
        coding["display"] = display
    return {"coding": [coding]} if ctx.r5 else coding


def _endpoint(study: ImagingStudy, ctx: FhirContext) -> str | None:
    """An Endpoint for the study's DICOMweb (WADO-RS) base URL, when the caller configured one."""
    address = ctx.options.get("imaging_endpoint")
    if not address:
        return None
    conn = {"system": ENDPOINT_CONNECTION_TYPE, "code": "dicom-wado-rs", "display": "DICOM WADO-RS"}
    payload = {"coding": [{"system": "urn:ietf:bcp:13", "code": "application/dicom"}]}
    res: dict[str, Any] = {"resourceType": "Endpoint", "id": stable_id("Endpoint", address), "status": "active"}
    if ctx.r5:
        res["connectionType"] = [{"coding": [conn]}]
        res["payload"] = [{"type": [payload], "mimeType": ["application/dicom"]}]
    else:
        res["connectionType"] = conn
        res["payloadType"] = [payload]
        res["payloadMimeType"] = ["application/dicom"]
    res["address"] = str(address)
    return ctx.add(res)


# ---------------------------------------------------------------- Procedure (MPPS)


_PROCEDURE_STATUS = {"IN PROGRESS": "in-progress", "COMPLETED": "completed", "DISCONTINUED": "stopped"}


def _procedure(step: ProcedureStep, message: Message, ctx: FhirContext) -> str:
    """A performed procedure step (PS3.3 C.4.13-C.4.16) as a Procedure (R4 performed[x], R5 occurrence[x])."""
    res: dict[str, Any] = {"resourceType": "Procedure", "id": stable_id("Procedure", step.uid)}
    if step.uid:
        res["identifier"] = [_uid_identifier(step.uid)]
    res["status"] = _PROCEDURE_STATUS.get(step.status.upper(), "unknown")
    if step.discontinuation_reason is not None:
        res["statusReason"] = fd.concept(step.discontinuation_reason)
    if step.procedure_codes:
        res["code"] = fd.concept(step.procedure_codes[0])
    elif step.description:
        res["code"] = {"text": step.description}
    res["subject"] = _subject(message, ctx, "Procedure")
    if ctx.encounter_ref:
        res["encounter"] = ctx.reference(ctx.encounter_ref)
    period = {}
    start = _datetime(step.started, ctx, "Procedure.performedPeriod.start")
    end = _datetime(step.ended, ctx, "Procedure.performedPeriod.end")
    if start:
        period["start"] = start
    if end:
        period["end"] = end
    if period:
        res["occurrencePeriod" if ctx.r5 else "performedPeriod"] = period
    if step.device_key and step.device_key in ctx.device_refs:
        res["performer"] = [{"actor": ctx.reference(ctx.device_refs[step.device_key])}]
    if not step.uid:
        return ctx.add(res)
    ref = ctx.add(res)
    if ctx.bundle_type == "transaction":
        # A step changes (IN PROGRESS -> COMPLETED/DISCONTINUED): a conditional create would be ignored by a
        # server that has the step already, so the Procedure is a conditional update on its MPPS UID (created
        # when absent, updated when present). A lone N-SET carries only what changed (no patient, no code):
        # it becomes a FHIRPath Patch of the existing Procedure instead of a replacement.
        url = f"Procedure?identifier={DICOM_UID_SYSTEM}|urn:oid:{step.uid}"
        entry = ctx.entries[-1]
        if message.message_type == "MPPS N-SET":
            entry["resource"] = _procedure_patch(res, ctx)
            entry["request"] = {"method": "PATCH", "url": url}
        else:
            # the server keeps the id of the Procedure it finds: an id in the body that differs is an error
            entry["resource"] = {k: v for k, v in res.items() if k != "id"}
            entry["request"] = {"method": "PUT", "url": url}
    return ref


def _procedure_patch(res: dict[str, Any], ctx: FhirContext) -> dict[str, Any]:
    """FHIRPath Patch (Parameters) of what an N-SET changes: status, its reason, the period's end, code."""
    ops: list[dict[str, Any]] = [_patch_op("replace", "Procedure.status", value={"valueCode": res["status"]})]
    if "statusReason" in res:
        ops.append(_patch_op("add", "Procedure", "statusReason", {"valueCodeableConcept": res["statusReason"]}))
    period = res.get("occurrencePeriod" if ctx.r5 else "performedPeriod", {})
    name = "occurrencePeriod" if ctx.r5 else "performedPeriod"
    if "end" in period:
        ops.append(_patch_op("add", f"Procedure.{name}", "end", {"valueDateTime": period["end"]}))
    if "code" in res:
        ops.append(_patch_op("add", "Procedure", "code", {"valueCodeableConcept": res["code"]}))
    ctx.note("dicom.mpps-patch", "MPPS N-SET", "a lone N-SET is written as a FHIRPath Patch of the Procedure its "
             "N-CREATE made (status, reason, end, code)", "info")
    return {"resourceType": "Parameters", "parameter": ops}


def _patch_op(kind: str, path: str, name: str | None = None, value: dict[str, Any] | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if name is not None:
        parts.append({"name": "name", "valueString": name})
    if value is not None:
        parts.append({"name": "value", **value})
    return {"name": "operation", "part": parts}


# ---------------------------------------------------------------- DiagnosticReport


def _diagnostic_report(report: Report, index: int, study_ref: str | None, message: Message,
                       ctx: FhirContext, results: list[str] | None = None) -> str:
    key = report.instance_uid or f"{report.study_uid or ''}#{index}"
    res: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": stable_id("DiagnosticReport", key)}
    if report.instance_uid:
        res["identifier"] = [_uid_identifier(report.instance_uid)]
    res["status"] = _report_status(report)
    res["category"] = [{"coding": [{"system": V2_0074, "code": "RAD", "display": "Radiology"}]}]
    res["code"] = fd.concept(report.title)
    res["subject"] = _subject(message, ctx, "DiagnosticReport")
    if ctx.encounter_ref:
        res["encounter"] = ctx.reference(ctx.encounter_ref)
    study = message.imaging_study
    effective = _datetime(study.started if study else None, ctx, "DiagnosticReport.effectiveDateTime")
    if effective:
        res["effectiveDateTime"] = effective
    issued = _instant(report.issued, ctx)
    if issued:
        res["issued"] = issued
    if results is None:
        results = _report_results(report, message, ctx)
    if results:
        res["result"] = [ctx.reference(r) for r in results]
    if study_ref:
        res["study" if ctx.r5 else "imagingStudy"] = [ctx.reference(study_ref)]
    if report.instance_uid:
        return ctx.add(res, if_none_exist=f"identifier={DICOM_UID_SYSTEM}|urn:oid:{report.instance_uid}")
    return ctx.add(res)


def _report_status(report: Report) -> str:
    """CompletionFlag/VerificationFlag → DiagnosticReport.status (PS3.3 C.17.2)."""
    completion = (report.completion or "").upper()
    verification = (report.verification or "").upper()
    if completion == "PARTIAL":
        return "partial"
    if completion == "COMPLETE" and verification == "VERIFIED":
        return "final"
    return "preliminary"


def _report_results(report: Report, message: Message, ctx: FhirContext) -> list[str]:
    """The Observations that came from this report's measurements (needs one Observation per metric).

    With one report every observation is its result. With several: a metric whose `group` starts
    with a report's SOP Instance UID belongs to it; otherwise, when the metrics are exactly the
    reports' NUM items in report order (what the DICOM codec and study merge produce), each report
    takes as many as its content tree has NUM items.
    """
    refs = list(ctx.observation_refs)
    if len(message.reports) <= 1:
        return refs
    owners = _metric_owners(message) if len(refs) == len(message.metrics) else None
    if owners is None:
        ctx.note("fhir.report-results", "DiagnosticReport.result",
                 "several SR reports in one message: observations cannot be attributed to a report")
        return []
    index = message.reports.index(report)
    return [ref for ref, owner in zip(refs, owners, strict=True) if owner == index]


def _metric_owners(message: Message) -> list[int] | None:
    """Index of the report each metric came from, or None when that cannot be told."""
    uids = [r.instance_uid for r in message.reports]
    by_prefix = []
    for m in message.metrics:
        owner = next((i for i, uid in enumerate(uids) if uid and m.group and m.group.startswith(uid)), None)
        by_prefix.append(owner)
    if all(o is not None for o in by_prefix):
        return by_prefix  # type: ignore[return-value]
    counts = [_num_items(r.root) for r in message.reports]
    if sum(counts) != len(message.metrics):
        return None
    return [i for i, n in enumerate(counts) for _ in range(n)]


def _num_items(item: ContentItem | None) -> int:
    """NUM content items with a concept name in a content tree (each became one Metric)."""
    if item is None:
        return 0
    own = 1 if item.value_type == "NUM" and item.concept is not None else 0
    return own + sum(_num_items(c) for c in item.children)


# ---------------------------------------------------------------- shared pieces


def _subject(message: Message, ctx: FhirContext, where: str) -> dict[str, Any]:
    if ctx.patient_ref:
        return ctx.reference(ctx.patient_ref)
    ctx.note("fhir.no-subject", f"{where}.subject", "no patient in the input; subject left without a reference")
    return {"display": "unknown patient"}


def _uid_identifier(uid: str) -> dict[str, Any]:
    return {"use": "official", "system": DICOM_UID_SYSTEM, "value": f"urn:oid:{uid}"}


def _one_coding(cc: CodeableConcept) -> dict[str, Any]:
    """The single Coding R4 allows: SNOMED CT first, else the source's own, else the text as display."""
    for c in cc.codings:
        if c.system == SNOMED_SYSTEM:
            return fd.coding(c)
    if cc.codings:
        return fd.coding(cc.codings[0])
    return {"display": cc.text} if cc.text else {}


def _datetime(ts: Timestamp | None, ctx: FhirContext, where: str) -> str | None:
    """FHIR dateTime at the source precision; a time without offset takes --assume-tz, else UTC (noted)."""
    if ts is None:
        return None
    zone = ctx.options.get("timezone")
    text, assumed = dose.timestamp_text(ts, zone)
    if assumed and zone is None:
        ctx.note("fhir.zone-assumed", where, "DICOM time has no UTC offset (no TimezoneOffsetFromUTC); "
                 "UTC assumed (use --assume-tz)")
    return text


def _instant(ts: Timestamp | None, ctx: FhirContext) -> str | None:
    """FHIR instant (seconds and zone required), or None when the source is coarser than seconds."""
    if ts is None or ts.precision in ("year", "month", "day", "hour", "minute"):
        return None
    zone = ctx.options.get("timezone")
    value = ts.value
    if value.tzinfo is None:
        if zone is None:
            ctx.note("fhir.zone-assumed", "DiagnosticReport.issued", "SR content time has no UTC offset; "
                     "UTC assumed (use --assume-tz)")
        else:
            value = value.replace(tzinfo=zone)
    return fd.instant(value)
