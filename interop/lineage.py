"""Field-level lineage: which source position became which FHIR element (`interop explain`).

For HL7 v2 the positions are the OBX/OBR fields each Observation element is read from (the
decoder's own field assignments, IHE PCD TF-2 / v2-to-FHIR IG); for the other standards the
metric's recorded source position (APDU handle and attribute, DICOM tag path) feeds the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from interop.model import Message, Metric

# OBX field → the Observation elements it feeds (when present in the output).
_OBX_ELEMENTS = (
    (3, ("code",)),
    (5, ("valueQuantity", "valueString", "valueCodeableConcept", "valueSampledData", "valueRange",
         "valueRatio", "valueDateTime", "valuePeriod", "valueTime", "valueAttachment", "derivedFrom", "component",
         "dataAbsentReason")),
    (6, ("valueQuantity.unit", "valueSampledData.origin.unit")),
    (7, ("referenceRange",)),
    (8, ("interpretation", "meta.security")),
    (11, ("status",)),
    (4, ("device",)),
    (17, ("method",)),
    (20, ("bodySite",)),
)


@dataclass(frozen=True)
class Link:
    """One source position and the output element it became."""

    source: str  # "OBX[3]-5", "OBR[1]-7", "APDU 3 handle 1 attr 0x0A56", "(0040,A730)[2]..."
    offset: int | None  # byte offset of the segment/APDU/element, when known
    resource: str  # "Observation/<id>"
    element: str  # "valueQuantity", "effectiveDateTime" ...


def lineage(message: Message, resources: list[dict[str, Any]]) -> list[Link]:
    """Links from source positions to Observation elements, in metric order."""
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    links: list[Link] = []
    order_times = {id(o.observed): o.source.location for o in message.orders if o.observed and o.source}
    for metric, obs in zip(message.metrics, observations, strict=False):
        ref = f"Observation/{obs['id']}"
        offset = metric.source.offset if metric.source else None
        if message.standard == "hl7v2" and metric.source and metric.source.location.startswith("OBX"):
            links.extend(_hl7v2(metric, obs, ref, offset, order_times))
        else:
            where = metric.source.location if metric.source else "?"
            for element in _present(obs, ("code", "valueQuantity", "valueString", "valueCodeableConcept",
                                          "valueSampledData", "component", "dataAbsentReason", "effectiveDateTime")):
                links.append(Link(where, offset, ref, element))
    links.extend(_alarms(message, observations[len(message.metrics):]))
    if message.standard == "hl7v2":
        links.extend(_attachments(message, observations, resources))
        links.extend(_specimens(message, observations, resources))
        links.extend(_envelope(message, resources))
    return links


# PID/PV1/OBR/MRG field → the elements they feed (mappings.fhir.patient, encounter, diagnostic, merge)
_PID_ELEMENTS = ((3, ("identifier",)), (2, ("identifier",)), (5, ("name",)), (7, ("birthDate",)), (8, ("gender",)))
_PV1_ELEMENTS = ((19, ("identifier",)), (2, ("class",)), (3, ("location",)), (44, ("period.start", "actualPeriod.start")),
                 (45, ("period.end", "actualPeriod.end")))
_OBR_ELEMENTS = ((2, ("identifier",)), (3, ("identifier",)), (4, ("code",)), (7, ("effectiveDateTime",)),
                 (25, ("status",)))


def _envelope(message: Message, resources: list[dict[str, Any]]) -> list[Link]:
    """Patient (PID, MRG-1 → link), Encounter (PV1, MSH-9 trigger → status) and, for lab results, the
    ServiceRequest and DiagnosticReport of each OBR (ADT, lab ORU/OUL: messages without device metrics)."""
    links: list[Link] = []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    p = message.patient
    if p is not None and p.source is not None and by_type.get("Patient"):
        res = by_type["Patient"][0]
        ref, seg, offset = f"Patient/{res['id']}", p.source.location, p.source.offset
        links.extend(Link(f"{seg}-{n}", offset, ref, element)
                     for n, elements in _PID_ELEMENTS for element in _present(res, elements))
        if p.merged:
            for other in by_type["Patient"][1:]:
                links.extend(Link("MRG-1", None, f"Patient/{other['id']}", element)
                             for element in _present(other, ("identifier", "link", "active")))
            links.extend(Link("MRG-1", None, ref, element) for element in _present(res, ("link",)))
    e = message.encounter
    if e is not None and e.source is not None and by_type.get("Encounter"):
        res = by_type["Encounter"][0]
        ref, seg, offset = f"Encounter/{res['id']}", e.source.location, e.source.offset
        links.extend(Link(f"{seg}-{n}", offset, ref, element)
                     for n, elements in _PV1_ELEMENTS for element in _present(res, elements))
        links.extend(Link("MSH-9.2 (trigger event)", 0, ref, element) for element in _present(res, ("status",)))
    from interop.mappings.fhir.context import entry_url

    reports = by_type.get("DiagnosticReport", [])
    requests = {entry_url(r["id"]): r for r in by_type.get("ServiceRequest", [])}
    orders = [o for o in message.orders if o.kind == "order" and o.source is not None]
    for order, report in zip(orders, reports, strict=False):
        seg, offset = order.source.location, order.source.offset
        targets = [report]
        targets.extend(requests[b["reference"]] for b in report.get("basedOn", ()) if b["reference"] in requests)
        for res in targets:
            ref = f"{res['resourceType']}/{res['id']}"
            links.extend(Link(f"{seg}-{n}", offset, ref, element)
                         for n, elements in _OBR_ELEMENTS for element in _present(res, elements))
    return links


# SPM field → the Specimen elements it feeds (mappings.fhir.specimen; v2-to-FHIR IG SPM → Specimen)
_SPM_ELEMENTS = (
    (2, ("identifier",)), (3, ("parent",)), (4, ("type",)), (6, ("container",)), (7, ("collection.method",)),
    (8, ("collection.bodySite",)), (11, ("role", "extension")), (12, ("collection.quantity",)), (14, ("note",)),
    (17, ("collection.collectedDateTime", "collection.collectedPeriod")), (18, ("receivedTime",)),
    (20, ("status",)), (21, ("status", "note")), (24, ("condition",)), (27, ("container",)),
)


def _specimens(message: Message, observations: list[dict[str, Any]], resources: list[dict[str, Any]]) -> list[Link]:
    """SPM fields → Specimen elements; the SPM → Observation.specimen of the results read on it."""
    links: list[Link] = []
    specimens = [r for r in resources if r["resourceType"] == "Specimen"]
    for spec, res in zip(message.specimens, specimens, strict=False):
        if spec.source is None:
            continue
        seg, offset, ref = spec.source.location, spec.source.offset, f"Specimen/{res['id']}"
        links.extend(Link(f"{seg}-{n}", offset, ref, element)
                     for n, elements in _SPM_ELEMENTS for element in _present(res, elements))
    where = {s.key: s.source.location for s in message.specimens if s.source is not None}
    for metric, obs in zip(message.metrics, observations, strict=False):
        if metric.specimen in where and "specimen" in obs:
            links.append(Link(where[metric.specimen], metric.source.offset if metric.source else None,
                              f"Observation/{obs['id']}", "specimen"))
    return links


def _attachments(message: Message, observations: list[dict[str, Any]], resources: list[dict[str, Any]]) -> list[Link]:
    """OBX-5 of ED/RP rows in R4: the DocumentReference the Observation is derived from (its attachment),
    OBX-3 its type, OBX-14 its date (mappings.fhir.attachment)."""
    from interop.mappings.fhir.context import entry_url

    docs = {entry_url(r["id"]): r for r in resources if r["resourceType"] == "DocumentReference"}
    links: list[Link] = []
    for metric, obs in zip(message.metrics, observations, strict=False):
        if "derivedFrom" not in obs or metric.source is None:
            continue
        doc = next((docs[d["reference"]] for d in obs["derivedFrom"] if d.get("reference") in docs), None)
        if doc is None:
            continue
        seg, offset, ref = metric.source.location, metric.source.offset, f"DocumentReference/{doc['id']}"
        for source, elements in ((f"{seg}-5", ("content",)), (f"{seg}-3", ("type",)), (f"{seg}-14", ("date",))):
            links.extend(Link(source, offset, ref, element) for element in _present(doc, elements))
    return links


def _alarms(message: Message, observations: list[dict[str, Any]]) -> list[Link]:
    """PCD-04 alerts (mappings.fhir.alarm): OBR-3/29 → identifier, OBR-7/8 → effectivePeriod, the OBR's
    OBX facet group → code, valueString, interpretation and the attribute components."""
    links: list[Link] = []
    by_id = {o["id"]: o for o in observations}
    if not message.alarms or not by_id:
        return links
    from interop.mappings.fhir.alarm import resource_id

    for alarm in message.alarms:
        obs = by_id.get(resource_id(alarm, message))
        if obs is None or alarm.source is None:
            continue
        ref, seg, offset = f"Observation/{obs['id']}", alarm.source.location, alarm.source.offset
        facets = f"OBX facets {'.'.join(map(str, alarm.containment))}.n of {seg}"
        for source, elements in ((f"{seg}-3", ("identifier",)), (f"{seg}-29", ("identifier",) if alarm.parent else ()),
                                 (f"{seg}-7 or OBX-14", ("effectivePeriod.start",)), (f"{seg}-8 (-7 when the phase is end)", ("effectivePeriod.end",)),
                                 (f"{facets} (.1 event)", ("code", "valueString")), (f"{facets} OBX-8", ("interpretation",)),
                                 (f"{facets} (.2 source, .3+ attributes)", ("component",))):
            links.extend(Link(source, offset, ref, element) for element in _present(obs, elements))
    return links


def _present(obs: dict[str, Any], elements: tuple[str, ...]) -> list[str]:
    out = []
    for element in elements:
        node: Any = obs
        for part in element.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            out.append(element)
    return out


def _hl7v2(metric: Metric, obs: dict[str, Any], ref: str, offset: int | None,
           order_times: dict[int, str]) -> list[Link]:
    seg = metric.source.location  # "OBX[3]"
    links = [Link(f"{seg}-{n}", offset, ref, element)
             for n, elements in _OBX_ELEMENTS for element in _present(obs, elements)]
    if "effectiveDateTime" in obs and metric.effective is not None:
        # the decoder shares one Timestamp per time text, so a time equal to OBR-7 may have been
        # written in OBX-14 as well: both are then named (OBX-14 wins when present, else OBR-7)
        obr = order_times.get(id(metric.effective))
        links.append(Link(f"{seg}-14 or {obr}-7" if obr else f"{seg}-14", offset, ref, "effectiveDateTime"))
    return links
