"""OBX-5 values of the rarer OBX-2 types (HL7 table 0125, v2.5-v2.8) -> canonical metric values.

The everyday types (NM, ST/TX/FT, CWE/CE/CNE/CF, SN, NA, ED/RP, DT/DTM/TS, TM) are read inline by the
decoder (codecs.hl7v2.decoder._value: the hot path); this module reads the others, following the HL7
v2-to-FHIR IG map "OBX[Observation]" (OBX-5 rows) where it speaks:

- IS -> CodeableConcept (IG: IS[CodeableConcept]); ID read the same way (IG silent; an ID value is a code
  from an HL7 table, like IS from a user table). OBX names no table, so the coding has a code and no system.
- DR -> Period (IG: DR[Period]), each end may be open.

and deciding where it is silent (every decision below keeps the whole value, none is dropped):

- MO (money) -> Quantity with the ISO 4217 currency as its code (FHIR Money is not an Observation value
  type; a Quantity with system urn:iso:std:iso:4217 is how FHIR writes an amount there).
- CP (composite price) -> the same Quantity from CP.1 (price ^ currency); CP.2-CP.6 (price type, range,
  range units) have no place in a Quantity and are reported, not dropped silently.
- MA (multiplexed array: components = channels, repetitions = samples) -> SampledData with one dimension
  per channel, samples interleaved (FHIR SampledData's own layout).
- PN/XPN, CN/XCN, XON, AD/XAD, TN/XTN, CX/CK -> valueString formatted the way a person reads it ("Dr John
  Q Smith Jr", "Smith John (12345)", "1 Main St, Springfield, IL 62701, USA", "+1 (555) 123-4567 ext. 89",
  "12345 (HOSP, MR)"); repetitions joined by newlines like ST. FHIR R4/R5 Observation.value[x] has no
  HumanName/Address/ContactPoint/Identifier choice, and a formatted string is what the IG does for the
  composite types it does map to text (SN "<>"/"+", VR).
- PL (not in table 0125; IHE PCD MEMLS reports a device's location as OBX-2 PL, e.g. Smiths Medical pumps with
  GuardRFID tags) -> valueString from the widest place to the narrowest, as Encounter locations are written:
  facility / building / floor / point of care / room / bed / description ("Fraser Health / North Building /
  Main Floor / Nurse Station").
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from interop.model import (
    CodeableConcept,
    CodedValue,
    Coding,
    NumericValue,
    PeriodValue,
    Quantity,
    SampleArrayValue,
    StringValue,
)

from . import datatypes as dt
from .tokenizer import components, repetitions, unescape

if TYPE_CHECKING:
    from .tokenizer import Segment

ISO_4217 = "urn:iso:std:iso:4217"
CODE_TYPES = frozenset({"IS", "ID"})
TEXT_TYPES = frozenset({"PN", "XPN", "CN", "XCN", "XON", "AD", "XAD", "TN", "XTN", "CX", "CK", "PL"})
RARE_TYPES = CODE_TYPES | TEXT_TYPES | {"DR", "MA", "MO", "CP"}


def read(dec, seg: Segment, vtype: str, raw: str):
    """OBX-5 of a type in RARE_TYPES -> (MetricValue | None, absent reason | None); ValueError on bad input."""
    d = dec.d
    if vtype in TEXT_TYPES:
        fmt = _FORMATS[vtype]
        parts = [fmt([unescape(c.split(d.subcomponent)[0], d) for c in components(r, d)], d)
                 for r in repetitions(raw, d)]
        text = "\n".join(p for p in parts if p)
        return (StringValue(text=text), None) if text else (None, "unknown")
    reps = repetitions(raw.strip(), d)
    if vtype == "MA":
        return _ma(dec, seg, reps), None
    if len(reps) > 1:
        dec.tolerate(seg, 5, "hl7v2.repeated-value", f"{vtype} value repeats; only the first is read")
    first = reps[0]
    if vtype in CODE_TYPES:
        code = unescape(first, d).strip()
        return CodedValue(concept=CodeableConcept(codings=(Coding(code=code),))), None
    if vtype == "DR":
        return _dr(dec, seg, first), None
    if vtype == "MO":
        return NumericValue(quantity=_money(components(first, d)[:2])), None
    # CP: price (MO as subcomponents amount&currency) ^ price type ^ from ^ to ^ range units ^ range type
    comps = components(first, d)
    price = comps[0].split(d.subcomponent)
    if any(c.strip() for c in comps[1:]):
        dec.tolerate(seg, 5, "hl7v2.value-part-unmapped", "CP price type and range (CP.2-CP.6) have no place in "
                     "a FHIR Quantity; only the price (CP.1) is mapped", severity="info")
    return NumericValue(quantity=_money(price)), None


def _money(parts: list[str]) -> Quantity:
    """MO (quantity ^ denomination) -> Quantity in the ISO 4217 currency."""
    amount = parts[0].strip() if parts else ""
    if not amount:
        raise ValueError("MO has no quantity (MO.1)")
    value = dt.parse_nm(amount)
    currency = parts[1].strip().upper() if len(parts) > 1 else ""
    if not currency:
        return Quantity(value=value)
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise ValueError(f"MO denomination {currency!r} is not an ISO 4217 currency code")
    return Quantity(value=value, unit_mdc=Coding(system=ISO_4217, code=currency, display=currency))


def _dr(dec, seg: Segment, text: str) -> PeriodValue | None:
    """DR (range start DTM ^ range end DTM; v2.3 TS with &precision subcomponents)."""
    c = components(text, dec.d) + ["", ""]
    ends = []
    for part in c[:2]:
        part = part.split(dec.d.subcomponent)[0].strip()
        if not part:
            ends.append(None)
            continue
        stamp = dt.parse_dtm(part)  # ValueError -> the decoder reports the bad value with its position
        ends.append(stamp)
    if ends[0] is None and ends[1] is None:
        raise ValueError("DR has neither a range start nor a range end")
    return PeriodValue(start=ends[0], end=ends[1])


def _ma(dec, seg: Segment, reps: list[str]) -> SampleArrayValue:
    """MA: channel 1 ^ channel 2 ^ ... per sample, one repetition per sample -> interleaved samples."""
    rows: list[list[Decimal]] = []
    width = 0
    skipped = 0
    for rep in reps:
        parts = [p.strip() for p in components(rep, dec.d)]
        if not any(parts):
            continue
        try:
            row = [dt.parse_nm(p) for p in parts]
        except ValueError:
            skipped += 1
            continue
        if not width:
            width = len(row)
        if len(row) != width:
            skipped += 1
            continue
        rows.append(row)
    if not rows:
        raise ValueError("MA has no sample with a number for every channel")
    if skipped:
        dec.tolerate(seg, 5, "hl7v2.bad-sample", f"{skipped} of {skipped + len(rows)} MA samples are not numeric "
                     f"or do not have {width} channels and were skipped", expected="numeric components")
    ucum, mdc, utext = dec._unit(seg)
    origin = Quantity(value=Decimal(0), unit=ucum, unit_mdc=mdc, unit_text=utext)
    return SampleArrayValue(samples=tuple(s for row in rows for s in row), origin=origin, dimensions=width)


# -- display formats of the composite types (first subcomponent of each component, unescaped) --------------------------------

def _c(c: list[str], i: int, d) -> str:
    """Component i (1-based; its first subcomponent, unescaped), stripped."""
    return c[i - 1].strip() if len(c) >= i else ""


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def _person(c: list[str], first: int, d) -> str:
    """family ^ given ^ middle ^ suffix ^ prefix ^ degree starting at component `first`."""
    family, given, middle, suffix, prefix, degree = (_c(c, first + i, d) for i in range(6))
    return _join(prefix, given, middle, family, suffix, degree)


def _xpn(c: list[str], d) -> str:  # PN and XPN: family ^ given ^ middle ^ suffix ^ prefix ^ degree
    return _person(c, 1, d)


def _xcn(c: list[str], d) -> str:  # CN and XCN: id ^ family ^ given ^ middle ^ suffix ^ prefix ^ degree ...
    name, ident = _person(c, 2, d), _c(c, 1, d)
    return f"{name} ({ident})" if name and ident else name or ident


def _xon(c: list[str], d) -> str:  # name ^ type ^ id (<= v2.4) ^ ... ^ organization identifier (XON.10)
    name, ident = _c(c, 1, d), _c(c, 10, d) or _c(c, 3, d)
    return f"{name} ({ident})" if name and ident else name or ident


def _xad(c: list[str], d) -> str:  # street ^ other ^ city ^ state ^ zip ^ country ^ type ...
    place = _join(_c(c, 4, d), _c(c, 5, d))
    return _join(_c(c, 1, d), _c(c, 2, d), _join(_c(c, 3, d), place, sep=", "), _c(c, 6, d), sep=", ")


def _xtn(c: list[str], d) -> str:  # [old number] ^ use ^ equipment ^ email ^ country ^ area ^ local ^ ext ...
    if _c(c, 4, d):
        return _c(c, 4, d)
    local = _c(c, 7, d)
    if local:
        country, area, ext = _c(c, 5, d), _c(c, 6, d), _c(c, 8, d)
        return _join(f"+{country}" if country else "", f"({area})" if area else "", local,
                     f"ext. {ext}" if ext else "")
    return _c(c, 1, d) or _c(c, 12, d)  # XTN.1 (TN text, deprecated) or XTN.12 unformatted number


def _tn(c: list[str], d) -> str:  # TN is one string: "(555)555-1234X12B..." kept as sent
    return "^".join(c).strip()


def _cx(c: list[str], d) -> str:  # CX: id ^ check digit ^ scheme ^ authority ^ id type; CK: id ^ cd ^ scheme ^ authority
    ident = _c(c, 1, d)
    qualifier = _join(_c(c, 4, d), _c(c, 5, d), sep=", ")
    return f"{ident} ({qualifier})" if ident and qualifier else ident


def _pl(c: list[str], d) -> str:  # PL: point of care ^ room ^ bed ^ facility ^ status ^ type ^ building ^ floor ^ description
    return _join(_c(c, 4, d), _c(c, 7, d), _c(c, 8, d), _c(c, 1, d), _c(c, 2, d), _c(c, 3, d), _c(c, 9, d), sep=" / ")


_FORMATS = {"PN": _xpn, "XPN": _xpn, "CN": _xcn, "XCN": _xcn, "XON": _xon, "AD": _xad, "XAD": _xad,
            "TN": _tn, "XTN": _xtn, "CX": _cx, "CK": _cx, "PL": _pl}
