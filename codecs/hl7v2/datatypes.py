"""HL7 v2 data types (chapter 2A) → canonical model pieces: DTM, NM, CWE, CX, XPN, EI, HD, PL, SN.

Each reader takes the raw field/repetition text plus the delimiters and returns a model object or
None; a malformed value raises `ValueError` with a short reason, which the decoder turns into an
`Issue` (tolerant) or a `DecodeError` (strict) naming the segment and field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from interop.model import (
    EUI64_SYSTEM,
    LOINC_SYSTEM,
    MDC_SYSTEM,
    SNOMED_SYSTEM,
    UCUM_SYSTEM,
    Address,
    CodeableConcept,
    Coding,
    HumanName,
    Identifier,
    Location,
    Timestamp,
)

from .tokenizer import Delimiters, components, subcomponents, unescape

NULL = '""'  # HL7 explicit null: "delete the value"


# HL7 table 0396 coding-system names → FHIR system URIs (v2-to-FHIR IG, "Coding System" map).
CODING_SYSTEMS = {
    "MDC": MDC_SYSTEM,
    "LN": LOINC_SYSTEM,
    "LOINC": LOINC_SYSTEM,
    "SCT": SNOMED_SYSTEM,
    "SNM": SNOMED_SYSTEM,
    "SNOMED": SNOMED_SYSTEM,
    "SNM3": SNOMED_SYSTEM,
    "UCUM": UCUM_SYSTEM,
    "ANS+": UCUM_SYSTEM,
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "I10C": "http://hl7.org/fhir/sid/icd-10-cm",
    "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "NDC": "http://hl7.org/fhir/sid/ndc",
    "CVX": "http://hl7.org/fhir/sid/cvx",
    "UCUM ": UCUM_SYSTEM,
    "ISO639": "urn:ietf:bcp:47",
    "ISO+": "urn:iso:std:iso:2955",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "HL7": None,
}
_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$", re.ASCII)
_TABLE = re.compile(r"^HL7(\d{4})$", re.ASCII)


def coding_system_uri(name: str) -> str | None:
    """FHIR system URI for a v2 coding-system name (HL7 table 0396), an OID, or None for local codes."""
    if not name:
        return None
    uri = CODING_SYSTEMS.get(name) or CODING_SYSTEMS.get(name.upper())
    if uri:
        return uri
    m = _TABLE.match(name)
    if m:
        return f"http://terminology.hl7.org/CodeSystem/v2-{m.group(1)}"
    if _OID.match(name):
        return f"urn:oid:{name}"
    if name.startswith(("http://", "https://", "urn:")):
        return name
    return None


# ---------------------------------------------------------------------------------------------
# DTM


_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$", re.ASCII)  # ASCII digits only (int() reads "٢")
_PRECISION = ("year", "month", "day", "hour", "minute", "second")


def parse_dtm(raw: str) -> Timestamp:
    """DTM (YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]) → Timestamp with precision and zone."""
    text = raw.strip()
    m = _DTM.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a DTM (expected YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ])")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    parts = [year, month, day, hour, minute, second]
    # a later part may not appear without the earlier ones; the regex enforces that already
    n = sum(1 for p in parts if p is not None)
    precision = _PRECISION[n - 1]
    micro = 0
    if frac:
        precision = "millisecond" if len(frac) <= 3 else "microsecond"
        micro = int(frac.ljust(6, "0"))
    tz = _zone(zone) if zone else None
    try:
        value = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                         int(second or 0), micro, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date/time ({exc})") from None
    return Timestamp(value=value, precision=precision, raw=text)


_TM = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$", re.ASCII)


def parse_tm(raw: str) -> str:
    """TM (HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ]) → ISO 8601 time of day ("12:30", "12:30:15+01:00")."""
    m = _TM.match(raw.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2) or 0) > 59 or int(m.group(3) or 0) > 59:
        raise ValueError(f"{raw.strip()!r} is not a TM (expected HH[MM[SS[.S...]]][+/-ZZZZ])")
    hh, mm, ss, frac, zone = m.groups()
    text = f"{hh}:{mm or '00'}" + (f":{ss}" if ss else "") + (f".{frac}" if frac and ss else "")
    if zone:
        _zone(zone)  # range check
        text += f"{zone[:3]}:{zone[3:]}"
    return text


@lru_cache(maxsize=64)
def _zone(zone: str) -> timezone:
    """'+0100' → that fixed offset (one object per offset: a sender's zone recurs in every time)."""
    sign = -1 if zone[0] == "-" else 1
    hh, mm = int(zone[1:3]), int(zone[3:5])
    if hh > 14 or mm > 59:
        raise ValueError(f"time zone {zone!r} out of range")
    return timezone(sign * timedelta(hours=hh, minutes=mm))


# ---------------------------------------------------------------------------------------------
# NM


def parse_nm(raw: str) -> Decimal:
    """NM → Decimal keeping the written precision ("76.30" stays 76.30). Leading '+' allowed."""
    text = raw.strip()
    if text.isascii() and text.isdigit():  # plain ASCII integers (most vital signs) need no pattern (inline: per value)
        return Decimal(text)
    if not text or not _NM.match(text):
        raise ValueError(f"{text!r} is not an NM (expected an optional sign, digits and an optional '.')")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise ValueError(f"{text!r} is not a number") from None


_NM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$", re.ASCII)  # "²" and "١" are no NM digits


# ---------------------------------------------------------------------------------------------
# CWE / CE / CNE


_VERSION_INDEX = {0: 6, 3: 7, 9: 12}  # CWE.7, CWE.8, CWE.13 hold the version of each triplet


@lru_cache(maxsize=4096)
def _concept(raw: str, d: Delimiters) -> CodeableConcept | None:
    c = components(raw, d)
    codings: list[Coding] = []
    text = None
    # triplets: 1-3 primary, 4-6 alternate, 10-12 (v2.6+ second alternate)
    for base in (0, 3, 9):
        code = unescape(c[base], d).strip() if len(c) > base else ""
        disp = unescape(c[base + 1], d).strip() if len(c) > base + 1 else ""
        sysname = c[base + 2].strip() if len(c) > base + 2 else ""
        vi = _VERSION_INDEX[base]
        version = c[vi].strip() if len(c) > vi else ""
        if code and code != NULL:
            codings.append(Coding(system=coding_system_uri(sysname), code=code, display=disp or None,
                                  version=version or None))
        elif disp and disp != NULL and text is None:
            text = disp
    if len(c) > 8 and c[8].strip():
        text = unescape(c[8], d).strip()
    if not codings and not text:
        return None
    return CodeableConcept(codings=tuple(codings), text=text)


def parse_cwe(raw: str, d: Delimiters) -> CodeableConcept | None:
    """CWE/CE/CNE: identifier^text^system^alt id^alt text^alt system^version^alt version^original text."""
    if not raw or raw == NULL:
        return None
    return _concept(raw, d)


def cwe_system_name(raw: str, d: Delimiters) -> str:
    """The v2 coding-system name (CWE.3) of the primary coding, as written."""
    c = components(raw, d)
    return c[2].strip() if len(c) > 2 else ""


# ---------------------------------------------------------------------------------------------
# HD / EI / CX


def parse_hd(raw: str, d: Delimiters) -> tuple[str | None, str | None, str | None]:
    """HD (namespace id^universal id^universal id type) → its three parts (None when empty)."""
    c = [unescape(x, d).strip() for x in components(raw, d)]
    c += [""] * (3 - len(c))
    return (c[0] or None, c[1] or None, c[2] or None)


def _identifier_system(universal_id: str | None, uid_type: str | None) -> str | None:
    if not universal_id:
        return None
    if uid_type in ("ISO", None) and _OID.match(universal_id):
        return f"urn:oid:{universal_id}"
    if uid_type in ("URI", "URL") or universal_id.startswith(("http://", "https://", "urn:")):
        return universal_id
    if uid_type == "UUID":
        return f"urn:uuid:{universal_id}"
    return None


EUI64 = re.compile(r"^[0-9A-Fa-f]{16}$", re.ASCII)


def _eui64_spellings() -> frozenset[str]:
    """'EUI-64' and the spellings the default quirk profile accepts (codecs/hl7v2/quirks/default.toml,
    quirk eui64-type-spelling: 'EUI64', 'EUI- 64' as in published samples ...), upper case without spaces."""
    from .quirks import DEFAULT

    return frozenset({"EUI-64"} | {s.upper().replace(" ", "") for s in DEFAULT().spellings})


_EUI64_TYPES = _eui64_spellings()


def is_eui64_type(text: str) -> bool:
    """'EUI-64' as universal id type, or one of the spellings the default quirk profile accepts."""
    return text.upper().replace(" ", "") in _EUI64_TYPES


def parse_ei(raw: str, d: Delimiters) -> Identifier | None:
    """EI (entity id^namespace id^universal id^universal id type) → Identifier.

    IHE PCD writes device identities as EUI-64: either "<eui64>^^<eui64>^EUI-64" or
    "<eui64>^^^EUI-64" (universal id left empty); both give type "EUI-64" and the EUI-64 system.
    """
    if not raw or raw == NULL:
        return None
    c = [unescape(x, d).strip() for x in components(raw, d)]
    c += [""] * (4 - len(c))
    entity, namespace, universal, utype = c[0], c[1], c[2], c[3]
    if not universal and not utype and is_eui64_type(namespace) and EUI64.match(entity):
        # "0123456789ABCDEF^EUI-64": the type in EI.2, as PHD gateways and some alarm reporters send it
        return Identifier(value=entity.upper(), system=EUI64_SYSTEM, type="EUI-64")
    if is_eui64_type(utype):
        value = (universal or entity).upper()
        return Identifier(value=value, system=EUI64_SYSTEM, type="EUI-64", assigner=namespace or None)
    if not entity:
        if universal:
            return Identifier(value=universal, system=_identifier_system(universal, utype or None),
                              type=utype or None)
        return None
    return Identifier(value=entity, system=_identifier_system(universal, utype or None),
                      assigner=namespace or None, type=None)


def parse_cx(raw: str, d: Delimiters) -> Identifier | None:
    """CX (id^check digit^scheme^assigning authority(HD)^identifier type code^assigning facility)."""
    if not raw or raw == NULL:
        return None
    c = components(raw, d)
    value = unescape(c[0], d).strip()
    if not value or value == NULL:
        return None
    system = assigner = None
    if len(c) > 3 and c[3]:
        hd = subcomponents(c[3], d)
        namespace = unescape(hd[0], d).strip() or None
        universal = unescape(hd[1], d).strip() if len(hd) > 1 else ""
        utype = hd[2].strip() if len(hd) > 2 else ""
        system = _identifier_system(universal or None, utype or None)
        assigner = namespace or universal or None
    id_type = c[4].strip() if len(c) > 4 and c[4].strip() else None
    return Identifier(value=value, system=system, type=id_type, assigner=assigner)


# ---------------------------------------------------------------------------------------------
# XPN / XCN / PL


def parse_xpn(raw: str, d: Delimiters) -> HumanName | None:
    """XPN (family^given^middle^suffix^prefix^degree^name type) → HumanName; '""' parts are null."""
    if not raw or raw == NULL:
        return None
    c = [unescape(x, d).strip() for x in components(raw, d)]
    c = ["" if x == NULL else x for x in c] + [""] * (7 - len(c))
    family = subcomponents(c[0], d)[0] if c[0] else ""
    given = tuple(x for x in (c[1], c[2]) if x)
    if not (family or given or c[4] or c[3]):
        return None
    return HumanName(family=family or None, given=given, suffix=c[3] or None, prefix=c[4] or None,
                     use=c[6] or None)


def parse_xad(raw: str, d: Delimiters, when: Callable[[str], Timestamp | None]) -> Address | None:
    """XAD (street(SAD)^other designation^city^state^zip^country^type^other geographic^county^census tract^
    representation^validity range(DR)^effective^expiration ...) → Address, as the v2-to-FHIR IG ConceptMap
    XAD → Address reads it (SAD-1..3 and XAD-2 as lines, XAD-9 as district, XAD-12/13/14 as the period);
    `when` reads a DTM text (a malformed one is the caller's finding)."""
    if not raw or raw == NULL:
        return None
    c = [x.strip() for x in components(raw, d)]
    c = ["" if x == NULL else x for x in c] + [""] * (14 - len(c))
    lines = [unescape(x, d).strip() for x in subcomponents(c[0], d)[:3]] + [unescape(c[1], d)]
    lines = [x for x in lines if x and x != NULL]
    text = {n: unescape(subcomponents(c[n - 1], d)[0], d).strip() or None for n in (3, 4, 5, 6, 7, 9)}
    validity = subcomponents(c[11], d) + ["", ""]
    start_text = c[12] or validity[0].strip()
    end_text = c[13] or validity[1].strip()
    start = when(start_text) if start_text else None
    end = when(end_text) if end_text else None
    if not (lines or any(text.values()) or start or end):
        return None
    return Address(lines=tuple(lines), city=text[3], state=text[4], postal_code=text[5], country=text[6],
                   type=text[7], district=text[9], start=start, end=end)


def parse_xcn(raw: str, d: Delimiters) -> tuple[Identifier | None, HumanName | None]:
    """XCN (id^family^given^middle^suffix^prefix^...^assigning authority) → (identifier, name)."""
    if not raw or raw == NULL:
        return None, None
    c = [unescape(x, d).strip() for x in components(raw, d)]
    c += [""] * (9 - len(c))
    ident = Identifier(value=c[0], assigner=subcomponents(c[8], d)[0] or None) if c[0] else None
    given = tuple(x for x in (c[2], c[3]) if x)
    name = HumanName(family=c[1] or None, given=given, suffix=c[4] or None, prefix=c[5] or None) \
        if (c[1] or given) else None
    return ident, name


def parse_pl(raw: str, d: Delimiters) -> Location | None:
    """PL (point of care^room^bed^facility(HD)^status^person location type^building^floor)."""
    if not raw or raw == NULL:
        return None
    c = [unescape(x, d).strip() for x in components(raw, d)]
    c += [""] * (8 - len(c))
    facility = subcomponents(c[3], d)[0] if c[3] else ""
    parts = [p for p in (facility, c[6], c[7], c[0], c[1], c[2]) if p]
    if not parts:
        return None
    return Location(point_of_care=c[0] or None, room=c[1] or None, bed=c[2] or None,
                    facility=facility or None, building=c[6] or None, floor=c[7] or None, text=" / ".join(parts))


# ---------------------------------------------------------------------------------------------
# SN


def parse_sn(raw: str, d: Delimiters) -> tuple[str | None, Decimal | None, str | None, Decimal | None]:
    """SN (comparator^num1^separator/suffix^num2) → its parts; numbers as Decimal."""
    c = [x.strip() for x in components(raw, d)] + ["", "", "", ""]
    comparator = c[0] or None
    if comparator not in (None, ">", "<", ">=", "<=", "=", "<>"):
        raise ValueError(f"SN comparator {comparator!r} is not one of > < >= <= = <>")
    n1 = parse_nm(c[1]) if c[1] else None
    sep = c[2] or None
    if sep not in (None, "-", "+", "/", ":", "."):
        raise ValueError(f"SN separator {sep!r} is not one of - + / : .")
    n2 = parse_nm(c[3]) if c[3] else None
    if n1 is None and n2 is None:
        raise ValueError("SN has no number")
    return comparator, n1, sep, n2
