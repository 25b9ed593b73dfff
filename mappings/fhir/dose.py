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
from interop.model import ContentItem, Message, Report, Timestamp

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
    """Empty the memo of dates written (interop.clear_caches)."""
    _TIMES.forget()


def replaces_observations(message: Message) -> bool:
    """True when the dose report's Observations replace every Observation the generic path would make for
    the message's metrics: its one report is a dose report (`imaging.build` then drops every per-metric
    Observation) and each metric is a numeric or absent value without measurement status (whose generic
    Observation would only note what `observation._notes` notes). The generic path then makes none."""
    return (len(message.reports) == 1 and is_dose_report(message.reports[0])
            and all((m.value is None or m.value.kind == "numeric") and not m.measurement_status
                    for m in message.metrics))


def _dcm(item: ContentItem) -> str | None:
    """The DCM code of an item's concept name (read several times per item by the dose passes)."""
    concept = item.concept
    if concept is None:
        return None
    for c in concept.codings:
        if c.system == DCM:
            return c.code
    return None


def _walk(item: ContentItem) -> list[ContentItem]:
    """`item` and every item below it, depth first in document order (one list, no generator per level)."""
    out: list[ContentItem] = []
    stack = [item]
    while stack:
        it = stack.pop()
        out.append(it)
        if it.children:
            stack.extend(reversed(it.children))
    return out


def _flatten(root: ContentItem) -> tuple[list[tuple[ContentItem, str | None]], list[tuple[int, int]]]:
    """Every item of the tree with its DCM code (read once), depth first in document order, and each
    irradiation event container as (its index, the end of its subtree) in that list."""
    out: list[tuple[ContentItem, str | None]] = []
    events: list[tuple[int, int]] = []

    def visit(item: ContentItem) -> None:
        code = _dcm(item)
        at = len(out)
        out.append((item, code))
        for child in item.children:
            if child.children:
                visit(child)
            elif child.value_type == "CONTAINER" and (child_code := _dcm(child)) in EVENT_CONTAINERS:
                events.append((len(out), len(out) + 1))  # an empty event container
                out.append((child, child_code))
            else:
                out.append((child, _dcm(child)))
        if item.value_type == "CONTAINER" and code in EVENT_CONTAINERS:
            events.append((at, len(out)))

    visit(root)
    events.sort()  # document order (a container is appended after its subtree)
    return out, events


def build_dose(report: Report, study_ref: str | None, message: Message, ctx: FhirContext) -> list[str]:
    """The summary and event Observations of one dose report; returns their references (summary first).

    Coded fragments (component codes, coded values, body sites) are the shared CodeableConcept fragments
    of `datatypes.code_facts`, not copies: nothing edits these Observations after they are added (the
    Provenance builder only reads entries) and `Bundle.data` is a private deep copy."""
    tree, events = _flatten(report.root)
    inside = bytearray(len(tree))
    for at, end in events:
        inside[at:end] = b"\x01" * (end - at)
    study = message.imaging_study
    subject = _subject(ctx)
    device_ref = next(iter(ctx.device_refs.values()), None)
    event_refs = [_event(tree, at, end, i, report, study_ref, subject, device_ref, ctx)
                  for i, (at, end) in enumerate(events)]
    # summary: the items outside every event
    outside = [pair for pair, within in zip(tree, inside, strict=True) if not within]
    components: list[dict[str, Any]] = []
    summary_text: list[str] = []
    for it, code in outside:
        if code == PROCEDURE_REPORTED and it.code is not None:
            components.append({"code": _concept(it), "valueCodeableConcept": _shared(it.code)})
        elif it.value_type == "NUM" and code in SUMMARY_COMPONENTS and it.quantity is not None:
            q = fd.quantity(it.quantity)
            components.append({"code": _concept(it), "valueQuantity": q})
            summary_text.append(f"{_display(it)} = {q.get('value')} {q.get('unit') or q.get('code') or ''}".strip())
        elif it.value_type == "NUM" and it.quantity is not None:
            # other accumulated values (e.g. Total Number of Irradiation Events) are kept as components too
            components.append({"code": _concept(it), "valueQuantity": fd.quantity(it.quantity)})
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
        res["effectiveDateTime"] = timestamp_text(start, ctx.options.get("timezone"))[0]
    if device_ref:
        res["device"] = ctx.reference(device_ref)
    res["valueString"] = "; ".join(summary_text) or f"{len(events)} irradiation event(s)"
    if components:
        res["component"] = components
    ctx.add(res)
    return [f"Observation/{res['id']}", *event_refs]


def _event(tree: list[tuple[ContentItem, str | None]], at: int, end: int, index: int, report: Report,
           study_ref: str | None, subject: dict | None, device_ref: str | None, ctx: FhirContext) -> str:
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
    if study_ref:
        res["partOf"] = [ctx.reference(study_ref)]
    res["status"] = "final"
    res["code"] = {"coding": [dict(IRRADIATION_EVENT)]}
    if subject:
        res["subject"] = subject
    items = tree[at + 1:end]
    start = _start(items)
    if start is not None:
        res["effectiveDateTime"] = fd.date_time(start, ctx.options.get("timezone"))[0]
    if device_ref:
        res["device"] = ctx.reference(device_ref)
    components: list[dict[str, Any]] = []
    for it, code in items:
        value_type = it.value_type
        if code == TARGET_REGION and it.code is not None:
            res["bodySite"] = _shared(it.code)
        elif code in (EVENT_UID, DATETIME_STARTED) or it.concept is None or value_type == "CONTAINER":
            continue
        elif value_type == "NUM":
            comp = {"code": _concept(it)}
            if it.text:  # several values in one NUM (one per pulse in RF reports): all of them, as text
                unit = it.quantity.unit or it.quantity.unit_text if it.quantity is not None else None
                comp["valueString"] = " ".join(it.text.split("\\")) + (f" {unit}" if unit else "")
            elif it.quantity is not None:
                comp["valueQuantity"] = fd.quantity(it.quantity)
            else:
                comp["dataAbsentReason"] = {"coding": [{"system": fd.DATA_ABSENT_SYSTEM, "code": "unknown"}]}
            components.append(comp)
        elif value_type == "CODE" and it.code is not None:
            components.append({"code": _concept(it), "valueCodeableConcept": _shared(it.code)})
        elif value_type in ("TEXT", "UIDREF", "DATETIME", "DATE", "TIME", "PNAME") and it.text:
            components.append({"code": _concept(it), "valueString": it.text})
        else:
            ctx.note("dicom.dose-item-unplaced", it.source.location if it.source else "irradiation event",
                     f"{value_type} item of an irradiation event is not placed in its Observation")
    if components:
        res["component"] = components
    ctx.add(res)
    return f"Observation/{res['id']}"


def _start(items: list[tuple[ContentItem, str | None]]) -> Any:
    """The DICOM DT of Start of X-Ray Irradiation / DateTime Started, as a Timestamp."""
    for it, code in items:
        if code in _STARTS and it.text:
            from interop.codecs.dicom.dates import dt_value

            try:
                return dt_value(it.text, None)
            except (ValueError, TypeError):
                return None
    return None


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
