"""SPM (specimen, HL7 v2.5+ chapter 7) → `Specimen`, per the v2-to-FHIR IG SPM → Specimen map.

Where an SPM sits decides what it belongs to:
- ORU^R01, OUL^R24, OML ... (order first): `OBR, OBX*, SPM, OBX*`: the SPM is the specimen of the OBR
  before it; the OBXs right after it are observations about the specimen itself;
- OUL^R22 / OUL^R23 (specimen first): `SPM, OBX*, [SAC], OBR, OBX* ...`: the SPM is the specimen of
  every OBR after it, up to the next SPM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interop.model import CodeableConcept, Identifier, Quantity, SourceRef, Specimen, Timestamp

from . import datatypes as dt
from .tokenizer import components, repetitions, subcomponents, unescape

if TYPE_CHECKING:
    from .decoder import HL7v2Decoder
    from .tokenizer import Segment

# fields the reader places (the others, when valued, are reported as not placed)
PLACED_SPM_FIELDS = frozenset({1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 14, 17, 18, 20, 21, 24, 27})
SPECIMEN_FIRST = ("OUL^R22", "OUL^R23")  # message types whose SPECIMEN group comes before its ORDERs


def specimen_first(message_type: str | None) -> bool:
    return bool(message_type) and message_type.startswith(SPECIMEN_FIRST)


def read(dec: HL7v2Decoder, seg: Segment, key: str) -> Specimen:
    """One SPM → Specimen (without its orders: the decoder links them); findings in `dec.issues`."""
    d = dec.d
    dec._unplaced(seg, PLACED_SPM_FIELDS)
    identifiers = []
    eip = components(seg.get(2), d)
    for i, kind in ((0, "PLAC"), (1, "FILL")):
        ident = _ei(eip[i], d) if len(eip) > i else None
        if ident is not None:
            identifiers.append(Identifier(value=ident.value, system=ident.system, type=kind, assigner=ident.assigner))
    parents = []
    for rep in repetitions(seg.get(3), d):
        c = components(rep, d)
        ident = _ei(c[0], d) or (_ei(c[1], d) if len(c) > 1 else None)  # the IG maps one of the two
        if ident is not None:
            parents.append(ident)
    collected = collected_end = None
    dr = seg.get(17)
    if dr.strip():
        c = components(dr, d)
        collected = _ts(dec, seg, 17, c[0])
        collected_end = _ts(dec, seg, 17, c[1]) if len(c) > 1 else None
    available = seg.get(20).strip().upper()
    if available and available not in ("Y", "N"):
        dec.tolerate(seg, 20, "hl7v2.bad-value", f"SPM-20 specimen availability {available!r} is not Y or N; not read",
                     expected="Y or N (HL7 table 0136)")
    if not seg.get(4).strip():
        dec.tolerate(seg, 4, "hl7v2.missing-field", "SPM-4 specimen type is empty",
                     expected="a specimen type (HL7 table 0487 or SNOMED CT)")
    return Specimen(
        key=key, identifiers=tuple(identifiers), parents=tuple(parents), type=dt.parse_cwe(seg.get(4), d),
        additives=_cwes(seg.get(6), d), method=dt.parse_cwe(seg.get(7), d), body_site=dt.parse_cwe(seg.get(8), d),
        body_site_modifiers=_cwes(seg.get(9), d), roles=_cwes(seg.get(11), d), quantity=_cq(dec, seg, 12),
        description=_text(seg.get(14), d), collected=collected, collected_end=collected_end,
        received=_ts(dec, seg, 18, components(seg.get(18), d)[0]),
        available=True if available == "Y" else False if available == "N" else None,
        reject_reasons=_cwes(seg.get(21), d), conditions=_cwes(seg.get(24), d),
        container_type=dt.parse_cwe(seg.get(27), d), source=SourceRef(location=seg.where(), offset=seg.offset))


def _ei(raw: str, d) -> Identifier | None:
    """An EI written as subcomponents inside a component (EIP.1/EIP.2: entity&namespace&universal id&type)."""
    if not raw.strip():
        return None
    return dt.parse_ei(d.component.join(subcomponents(raw, d)), d)


def _cwes(raw: str, d) -> tuple[CodeableConcept, ...]:
    return tuple(c for c in (dt.parse_cwe(r, d) for r in repetitions(raw, d) if r.strip()) if c is not None)


def _text(raw: str, d) -> str | None:
    text = "\n".join(unescape(r, d) for r in repetitions(raw, d)).strip()
    return text or None


def _ts(dec: HL7v2Decoder, seg: Segment, n: int, raw: str) -> Timestamp | None:
    """A DTM (or v2.5 TS: time&degree of precision) inside a component."""
    text = subcomponents(raw, dec.d)[0].strip()
    if not text or text == dt.NULL:
        return None
    return dec.dtm(seg, n, text)


def _cq(dec: HL7v2Decoder, seg: Segment, n: int) -> Quantity | None:
    """CQ (quantity ^ units as CWE subcomponents) → Quantity (UCUM when the units say so)."""
    raw = seg.get(n)
    if not raw.strip():
        return None
    d = dec.d
    c = components(raw, d)
    try:
        value = dt.parse_nm(c[0])
    except ValueError as exc:
        dec.tolerate(seg, n, "hl7v2.bad-value", f"SPM-{n} quantity: {exc}; not read", expected="an NM quantity")
        return None
    unit = subcomponents(c[1], d) if len(c) > 1 else [""]
    code = unescape(unit[0], d).strip()
    system = unit[2].strip().upper() if len(unit) > 2 else ""
    if system in ("UCUM", "ANS+"):
        return Quantity(value=value, unit=code or None)
    text = code or (unescape(unit[1], d).strip() if len(unit) > 1 else "")
    return Quantity(value=value, unit_text=text or None)
