"""Specimens (v2 SPM) → FHIR Specimen, per the HL7 v2-to-FHIR IG ConceptMap "segment-spm-to-specimen".

| SPM | Specimen (R4) | R5 difference |
|---|---|---|
| SPM-2 placer / filler id | identifier (type PLAC / FILL, v2-0203) | |
| SPM-3 parent ids | parent (a logical reference by identifier; the IG maps one of EIP's two ids) | |
| SPM-4 type | type | |
| SPM-6 additives | container.additiveCodeableConcept | not expressible (R5 additives are Substance references): noted |
| SPM-7 collection method | collection.method | |
| SPM-8 source site | collection.bodySite | collection.bodySite is a CodeableReference (`concept`) |
| SPM-11 role | extension `http://hl7.org/fhir/5.0/StructureDefinition/extension-Specimen.role` | role |
| SPM-12 collection amount | collection.quantity | |
| SPM-14 description | note | |
| SPM-17 collection date/time range | collection.collectedDateTime (one time) / collectedPeriod (start^end) | |
| SPM-18 received | receivedTime | |
| SPM-20 availability Y / N | status available / unavailable | |
| SPM-21 reject reason | status unsatisfactory, reason in note | |
| SPM-24 condition | condition | |
| SPM-27 container type | container.type | not expressible (R5 container needs a Device): noted |

Observations read on a specimen point at it (`Observation.specimen`), and so do the DiagnosticReport and
ServiceRequest of its orders (`mappings.fhir.diagnostic`).
"""

from __future__ import annotations

from typing import Any

from interop.model import Message, Specimen

from . import datatypes as fd
from .context import FhirContext, stable_id

ROLE_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Specimen.role"


def build(message: Message, ctx: FhirContext) -> None:
    if not message.specimens:
        return
    sender = (message.sending.application or "") if message.sending else ""
    digest = message.raw.sha256 if message.raw else message.control_id
    made: dict[str, tuple[dict[str, Any], str]] = {}
    for s in message.specimens:
        res = specimen(s, ctx, sender, digest)
        again = made.get(res["id"])
        if again is not None and again[0] == res:
            # the same specimen sent again in the next OBR group (FHIR-Converter LAB-ORU-2: an identical SPM
            # with SPM-2 'SpecimenID' after each OBR): one resource, both orders reference it
            ctx.specimen_refs[s.key] = again[1]
            continue
        ref = ctx.add(res)  # a different Specimen with the same id is left to the Bundle's bdl-7 check
        made[res["id"]] = (res, ref)
        ctx.specimen_refs[s.key] = ref


def specimen(s: Specimen, ctx: FhirContext, sender: str, digest: str | None) -> dict[str, Any]:
    ids = tuple(f"{i.type}:{i.assigner or ''}:{i.value}" for i in s.identifiers)
    rid = stable_id("Specimen", sender, *ids) if ids else stable_id("Specimen", digest, s.key)
    res: dict[str, Any] = {"resourceType": "Specimen", "id": rid}
    where = s.source.location if s.source else "SPM"
    if s.roles and not ctx.r5:
        res["extension"] = [{"url": ROLE_EXTENSION, "valueCodeableConcept": fd.concept(r)} for r in s.roles]
    if s.identifiers:
        res["identifier"] = [fd.identifier(i) for i in s.identifiers]
    if s.reject_reasons:
        res["status"] = "unsatisfactory"
    elif s.available is not None:
        res["status"] = "available" if s.available else "unavailable"
    if s.type is not None:
        res["type"] = fd.concept(s.type)
    if ctx.patient_ref:
        res["subject"] = ctx.reference(ctx.patient_ref)
    if s.received is not None:
        res["receivedTime"] = _time(s.received, ctx)
    if s.parents:
        res["parent"] = [{"identifier": fd.identifier(p)} for p in s.parents]
    if s.roles and ctx.r5:
        res["role"] = [fd.concept(r) for r in s.roles]
    collection: dict[str, Any] = {}
    if s.collected is not None:
        if s.collected_end is not None:
            collection["collectedPeriod"] = {"start": _time(s.collected, ctx), "end": _time(s.collected_end, ctx)}
        else:
            collection["collectedDateTime"] = _time(s.collected, ctx)
    if s.quantity is not None:
        collection["quantity"] = fd.quantity(s.quantity)
        collection["quantity"].pop("comparator", None)
    if s.method is not None:
        collection["method"] = fd.concept(s.method)
    if s.body_site is not None:
        site = fd.concept(s.body_site)
        collection["bodySite"] = {"concept": site} if ctx.r5 else site
    if s.body_site_modifiers:
        ctx.note("fhir.not-expressible", f"{where}-9", "SPM-9 source site modifier has no Specimen element; "
                 "not mapped", "info")
    if collection:
        res["collection"] = collection
    if s.additives or s.container_type is not None:
        if ctx.r5:
            ctx.note("fhir.not-expressible", f"{where}-6/27", "R5 Specimen.container needs a Device and additives "
                     "are Substance references: SPM-6 additives and SPM-27 container type not mapped", "info")
        else:
            container: dict[str, Any] = {}
            if s.container_type is not None:
                container["type"] = fd.concept(s.container_type)
            if s.additives:
                container["additiveCodeableConcept"] = fd.concept(s.additives[0])
                if len(s.additives) > 1:
                    ctx.note("fhir.not-expressible", f"{where}-6", f"R4 Specimen.container holds one additive; "
                             f"{len(s.additives) - 1} more not mapped", "info")
            res["container"] = [container]
    if s.conditions:
        res["condition"] = [fd.concept(c) for c in s.conditions]
    notes = []
    if s.description:
        notes.append({"text": s.description})
    for r in s.reject_reasons:
        notes.append({"text": "rejected: " + (r.text or next((c.display or c.code for c in r.codings), ""))})
    if notes:
        res["note"] = notes
    return res


def _time(ts, ctx: FhirContext) -> str:
    from .observation import default_zone

    return fd.date_time(ts, default_zone(ctx.message, ctx))[0]


def references(message: Message, ctx: FhirContext, order_key: str | None) -> list[dict[str, str]]:
    """References to the Specimens of the order with `order_key` (for DiagnosticReport/ServiceRequest)."""
    if not order_key or not message.specimens:
        return []
    return [ctx.reference(ctx.specimen_refs[s.key]) for s in message.specimens
            if order_key in s.orders and s.key in ctx.specimen_refs]
