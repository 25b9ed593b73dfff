"""Laboratory results (HL7 v2 ORU^R01 / OUL^R22 OBR groups) → ServiceRequest + DiagnosticReport, per the
HL7 v2-to-FHIR IG (OBR → ServiceRequest and DiagnosticReport, OBX → Observation in `result`).

Device messages (IHE PCD, PHD gateways) are left alone: the PoCD and PHD IGs report device data as
Observations without a DiagnosticReport. The Observations themselves come from `observation`.
"""

from __future__ import annotations

from typing import Any

from interop.model import MDC_SYSTEM, Message

from . import datatypes as fd
from .context import FhirContext, stable_id
from .specimen import references as specimen_references

# HL7 table 0123 (result status, OBR-25) → DiagnosticReport.status (v2-to-FHIR IG ConceptMap)
REPORT_STATUS = {"O": "registered", "I": "registered", "S": "registered", "A": "partial", "P": "preliminary",
                 "C": "corrected", "R": "partial", "F": "final", "X": "cancelled", "Y": "final", "Z": "final"}


def is_device_message(message: Message) -> bool:
    return bool(message.devices or message.gateway or message.alarms
                or any(p.startswith("IHE_PCD") for p in message.profiles)
                or any(m.code.code_in(MDC_SYSTEM) for m in message.metrics))


def build(message: Message, ctx: FhirContext) -> None:
    if message.standard != "hl7v2" or not message.orders:
        return
    if is_device_message(message):
        for order in message.orders:  # an OBR comment read before the message showed itself a device message
            if order.notes:
                ctx.note("hl7v2.note-not-placed", order.source.location if order.source else "OBR",
                         f"{len(order.notes)} NTE after the OBR of a device message: no ServiceRequest to hold it",
                         "info")
        return
    refs = ctx.observation_refs
    sender = (message.sending.application or "") if message.sending else ""
    for n, order in enumerate(message.orders, 1):
        if order.kind != "order":
            continue
        key = order.filler_id or order.placer_id
        identity = (sender, order.filler_id, order.placer_id) if key else (message.control_id, n)
        results = [ctx.reference(ref) for m, ref in zip(message.metrics, refs, strict=False)
                   if key is not None and m.group == key]
        status = REPORT_STATUS.get((order.status or "F").upper(), "unknown")
        code = fd.concept(order.code) if order.code is not None else {"text": "laboratory result"}
        identifiers = []
        if order.placer_id:
            identifiers.append({"type": fd.identifier_type("PLAC"), "value": order.placer_id})
        if order.filler_id:
            identifiers.append({"type": fd.identifier_type("FILL"), "value": order.filler_id})
        request: dict[str, Any] = {"resourceType": "ServiceRequest", "id": stable_id("ServiceRequest", *identity)}
        if identifiers:
            request["identifier"] = identifiers
        request["status"] = "completed" if status in ("final", "corrected") else "active"
        request["intent"] = "order"
        request["code"] = fd.concept(order.code) if order.code is not None else {"text": "laboratory result"}
        subject = ctx.reference(ctx.patient_ref) if ctx.patient_ref else None
        if subject:
            request["subject"] = subject
        if ctx.encounter_ref:
            request["encounter"] = ctx.reference(ctx.encounter_ref)
        specimens = specimen_references(message, ctx, key)  # v2 SPM of this OBR (mappings.fhir.specimen)
        if specimens:
            request["specimen"] = specimens
        if order.notes:  # v2-to-FHIR IG ConceptMap segment-nte-to-servicerequest: NTE-3 → note.text
            request["note"] = [{"text": text} for text in order.notes]
        if ctx.r5 and request["code"]:
            request["code"] = {"concept": request["code"]}  # R5 ServiceRequest.code is a CodeableReference
        if not subject:
            ctx.note("fhir.service-request-subject", order.source.location if order.source else "OBR",
                     "no PID: ServiceRequest.subject is required; no ServiceRequest made"
                     + (f" (its {len(order.notes)} NTE not placed)" if order.notes else ""), "info")
            request_ref = None
        else:
            request_ref = ctx.add(request)
        report: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": stable_id("DiagnosticReport", *identity)}
        if identifiers:
            report["identifier"] = [dict(i) for i in identifiers]
        if request_ref:
            report["basedOn"] = [ctx.reference(request_ref)]
        report["status"] = status
        report["code"] = code
        if subject:
            report["subject"] = subject
        if ctx.encounter_ref:
            report["encounter"] = ctx.reference(ctx.encounter_ref)
        if order.observed is not None:
            report["effectiveDateTime"] = fd.date_time(order.observed, _zone(message))[0]
        if specimens:
            report["specimen"] = [dict(r) for r in specimens]
        if results:
            report["result"] = results
        ctx.add(report)


def _zone(message: Message):
    from .observation import sender_zone

    return sender_zone(message.standard, message.sent)
