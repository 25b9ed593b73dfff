"""Canonical model pieces → FHIR datatype dicts (identical in R4 and R5 unless noted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from interop.memo import Memo
from interop.model import CodeableConcept, Coding, HumanName, Identifier, Quantity, Range, Timestamp
from interop.model.common import LOINC_SYSTEM, UCUM_SYSTEM

# HL7 PoCD IG CodeSystem reference-range-type (input/vocabulary/CodeSystem-reference-range-type.xml):
# IHE PCD-01 OBX-7 carries the alarm limits set on the device, typed as such.
REFERENCE_RANGE_TYPE = "http://hl7.org/fhir/uv/pocd/CodeSystem/reference-range-type"
ISO_4217 = "urn:iso:std:iso:4217"
ALARM_LIMITS = {"system": REFERENCE_RANGE_TYPE, "code": "alarm-limits", "display": "Alarm limits"}
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
V2_0203_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"


def fhir_code(code: str) -> str:
    """`code` as FHIR's code type allows it (regex [^\\s]+(\\s[^\\s]+)*): leading and trailing whitespace
    removed, each run of whitespace inside (tabs, double spaces, line breaks) one space."""
    return " ".join(code.split())


def coding(c: Coding) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if c.system:
        out["system"] = c.system
    if c.version:
        out["version"] = c.version
    code = fhir_code(c.code)  # a FHIR server refuses the resource otherwise (HTTP 400); see CodeFacts.respelled
    if code:
        out["code"] = code
    if c.display:
        out["display"] = c.display
    return out


def concept(cc: CodeableConcept) -> dict[str, Any]:
    """FHIR CodeableConcept: a fresh copy of the concept's cached fragment (see `code_facts`)."""
    return copy_concept(code_facts(cc).concept)


def copy_concept(frag: dict[str, Any]) -> dict[str, Any]:
    """A private copy of a CodeableConcept fragment (codings are flat dicts)."""
    out = frag.copy()
    if "coding" in frag:
        out["coding"] = [c.copy() for c in frag["coding"]]
    return out


def _concept(cc: CodeableConcept) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cc.codings:
        out["coding"] = [coding(c) for c in cc.codings]
    if cc.text:
        out["text"] = cc.text
    return out


class CodeFacts:
    """What the mappings derive from one code, computed once per code (see `code_facts`)."""

    __slots__ = ("source", "concept", "primary", "id_code", "loinc", "respelled")

    def __init__(self, cc: CodeableConcept) -> None:
        self.source = cc  # held so that the id() key of the cache cannot be reused while cached
        self.concept = _concept(cc)  # shared: callers copy it (`concept()`), never mutate it
        first = cc.codings[0] if cc.codings else None
        self.primary = f"{first.system}|{first.code}" if first else (cc.text or "")  # DeviceMetric key
        self.id_code = first.code if first else cc.text  # the code part of Observation ids
        self.loinc = next((c.code for c in cc.codings if c.system == LOINC_SYSTEM), None)
        # codes `coding` had to respell (whitespace FHIR's code type forbids): the mappings note them
        self.respelled = tuple(c.code for c in cc.codings if c.code and fhir_code(c.code) != c.code)


_CODE_FACTS = Memo(4096)  # id(CodeableConcept) -> CodeFacts


def code_facts(cc: CodeableConcept) -> CodeFacts:
    """The cached `CodeFacts` of a concept.

    Legitimate cache: codecs hand out one CodeableConcept object per distinct code (their own
    code caches), so the same object recurs in every message carrying that code. Keyed by
    identity (hashing a frozen pydantic model costs ~1 µs); the entry keeps the object alive.
    """
    facts = _CODE_FACTS.get(id(cc)) or _CODE_FACTS.recall(id(cc))
    if facts is None or facts.source is not cc:
        facts = _CODE_FACTS.put(id(cc), CodeFacts(cc))  # bounded: concepts made once per input (DICOM SR)
    return facts


def quantity(q: Quantity) -> dict[str, Any]:
    """FHIR Quantity: the value keeps its Decimal (serialised with its written precision)."""
    out: dict[str, Any] = {"value": q.value}
    if q.comparator:
        out["comparator"] = q.comparator
    if q.unit:
        out["unit"] = q.unit
        out["system"] = UCUM_SYSTEM
        out["code"] = q.unit
    elif q.unit_text:
        out["unit"] = q.unit_text
    elif q.unit_mdc is not None:
        out["unit"] = q.unit_mdc.display or q.unit_mdc.code
        if q.unit_mdc.system == ISO_4217:  # v2 MO/CP amounts: the currency is the code (codecs.hl7v2.values)
            out["system"] = ISO_4217
            out["code"] = q.unit_mdc.code
    return out


def range_(r: Range) -> dict[str, Any]:
    """FHIR Range (low/high as SimpleQuantity): a fresh copy of the range's cached fragment.

    Legitimate cache: codecs hand out one Range object per distinct alarm-limit / reference-range
    text and unit (they recur in every message of a device); keyed by identity like `code_facts`.
    """
    hit = _RANGES.get(id(r)) or _RANGES.recall(id(r))
    if hit is None or hit[0] is not r:
        hit = _RANGES.put(id(r), (r, _range(r)))
    return {k: v.copy() for k, v in hit[1].items()}  # low/high are flat dicts


_RANGES = Memo(4096)  # id(Range) -> (Range, FHIR Range fragment)


def _range(r: Range) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.low is not None:
        out["low"] = _simple_quantity(r.low)
    if r.high is not None:
        out["high"] = _simple_quantity(r.high)
    return out


def _simple_quantity(q: Quantity) -> dict[str, Any]:
    out = quantity(q)
    out.pop("comparator", None)  # SimpleQuantity forbids comparator
    return out


# Identifier types that are codes of THO v2-0203 but absent from the v2-to-FHIR concept map the
# terminology table is built from; and model types that are no v2-0203 code at all (written as text).
_EXTRA_0203 = {"FILL": "Filler Identifier", "PLAC": "Placer Identifier"}
_TYPE_TEXT = {"EUI-64": "EUI-64", "STUDYID": "Study ID"}  # STUDYID: DICOM (0020,0010)


def identifier_type(code: str) -> dict[str, Any]:
    """Identifier.type: a v2-0203 coding (with display) when the code is in that table, else text."""
    from interop.terminology import v2tables

    hit = v2tables.identifier_type(code)
    if hit is not None:
        return {"coding": [{"system": hit[0], "code": hit[1], "display": hit[2]}]}
    if code in _EXTRA_0203:
        return {"coding": [{"system": V2_0203_SYSTEM, "code": code, "display": _EXTRA_0203[code]}]}
    return {"text": _TYPE_TEXT.get(code, code)}


def identifier(i: Identifier) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if i.type:
        out["type"] = identifier_type(i.type)
    if i.system:
        out["system"] = i.system
    out["value"] = i.value
    if i.assigner:
        out["assigner"] = {"display": i.assigner}
    return out


def human_name(n: HumanName) -> dict[str, Any]:
    out: dict[str, Any] = {}
    use = _NAME_USE.get(n.use or "")
    if use:
        out["use"] = use
    if n.text:
        out["text"] = n.text
    if n.family:
        out["family"] = n.family
    if n.given:
        out["given"] = list(n.given)
    if n.prefix:
        out["prefix"] = [n.prefix]
    if n.suffix:
        out["suffix"] = [n.suffix]
    return out


# HL7 table 0200 name type → FHIR name-use (v2-to-FHIR IG ConceptMap "NameType")
_NAME_USE = {"L": "official", "D": "usual", "M": "maiden", "N": "nickname", "A": "anonymous", "C": "old",
             "B": "official", "U": "temp", "T": "temp", "P": "usual", "S": "anonymous"}


def date(ts: Timestamp) -> str:
    """FHIR date (year, year-month or full date) at the source precision."""
    v = ts.value
    if ts.precision == "year":
        return f"{v.year:04d}"
    if ts.precision == "month":
        return f"{v.year:04d}-{v.month:02d}"
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def forget() -> None:
    """Empty the memos of recurring codes, ranges and times."""
    _CODE_FACTS.forget()
    _RANGES.forget()


def date_time(ts: Timestamp, default_tz: timezone | None) -> tuple[str, bool]:
    """FHIR dateTime at the source precision; returns (text, zone_was_assumed).

    FHIR requires a zone whenever a time is given; a naive source time takes `default_tz`
    (v2: the sender's zone from MSH-7; otherwise the caller's --assume-tz; otherwise UTC).
    """
    if ts.precision in ("year", "month", "day"):
        return date(ts), False
    v = ts.value
    assumed = False
    if v.tzinfo is None:
        v = v.replace(tzinfo=default_tz or UTC)
        assumed = True
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if ts.precision == "millisecond":
        text += f".{v.microsecond // 1000:03d}"
    elif ts.precision == "microsecond":
        text += f".{v.microsecond:06d}"
    return text + _offset(v), assumed


def instant(v: datetime) -> str:
    """FHIR instant (seconds, zone required)."""
    last = _LAST_INSTANT[0]
    if last[0] is v:  # the Bundle timestamp and Provenance.recorded of one message: the same datetime
        return last[1]
    text = _instant(v)
    _LAST_INSTANT[0] = (v, text)  # holds v, so its identity cannot be reused while it is remembered
    return text


# the last datetime `instant` wrote and its text, as one tuple (replaced whole: safe across threads)
_LAST_INSTANT: list[tuple[datetime | None, str]] = [(None, "")]


def _instant(v: datetime) -> str:
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    if v.tzinfo is UTC:  # isoformat (C) writes the same digits; FHIR writes UTC as "Z" (Provenance.recorded: now)
        return v.isoformat(timespec="milliseconds" if v.microsecond else "seconds")[:-6] + "Z"
    off = v.utcoffset()
    if off is not None and not off.seconds % 60 and not off.microseconds:
        # datetime.isoformat (C) writes exactly this text for whole-minute offsets
        return v.isoformat(timespec="milliseconds" if v.microsecond else "seconds")
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if v.microsecond:
        text += f".{v.microsecond // 1000:03d}"
    return text + _offset(v)


def _offset(v: datetime) -> str:
    off = v.utcoffset() or timedelta(0)
    if off == timedelta(0):
        return "Z" if v.tzinfo is UTC else "+00:00"
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
