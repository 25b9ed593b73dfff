"""Building blocks shared by every part of the canonical model.

Every model class is a frozen msgspec Struct (DESIGN.md, "Canonical model"): built with keyword
arguments only, never validated on construction (a Struct costs about as much as a tuple: 0.1–0.3 µs
where pydantic's validating constructor cost 1–5 µs), compared with `==`, hashable, copied with a
change by `replace(obj, field=...)`. Codecs own the types of what they put in (tuples, not lists;
`Decimal`; literals from the field's set); tests/core/test_model.py checks every codec's output with a
validating JSON round trip. Validation happens where JSON comes in (`from_json`). Codecs cache
immutable pieces (codings of a code, units, timestamps) because they are shared freely.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

MDC_SYSTEM = "urn:iso:std:iso:11073:10101"
"""Code system URI of IEEE 11073-10101 nomenclature (MDC)."""
UCUM_SYSTEM = "http://unitsofmeasure.org"
LOINC_SYSTEM = "http://loinc.org"
SNOMED_SYSTEM = "http://snomed.info/sct"
DCM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
"""IEEE EUI-64 identifier system as used by the PHD and PoCD IGs."""


class Frozen(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True,
             gc=False):
    """Base for every canonical model class: immutable, keyword-only, no unknown fields (on decode).

    `gc=False`: frozen trees of Structs, tuples and scalars hold no reference cycles, so the garbage
    collector need not track them (cheaper to build, no GC passes over a feed's objects). JSON omits
    fields left at their default (None, (), the stated default)."""


class Coding(Frozen, kw_only=True):
    """One code from one code system (FHIR Coding semantics)."""

    system: str | None = None  # code system URI (MDC_SYSTEM, LOINC_SYSTEM ...); None for local codes
    code: str  # the code as the system writes it (MDC: decimal context-free code, e.g. "150456")
    display: str | None = None  # human text or MDC reference id (e.g. "MDC_PULS_OXIM_SAT_O2")
    version: str | None = None  # code system version when the source states it


class CodeableConcept(Frozen, kw_only=True):
    """A concept with one or more codings (the first is the source's own) and optional text."""

    codings: tuple[Coding, ...] = ()  # source coding first, then translations (LOINC, SNOMED)
    text: str | None = None  # original text from the source when it differs from displays

    def code_in(self, system: str) -> str | None:
        """The code from `system`, or None."""
        for c in self.codings:
            if c.system == system:
                return c.code
        return None


class Identifier(Frozen, kw_only=True):
    """An identifier with the system that issued it."""

    value: str  # the identifier itself
    system: str | None = None  # URI of the assigning system (EUI64_SYSTEM, urn:oid:..., v2 authority)
    type: str | None = None  # kind from v2 table 0203 or similar: "MR", "VN", "EUI-64", "SNO", "UDI"
    assigner: str | None = None  # assigning authority/facility as written in the source


class SourceRef(Frozen, kw_only=True):
    """Where in the input a model element came from (lineage for `interop explain`)."""

    location: str  # standard's own position: "OBX[3].5", "APDU handle 1 attr 0x0A56", "(0018,1020)"
    offset: int | None = None  # byte offset in the raw input, when known


TimePrecision = Literal["year", "month", "day", "hour", "minute", "second", "millisecond", "microsecond"]


class Timestamp(Frozen, kw_only=True):
    """A point in time with the precision and zone knowledge the source actually had."""

    value: datetime  # aware when the source gave an offset, naive otherwise
    precision: TimePrecision = "second"  # finest unit the source stated
    raw: str | None = None  # the source text (v2 DTM, DICOM DA+TM, 20601 BCD as hex) for lineage

    @property
    def has_zone(self) -> bool:
        """True when the source stated a UTC offset."""
        return self.value.tzinfo is not None


class Quantity(Frozen, kw_only=True):
    """A numeric value in a unit; `value` keeps the source precision (Decimal("76.30") stays 76.30)."""

    value: Decimal  # exact source value, precision preserved
    comparator: str | None = None  # "<", "<=", ">=", ">" when the source qualified the value (v2 SN)
    unit: str | None = None  # UCUM code ("mm[Hg]", "/min", "%"); None when the unit has no UCUM form
    unit_mdc: Coding | None = None  # MDC unit code (MDC_DIM_...) when the source gave one; for an amount
    # (v2 OBX-2 MO/CP) the ISO 4217 currency (system urn:iso:std:iso:4217)
    unit_text: str | None = None  # unit as written in the source, when neither form fits


class Range(Frozen, kw_only=True):
    """A low/high interval (reference range, alarm limits)."""

    low: Quantity | None = None  # inclusive lower bound
    high: Quantity | None = None  # inclusive upper bound
    text: str | None = None  # the source text (v2 OBX-7 "50-120", "<5")


class Issue(Frozen, kw_only=True):
    """A non-fatal finding while decoding or mapping: a tolerated deviation or unplaced input."""

    severity: Literal["error", "warning", "info"]  # error = input violates the standard
    code: str  # stable machine id, e.g. "hl7v2.blank-line", "x73.unknown-attribute"
    location: str  # position in the standard's terms (segment/field, byte offset, DICOM tag)
    message: str  # one human sentence, never patient data
    offset: int | None = None  # byte offset, when known
