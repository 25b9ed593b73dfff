"""Patient merges (HL7 v2 ADT A40 and other MRG events) → Patient.link, per the v2-to-FHIR IG: the
surviving Patient (PID) `replaces` each merged record (MRG-1), and each merged record is a Patient
with `active` false and a `replaced-by` link to the survivor. Both are written with the ids the
`patient` builder gives an identified patient, so a transaction Bundle updates the records a server
already holds."""

from __future__ import annotations

from interop.model import Message

from . import datatypes as fd
from .context import FhirContext, stable_id


def build(message: Message, ctx: FhirContext) -> None:
    p = message.patient
    if p is None or not p.merged or ctx.patient_ref is None:
        return
    survivor = next((e for e in ctx.entries if f"{e['resource']['resourceType']}/{e['resource']['id']}"
                     == ctx.patient_ref), None)
    if survivor is None:
        return
    links = []
    for ident in p.merged:
        old = {"resourceType": "Patient", "id": stable_id("Patient", ident.system or ident.assigner, ident.value,
                                                           ident.type),
               "identifier": [fd.identifier(ident)], "active": False,
               "link": [{"other": ctx.reference(ctx.patient_ref), "type": "replaced-by"}]}
        ref = ctx.add(old)
        links.append({"other": ctx.reference(ref), "type": "replaces"})
    own = dict(survivor["resource"])  # a private copy: the shared Patient recurs in other Bundles
    own["link"] = links
    survivor["resource"] = own
