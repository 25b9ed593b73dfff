"""X-Ray Radiation Dose SR (TID 10001 projection X-ray, TID 10011 CT) → HL7 Radiation Dose Summary IG Observations.

One `RadiationDoseSummary` Observation (STU1, github.com/HL7/fhir-radiation-dose-summary-ig @ 86c77fa,
input/fsh/RadiationDoseSummary.fsh: LOINC 73569-6, identifier = SOP Instance UID typed
dicom-identifier-type#sop-instance-uid, partOf and focus = the ImagingStudy, effective = start of
irradiation, valueString = the summary as text, components from ComponentRadiationDoseSummaryVS:
Procedure reported, CT DLP total, DAP/Dose RP totals, fluoro time ...) plus one Observation per
irradiation event (CT Acquisition 113819 / Irradiation Event X-Ray Data 113706) in the shape of the
ballot's CTIrradiationEventSummary (0.1.0, Observation-839: identifier = Irradiation Event UID, code DCM
113852, bodySite = Target Region, components Mean CTDIvol 113830, DLP 113838, CTDIw Phantom Type 113835);
STU1 dropped that profile, so no `meta.profile` is claimed for it. Every NUM of an event (not only the
three the ballot names) and its protocol, acquisition type and other coded or text items are components,
so nothing of the event is lost; the per-NUM Observations the generic path would make are replaced.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from interop.memo import Memo
from interop.model import CodeableConcept, ContentItem, Message, Report, Timestamp

from . import datatypes as fd
from .context import FhirContext, stable_id

DCM = "http://dicom.nema.org/resources/ontology/DCM"
PROFILE = "http://hl7.org/fhir/uv/radiation-dose-summary/StructureDefinition/radiation-dose-summary"
ID_TYPE_SYSTEM = "http://hl7.org/fhir/uv/radiation-dose-summary/CodeSystem/dicom-identifier-type"
LOINC_DOSE = {"system": "http://loinc.org", "code": "73569-6",
              "display": "Radiation exposure and protection information [Description] Document Diagnostic imaging"}
IRRADIATION_EVENT = {"system": DCM, "code": "113852", "display": "Irradiation Event"}
DOSE_REPORT_TITLES = {"113701", "113702"}  # X-Ray Radiation Dose Report; (113702: Accumulated X-Ray Dose Data)
DOSE_TEMPLATES = {"10001", "10011"}
EVENT_CONTAINERS = {"113819", "113706"}  # CT Acquisition (TID 10013), Irradiation Event X-Ray Data (TID 10003)
ACCUMULATED = {"113811", "113702", "113704"}  # CT Accumulated Dose Data, Accumulated X-Ray Dose Data, Projection X-Ray
SUMMARY_COMPONENTS = {  # ComponentRadiationDoseSummaryVS (DCM codes) found anywhere outside the events
    "113813", "113725", "111637", "113722", "113726", "113727", "113730", "113731", "113507", "123005"}
EVENT_UID, TARGET_REGION, PROCEDURE_REPORTED = "113769", "123014", "121058"
START_OF_IRRADIATION, DATETIME_STARTED = "113809", "111526"
_STARTS = frozenset({START_OF_IRRADIATION, DATETIME_STARTED})


def is_dose_report(report: Report) -> bool:
    """An X-Ray Radiation Dose SR (by document title or template)."""
    if report.template in DOSE_TEMPLATES:
        return True
    for c in report.title.codings:
        if c.system == DCM and c.code in DOSE_REPORT_TITLES:
            return True
    return False


def timestamp_text(ts: Timestamp, zone: tzinfo | None) -> tuple[str, bool]:
    """`datatypes.date_time` of a DICOM Timestamp, remembered per object and zone: the codec hands out one
    Timestamp per date, time and zone it read (`elements.Context.timestamp`), so a study's dates recur in its
    ImagingStudy, series, reports and dose summary, instance after instance. The entry keeps the object alive,
    so its id cannot name another one while it is held."""
    key = (id(ts), zone)
    hit = _TIMES.get(key)
    if hit is not None and hit[0] is ts:
        return hit[1]
    found = fd.date_time(ts, zone)
    _TIMES.put(key, (ts, found))
    return found


_TIMES = Memo(1024)  # (id(Timestamp), zone) -> (the Timestamp, (FHIR dateTime text, zone assumed))


def forget() -> None:
    """Empty the memos of dates written and concept facts (interop.clear_caches)."""
    _TIMES.forget()
    _FACTS.forget()


def replaces_observations(message: Message) -> bool:
    """True when the dose report's Observations replace every Observation the generic path would make for
    the message's metrics: its one report is a dose report (`imaging.build` then drops every per-metric
    Observation) and each metric is a numeric or absent value without measurement status (whose generic
    Observation would only note what `observation._notes` notes). The generic path then makes none."""
    return (len(message.reports) == 1 and is_dose_report(message.reports[0])
            and all((m.value is None or m.value.kind == "numeric") and not m.measurement_status
                    for m in message.metrics))


def _dcm(item: ContentItem) -> str | None:
    """The DCM code of an item's concept name."""
    concept = item.concept
    return None if concept is None else _facts(concept)[1]


def _facts(concept: CodeableConcept) -> tuple[CodeableConcept, str | None, dict[str, Any]]:
    """(the concept, its DCM code, its shared FHIR CodeableConcept fragment), made once per concept object:
    the codec hands out one object per code sequence it read (elements.Context.concept), so a report's concept
    names recur in every report of its kind. The entry keeps the object alive (its id names no other)."""
    hit = _FACTS.get(id(concept))
    if hit is not None and hit[0] is concept:
        return hit
    hit = _FACTS.recall(id(concept))
    if hit is not None and hit[0] is concept:
        return hit
    code = None
    for c in concept.codings:
        if c.system == DCM:
            code = c.code
            break
    return _FACTS.put(id(concept), (concept, code, fd.code_facts(concept).concept))


_FACTS = Memo(4096)  # id(concept) -> (concept, DCM code, FHIR fragment): see `_facts`
_NO_FACTS = (None, None, None)  # of an item without a concept name


def _flatten(root: ContentItem) -> tuple[list[tuple[ContentItem, str | None, Any]], list[tuple[int, int]]]:
    """Every item of the tree with its concept's DCM code and FHIR fragment (`_facts`, read once), depth first
    in document order, and each irradiation event container as (its index, the end of its subtree) there."""
    out: list[tuple[ContentItem, str | None, Any]] = []
    events: list[tuple[int, int]] = []
    table = _FACTS
    append = out.append

    def visit(item: ContentItem, code: str | None, fragment: Any) -> None:
        at = len(out)
        append((item, code, fragment))
        for child in item.children:
            concept = child.concept
            if concept is None:
                facts = _NO_FACTS
            else:
                facts = table.get(id(concept))
                if facts is None or facts[0] is not concept:
                    facts = _facts(concept)
            if child.children:
                visit(child, facts[1], facts[2])
            else:
                if child.value_type == "CONTAINER" and facts[1] in EVENT_CONTAINERS:
                    events.append((len(out), len(out) + 1))  # an empty event container
                append((child, facts[1], facts[2]))
        if item.value_type == "CONTAINER" and code in EVENT_CONTAINERS:
            events.append((at, len(out)))

    facts = _NO_FACTS if root.concept is None else _facts(root.concept)
    visit(root, facts[1], facts[2])
    events.sort()  # document order (a container is appended after its subtree)
    return out, events


def build_dose(report: Report, study_ref: str | None, message: Message, ctx: FhirContext) -> list[str]:
    """The summary and event Observations of one dose report; returns their references (summary first).

    Coded fragments (component codes, coded values, body sites) are the shared CodeableConcept fragments
    of `datatypes.code_facts`, not copies: nothing edits these Observations after they are added (the
    Provenance builder only reads entries) and `Bundle.data` is a private deep copy."""
    tree, events = _flatten(report.root)
    study = message.imaging_study
    subject = _subject(ctx)
    device_ref = next(iter(ctx.device_refs.values()), None)
    zone = ctx.options.get("timezone")
    event_refs = [_event(tree, at, end, i, report, study_ref, subject, device_ref, ctx, zone)
                  for i, (at, end) in enumerate(events)]
    # summary: the items outside every event
    if events:
        inside = bytearray(len(tree))
        for at, end in events:
            inside[at:end] = b"\x01" * (end - at)
        outside = [entry for entry, within in zip(tree, inside, strict=True) if not within]
    else:
        outside = tree
    components: list[dict[str, Any]] = []
    summary_text: list[str] = []
    for it, code, fragment in outside:
        if code == PROCEDURE_REPORTED and it.code is not None:
            components.append({"code": fragment or _concept(it), "valueCodeableConcept": _shared(it.code)})
        elif it.value_type == "NUM" and it.quantity is not None:
            q = fd.quantity(it.quantity)
            # other accumulated values (e.g. Total Number of Irradiation Events) are kept as components too
            components.append({"code": fragment or _concept(it), "valueQuantity": q})
            if code in SUMMARY_COMPONENTS:
                summary_text.append(f"{_display(it)} = {q.get('value')} {q.get('unit') or q.get('code') or ''}"
                                    .strip())
    res: dict[str, Any] = {"resourceType": "Observation",
                           "id": stable_id("Observation", "dose-summary", report.instance_uid or report.study_uid)}
    if not ctx.r5:
        res["meta"] = {"profile": [PROFILE]}
    if report.instance_uid:
        res["identifier"] = [{"type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "sop-instance-uid",
                                                   "display": "SOP Instance UID"}]},
                              "system": "urn:dicom:uid", "value": f"urn:oid:{report.instance_uid}"}]
    if study_ref:
        part = dict(ctx.reference(study_ref))
        if study is not None:
            part["identifier"] = {"type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "study-instance-uid",
                                                       "display": "Study Instance UID"}]},
                                  "system": "urn:dicom:uid", "value": f"urn:oid:{study.uid}"}
        res["partOf"] = [part]
    res["status"] = "final"
    res["code"] = {"coding": [dict(LOINC_DOSE)]}
    if subject:
        res["subject"] = subject
    if study_ref:
        res["focus"] = [ctx.reference(study_ref)]
    start = _start(outside) or (study.started if study is not None else None) or report.issued
    if start is not None:
        res["effectiveDateTime"] = timestamp_text(start, zone)[0]
    if device_ref:
        res["device"] = ctx.reference(device_ref)
    res["valueString"] = "; ".join(summary_text) or f"{len(events)} irradiation event(s)"
    if components:
        res["component"] = components
    ctx.add(res)
    return [f"Observation/{res['id']}", *event_refs]


_STRING_VALUES = frozenset({"TEXT", "UIDREF", "DATETIME", "DATE", "TIME", "PNAME"})


def _event(tree: list[tuple[ContentItem, str | None, Any]], at: int, end: int, index: int, report: Report,
           study_ref: str | None, subject: dict | None, device_ref: str | None, ctx: FhirContext,
           zone: tzinfo | None) -> str:
    event = tree[at][0]
    uid = None
    for it in event.children:
        if it.text and _dcm(it) == EVENT_UID:
            uid = it.text
            break
    res: dict[str, Any] = {"resourceType": "Observation",
                           "id": stable_id("Observation", "irradiation-event", uid or f"{report.instance_uid}#{index}")}
    if uid:
        res["identifier"] = [{"type": {"coding": [{"system": ID_TYPE_SYSTEM, "code": "irradiation-event-uid",
                                                   "display": "Irradiation Event UID"}]},
                              "system": "urn:dicom:uid", "value": f"urn:oid:{uid}"}]
    else:
        ctx.note("dicom.dose-event-uid", event.source.location if event.source else "irradiation event",
                 "irradiation event without Irradiation Event UID (113769)")
    # the items of the event in one pass: components in document order, the first start time, the body site
    components: list[dict[str, Any]] = []
    body_site = None
    start_item = None
    for entry in tree[at + 1:end]:
        it, code, fragment = entry
        value_type = it.value_type
        if code == TARGET_REGION and it.code is not None:
            body_site = _shared(it.code)
            continue
        if start_item is None and code in _STARTS and it.text:
            start_item = entry
        if code == EVENT_UID or code == DATETIME_STARTED or it.concept is None or value_type == "CONTAINER":
            continue
        if value_type == "NUM":
            if it.text:  # several values in one NUM (one per pulse in RF reports): all of them, as text
                unit = it.quantity.unit or it.quantity.unit_text if it.quantity is not None else None
                components.append({"code": fragment,
                                   "valueString": " ".join(it.text.split("\\")) + (f" {unit}" if unit else "")})
            elif it.quantity is not None:
                components.append({"code": fragment, "valueQuantity": fd.quantity(it.quantity)})
            else:
                components.append({"code": fragment, "dataAbsentReason": _absent()})
        elif value_type == "CODE" and it.code is not None:
            components.append({"code": fragment, "valueCodeableConcept": _shared(it.code)})
        elif value_type in _STRING_VALUES and it.text:
            components.append({"code": fragment, "valueString": it.text})
        else:
            ctx.note("dicom.dose-item-unplaced", it.source.location if it.source else "irradiation event",
                     f"{value_type} item of an irradiation event is not placed in its Observation")
    if study_ref:
        res["partOf"] = [ctx.reference(study_ref)]
    res["status"] = "final"
    res["code"] = {"coding": [dict(IRRADIATION_EVENT)]}
    if subject:
        res["subject"] = subject
    start = _start((start_item,)) if start_item is not None else None
    if start is not None:
        res["effectiveDateTime"] = fd.date_time(start, zone)[0]
    if device_ref:
        res["device"] = ctx.reference(device_ref)
    if body_site is not None:
        res["bodySite"] = body_site
    if components:
        res["component"] = components
    ctx.add(res)
    return f"Observation/{res['id']}"


def _absent() -> dict[str, Any]:
    return {"coding": [{"system": fd.DATA_ABSENT_SYSTEM, "code": "unknown"}]}


def _start(items) -> Any:
    """The DICOM DT of Start of X-Ray Irradiation / DateTime Started, as a Timestamp."""
    for it, code, _ in items:
        if code in _STARTS and it.text:
            dt_value = _DT_VALUE or _dt_value()
            try:
                return dt_value(it.text, None)
            except (ValueError, TypeError):
                return None
    return None


_DT_VALUE = None  # the DICOM DT parser, imported when a start time is first read


def _dt_value():
    global _DT_VALUE
    from interop.codecs.dicom.dates import dt_value

    _DT_VALUE = dt_value
    return dt_value


def _concept(item: ContentItem) -> dict[str, Any]:
    """The item's concept name as the shared fragment (see `build_dose`)."""
    return fd.code_facts(item.concept).concept


def _shared(cc) -> dict[str, Any]:
    return fd.code_facts(cc).concept


def _display(item: ContentItem) -> str:
    c = item.concept.codings[0] if item.concept and item.concept.codings else None
    return (c.display or c.code) if c else "value"


def _subject(ctx: FhirContext) -> dict[str, str] | None:
    return ctx.reference(ctx.patient_ref) if ctx.patient_ref else None
