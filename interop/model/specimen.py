"""Specimens: what a laboratory result was measured on (HL7 v2 SPM)."""

from __future__ import annotations

from .common import CodeableConcept, Frozen, Identifier, Quantity, SourceRef, Timestamp


class Specimen(Frozen, kw_only=True):
    """One specimen (v2 SPM; the v2-to-FHIR IG SPM → Specimen map)."""

    key: str  # unique within the message ("1", "2" ...: SPM order); metrics and orders refer to it
    identifiers: tuple[Identifier, ...] = ()  # SPM-2 placer (type PLAC) and filler (type FILL) ids
    parents: tuple[Identifier, ...] = ()  # SPM-3 parent specimen ids
    type: CodeableConcept | None = None  # SPM-4
    additives: tuple[CodeableConcept, ...] = ()  # SPM-6
    method: CodeableConcept | None = None  # SPM-7 collection method
    body_site: CodeableConcept | None = None  # SPM-8 source site
    body_site_modifiers: tuple[CodeableConcept, ...] = ()  # SPM-9
    roles: tuple[CodeableConcept, ...] = ()  # SPM-11 (HL7 table 0369: P patient, Q control ...)
    quantity: Quantity | None = None  # SPM-12 collection amount
    description: str | None = None  # SPM-14
    collected: Timestamp | None = None  # SPM-17.1 (start of the collection range)
    collected_end: Timestamp | None = None  # SPM-17.2
    received: Timestamp | None = None  # SPM-18
    available: bool | None = None  # SPM-20 (Y/N)
    reject_reasons: tuple[CodeableConcept, ...] = ()  # SPM-21
    conditions: tuple[CodeableConcept, ...] = ()  # SPM-24
    container_type: CodeableConcept | None = None  # SPM-27
    orders: tuple[str, ...] = ()  # keys (filler, else placer id) of the orders this specimen serves
    source: SourceRef | None = None  # lineage
