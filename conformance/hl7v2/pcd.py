"""IHE PCD-01 (Communicate PCD Data) and PCD-04 (Report Alert) profile checks.

Rules of IHE PCD TF-2 (Rev 9.0): the message header, the OBR/OBX order groups, OBX-3 MDC coding,
OBX-4 containment in the IEEE 11073-10201 tree (MDS.VMD.CHAN.METRIC[.facet]), OBX-6 units valid
for the code (interop.terminology tables: IEEE 11073-10101 / IHE PCD Rosetta rows with their
sources), OBX-7/8/11/14 content and OBX-18 equipment identifiers (EUI-64).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from interop.codecs.hl7v2.tokenizer import Segment

from interop.terminology import mdc, status
from interop.text import is_ascii_digits

from ..catalogue import check
from ..finding import Hit
from .checks import shown, valid_dtm
from .context import V2Context

PCD01_PROFILE_OID = "1.3.6.1.4.1.19376.1.6.1.1.1"
PCD04_PROFILE_OID = "1.3.6.1.4.1.19376.1.6.4.4"
EUI64 = re.compile(r"[0-9A-Fa-f]{16}\Z")
SUB_ID = re.compile(r"[0-9]+(\.[0-9]+)*\Z")
RANGE = re.compile(r"(?:[+-]?[0-9]+(?:\.[0-9]+)?)?-(?:[+-]?[0-9]+(?:\.[0-9]+)?)?\Z|[<>]=?[+-]?[0-9]+(?:\.[0-9]+)?\Z")
ZONE = re.compile(r".*[0-9][+-][0-9]{4}\Z")
HL7_0078 = frozenset("L H LL HH < > N A AA U D B W S R I MS VS NEG POS".split())


@dataclass(slots=True)
class Order:
    """One OBR and the OBX segments that follow it."""

    obr: Segment
    obx: list[Segment] = field(default_factory=list)


def orders(ctx: V2Context) -> list[Order]:
    cached = getattr(ctx, "_pcd_orders", None)
    if cached is not None:
        return cached
    out: list[Order] = []
    for seg in ctx.segments:
        if seg.name == "OBR":
            out.append(Order(seg))
        elif seg.name == "OBX" and out:
            out[-1].obx.append(seg)
    ctx._pcd_orders = out  # type: ignore[attr-defined]
    return out


def sub_id(ctx: V2Context, obx: Segment) -> tuple[int, ...] | None:
    raw = ctx.value(obx, 4).strip()
    if not SUB_ID.match(raw):
        return None
    return tuple(int(p) for p in raw.split("."))


def mdc_at(ctx: V2Context, obx: Segment) -> int:
    """Where OBX-3 carries its MDC coding: 1 in the identifier triplet (CWE-1..3, where IHE PCD TF-2
    App. A.1 Table A.1-1 puts it), 4 in the alternate triplet only (CWE-4..6, e.g. LOINC first as in
    the NIST pulse-oximeter example), 0 nowhere."""
    if ctx.value(obx, 3, 3).strip() == "MDC":
        return 1
    if ctx.value(obx, 3, 6).strip() == "MDC":
        return 4
    return 0


def mdc_code(ctx: V2Context, obx: Segment) -> tuple[str, str, int]:
    """OBX-3's MDC (code, reference id, component of the code), wherever the triplet is; ('', '', 1)
    when OBX-3 has no MDC coding."""
    at = mdc_at(ctx, obx)
    if not at:
        return "", "", 1
    return ctx.value(obx, 3, at).strip(), ctx.value(obx, 3, at + 1).strip(), at


def device_row(ctx: V2Context, obx: Segment) -> str | None:
    """'MDS', 'VMD' or 'CHAN' when OBX-3 names a device level (MDC_DEV_..._MDS/_VMD/_CHAN)."""
    refid = mdc_code(ctx, obx)[1] or ctx.value(obx, 3, 2).strip()
    for level in ("MDS", "VMD", "CHAN"):
        if refid.endswith("_" + level):
            return level
    return None


def _is_pcd01(ctx: V2Context) -> bool:
    return ctx.message_type[:2] == ("ORU", "R01")


def _obx(ctx: V2Context) -> list[Segment]:
    return ctx.segs("OBX")


# -- message header --------------------------------------------------------------------------------


@check("PCD01-MSH-009")
def msh_009(ctx: V2Context) -> Iterator[Hit]:
    if ctx.msh is None:
        return
    code, event, struct = ctx.message_type
    if (code, event) != ("ORU", "R01") or struct not in ("ORU_R01", ""):
        yield ctx.hit(ctx.msh, 9, f"PCD-01 is ORU^R01^ORU_R01; MSH-9 is {code}^{event}^{struct}")
    elif not struct:
        yield ctx.hit(ctx.msh, 9, "MSH-9.3 (message structure ORU_R01) is required by PCD-01")


@check("PCD01-MSH-012")
def msh_012(ctx: V2Context) -> Iterator[Hit]:
    if ctx.msh is not None and ctx.version != "2.6":
        yield ctx.hit(ctx.msh, 12, f"PCD-01 messages are HL7 v2.6; MSH-12 is {ctx.version!r}", comp=1)


def _profile_ids(ctx: V2Context) -> list[tuple[str, str, int]]:
    """(EI-1, EI-3, repetition) of each MSH-21 repetition."""
    msh = ctx.msh
    out = []
    for r, _ in enumerate(ctx.reps(msh, 21) if msh else ()):
        out.append((ctx.value(msh, 21, 1, r).strip(), ctx.value(msh, 21, 3, r).strip(), r))
    return out


@check("PCD01-MSH-021")
def msh_021(ctx: V2Context) -> Iterator[Hit]:
    if ctx.msh is None:
        return
    ids = _profile_ids(ctx)
    if not any(oid == PCD01_PROFILE_OID for _, oid, _ in ids):
        got = "~".join(f"{a}^{b}" for a, b, _ in ids) or "empty"
        yield ctx.hit(ctx.msh, 21, f"MSH-21 must name IHE_PCD_001^IHE PCD^{PCD01_PROFILE_OID}^ISO; it is {got}")


@check("PCD01-MSH-015")
def msh_015(ctx: V2Context) -> Iterator[Hit]:
    v = ctx.value(ctx.msh, 15).strip()
    if ctx.msh is not None and v != "AL":
        yield ctx.hit(ctx.msh, 15, f"MSH-15 (accept acknowledgment type) is {shown(v)}; PCD-01 senders use AL")


@check("PCD01-MSH-016")
def msh_016(ctx: V2Context) -> Iterator[Hit]:
    v = ctx.value(ctx.msh, 16).strip()
    if ctx.msh is not None and v != "NE":
        yield ctx.hit(ctx.msh, 16, f"MSH-16 (application acknowledgment type) is {shown(v)}; PCD-01 "
                      "senders use NE")


@check("PCD01-MSH-007")
def msh_007(ctx: V2Context) -> Iterator[Hit]:
    v = ctx.value(ctx.msh, 7, 1).strip()
    if ctx.msh is not None and v and not ZONE.match(v):
        yield ctx.hit(ctx.msh, 7, f"MSH-7 {v!r} has no time zone offset (+/-ZZZZ)", comp=1)


@check("PCD01-MSH-003")
def msh_003(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None:
        return
    uid, kind = ctx.value(msh, 3, 2).strip(), ctx.value(msh, 3, 3).strip()
    if kind != "EUI-64" or not EUI64.match(uid):
        yield ctx.hit(msh, 3, "MSH-3 should identify the sending application by its EUI-64 "
                      f"(HD-2 16 hex digits, HD-3 'EUI-64'); it is {uid or '-'}^{kind or '-'}")


# -- patient ----------------------------------------------------------------------------------------


@check("PCD01-PID-003")
def pid_003(ctx: V2Context) -> Iterator[Hit]:
    for pid in ctx.segs("PID"):
        for r, _ in enumerate(ctx.reps(pid, 3) or [""]):
            if not ctx.value(pid, 3, 1, r).strip():
                yield ctx.hit(pid, 3, "PID-3 repetition without an identifier (CX-1)", comp=1, rep=r)
            elif not ctx.value(pid, 3, 4, r).strip() or not ctx.value(pid, 3, 5, r).strip():
                yield ctx.hit(pid, 3, "PID-3 needs its assigning authority (CX-4) and identifier type (CX-5)",
                              rep=r)


# -- order -------------------------------------------------------------------------------------------


@check("PCD01-OBR-003")
def obr_003(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        if not ctx.value(obr, 3, 1).strip():
            yield ctx.hit(obr, 3, "OBR-3 (filler order number, EI) is required by PCD-01")


@check("PCD01-OBR-004")
def obr_004(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        code, system = ctx.value(obr, 4, 1).strip(), ctx.value(obr, 4, 3).strip()
        if not code or not system:
            yield ctx.hit(obr, 4, "OBR-4 (universal service identifier) needs a code and its coding system")


@check("PCD01-OBR-007")
def obr_007(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        v = ctx.value(obr, 7, 1).strip()
        if not v:
            yield ctx.hit(obr, 7, "OBR-7 (observation date/time) is required by PCD-01")
        elif not valid_dtm(v) or not ZONE.match(v):
            yield ctx.hit(obr, 7, f"OBR-7 {v!r} must be a date/time with its time zone offset")


@check("PCD01-OBR-001")
def obr_001(ctx: V2Context) -> Iterator[Hit]:
    for order in orders(ctx):
        if not order.obx:
            yield ctx.hit(order.obr, None, "an OBR with no OBX after it: PCD-01 reports observations under each OBR")


# -- OBX-2/3 -------------------------------------------------------------------------------------------


@check("PCD01-OBX-002")
def obx_002(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        vt, value = ctx.value(obx, 2).strip(), obx.get(5)
        if vt and not value and ctx.value(obx, 11).strip() != "X":
            yield ctx.hit(obx, 2, f"OBX-2 is {vt!r} but OBX-5 is empty; device rows leave both empty")
        elif value and not vt:
            yield ctx.hit(obx, 2, "OBX-5 is valued but OBX-2 (value type) is empty")


@check("PCD01-OBX-003")
def obx_003(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if not mdc_at(ctx, obx):
            system, alt = ctx.value(obx, 3, 3).strip(), ctx.value(obx, 3, 6).strip()
            yield ctx.hit(obx, 3, f"OBX-3 has no MDC (ISO/IEEE 11073-10101) coding: coding system {shown(system)}, "
                          f"alternate coding system {shown(alt)}", comp=3)


@check("PCD01-OBX-034")
def obx_034(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if mdc_at(ctx, obx) == 4:
            code = ctx.value(obx, 3, 4).strip()
            yield ctx.hit(obx, 3, f"OBX-3 carries MDC {code} in the alternate identifier (CWE-4..6) and "
                          f"{shown(ctx.value(obx, 3, 3).strip())} in CWE-1..3; IHE PCD TF-2 App. A.1 puts the "
                          "MDC code, reference id and 'MDC' in CWE-1..3", comp=3)


@check("PCD01-OBX-031")
def obx_031(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if not mdc_at(ctx, obx):
            continue
        code, _refid, at = mdc_code(ctx, obx)
        if not is_ascii_digits(code):
            yield ctx.hit(obx, 3, f"OBX-3.{at} {code!r} is not an MDC context-free code (decimal "
                          "partition * 65536 + term code)", comp=at)


@check("PCD01-OBX-032")
def obx_032(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        code, _refid, at = mdc_code(ctx, obx)
        if is_ascii_digits(code) and mdc.term(code) is None:
            yield ctx.hit(obx, 3, f"MDC code {code} is not in the terminology tables (IEEE 11073-10101 / "
                          "IHE PCD Rosetta rows this project carries)", comp=at)


@check("PCD01-OBX-033")
def obx_033(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        code, refid, at = mdc_code(ctx, obx)
        t = mdc.term(code) if is_ascii_digits(code) else None
        if t is None or not refid.startswith("MDC_"):
            continue
        alias = mdc.term_by_refid(refid)
        if t.refid != refid and (alias is None or alias.code != t.code):
            yield ctx.hit(obx, 3, f"OBX-3.{at + 1} {refid} does not name code {code} ({t.refid})", comp=at + 1)


# -- OBX-4 containment ------------------------------------------------------------------------------


@check("PCD01-OBX-004")
def obx_004(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        raw = ctx.value(obx, 4).strip()
        path = sub_id(ctx, obx)
        if path is None or len(path) < 4:
            yield ctx.hit(obx, 4, f"OBX-4 {shown(raw)} is not the containment path "
                          "<MDS>.<VMD>.<CHAN>.<METRIC>[.<facet>] of dotted integers")


@check("PCD01-OBX-041")
def obx_041(ctx: V2Context) -> Iterator[Hit]:
    for order in orders(ctx):
        seen: dict[tuple[str, str], Segment] = {}
        for obx in order.obx:
            key = (ctx.value(obx, 3, 1).strip(), ctx.value(obx, 4).strip())
            if key in seen:
                first = seen[key]
                yield ctx.hit(obx, 4, f"OBX-3/OBX-4 {key[0]} at {key[1]} repeats OBX[{first.ordinal}] under the "
                              "same OBR: each observation's containment must be unique")
            else:
                seen[key] = obx


@check("PCD01-OBX-042")
def obx_042(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        level, path = device_row(ctx, obx), sub_id(ctx, obx)
        if level is None or path is None or len(path) != 4:
            continue
        shape = {"MDS": (True, False, False, False), "VMD": (True, True, False, False),
                 "CHAN": (True, True, True, False)}[level]
        if tuple(p != 0 for p in path) != shape:
            want = {"MDS": "n.0.0.0", "VMD": "n.n.0.0", "CHAN": "n.n.n.0"}[level]
            yield ctx.hit(obx, 4, f"a {level} row has containment {want}; OBX-4 is {'.'.join(map(str, path))}")


@check("PCD01-OBX-043")
def obx_043(ctx: V2Context) -> Iterator[Hit]:
    for order in orders(ctx):
        mds_rows = {p[0] for o in order.obx if device_row(ctx, o) == "MDS" and (p := sub_id(ctx, o))}
        if not mds_rows:
            continue
        for obx in order.obx:
            path = sub_id(ctx, obx)
            if path and path[0] not in mds_rows and path[0] != 0:
                yield ctx.hit(obx, 4, f"OBX-4 names MDS {path[0]}, but no MDS row {path[0]}.0.0.0 precedes it "
                              "under this OBR")


# -- OBX-5/6 value and units ---------------------------------------------------------------------------


@check("PCD01-OBX-005")
def obx_005(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        status_ = ctx.value(obx, 11).strip()
        if device_row(ctx, obx) is None and status_ in ("R", "F", "C") and not obx.get(5):
            yield ctx.hit(obx, 5, f"OBX-11 is {status_} but OBX-5 carries no value")


@check("PCD01-OBX-006")
def obx_006(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if ctx.value(obx, 2).strip() in ("NM", "SN", "NA") and obx.get(5) and not ctx.value(obx, 6, 1).strip():
            yield ctx.hit(obx, 6, "a numeric observation needs its unit in OBX-6")


@check("PCD01-OBX-061")
def obx_061(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if ctx.value(obx, 6, 1).strip():
            system = ctx.value(obx, 6, 3).strip()
            if system not in ("MDC", "UCUM"):
                yield ctx.hit(obx, 6, f"OBX-6 must be coded in MDC (or UCUM); coding system {shown(system)}",
                              comp=3)


@check("PCD01-OBX-062")
def obx_062(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if ctx.value(obx, 6, 3).strip() != "MDC":
            continue
        code, refid = ctx.value(obx, 6, 1).strip(), ctx.value(obx, 6, 2).strip()
        u = mdc.unit(code) if is_ascii_digits(code) else None
        if u is None:
            yield ctx.hit(obx, 6, f"OBX-6.1 {code!r} is not an MDC unit code (partition 4)", comp=1)
        elif refid.startswith("MDC_") and refid != u.refid:
            alias = mdc.unit_by_refid(refid)
            if alias is None or alias.code != u.code:
                yield ctx.hit(obx, 6, f"OBX-6.2 {refid} does not name unit {code} ({u.refid})", comp=2)


ANNOTATION = re.compile(r"\{[^{}]*\}")


def _ucum_key(unit: str) -> str:
    """A UCUM unit with its annotations dropped: UCUM gives curly-brace annotations no meaning
    (`{beats}/min` is `/min`, `{breaths}/min` is `/min`), and `1/min` is `/min`."""
    bare = ANNOTATION.sub("", unit)
    return bare[1:] if bare.startswith("1/") else bare or "1"


def _unit_ucum(ctx: V2Context, obx: Segment) -> str | None:
    code, system = ctx.value(obx, 6, 1).strip(), ctx.value(obx, 6, 3).strip()
    if system == "UCUM":
        return code
    u = mdc.unit(code) if system == "MDC" and is_ascii_digits(code) else None
    return u.ucum if u else None


@check("PCD01-OBX-063")
def obx_063(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        code = mdc_code(ctx, obx)[0]
        t = mdc.term(code) if is_ascii_digits(code) else None
        if t is None or not t.ucum_units or not ctx.value(obx, 6, 1).strip():
            continue
        ucum = _unit_ucum(ctx, obx)
        if ucum is not None and _ucum_key(ucum) not in {_ucum_key(u) for u in t.ucum_units}:
            yield ctx.hit(obx, 6, f"unit {ucum!r} is not valid for {t.refid} (allowed: {', '.join(t.ucum_units)})")


# -- OBX-7/8/11/14/18 -----------------------------------------------------------------------------------


@check("PCD01-OBX-007")
def obx_007(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        v = ctx.value(obx, 7).strip()
        if v and not RANGE.match(v):
            yield ctx.hit(obx, 7, f"OBX-7 {v!r} is not a reference range (low-high, <x or >x)")


@check("PCD01-OBX-008")
def obx_008(ctx: V2Context) -> Iterator[Hit]:
    flags = status.pcd01_flags()
    for obx in _obx(ctx):
        for r, rv in enumerate(ctx.reps(obx, 8)):
            flag = rv.split(ctx.delimiters.component)[0].strip()
            if flag and flag not in flags and flag not in HL7_0078:
                yield ctx.hit(obx, 8, f"OBX-8 flag {flag!r} is neither an HL7 table 0078 value nor an IHE PCD "
                              "measurement status / alarm flag", rep=r)


@check("PCD01-OBX-011")
def obx_011(ctx: V2Context) -> Iterator[Hit]:
    allowed = ("R", "F", "X", "C", "P", "D", "I", "S", "U", "W", "N", "O")
    for obx in _obx(ctx):
        v = ctx.value(obx, 11).strip()
        if v not in allowed:
            yield ctx.hit(obx, 11, f"OBX-11 (observation result status) is {shown(v)}; PCD-01 requires a "
                          "table 0085 value (F, R, X, C ...)")


@check("PCD01-OBX-111")
def obx_111(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if ctx.value(obx, 11).strip() == "X" and obx.get(5):
            yield ctx.hit(obx, 5, "OBX-11 is X (result cannot be obtained) but OBX-5 carries a value")


@check("PCD01-OBX-014")
def obx_014(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        v = ctx.value(obx, 14, 1).strip()
        if v and (not valid_dtm(v) or not ZONE.match(v)):
            yield ctx.hit(obx, 14, f"OBX-14 {v!r} must be a date/time with its time zone offset", comp=1)


@check("PCD01-OBX-018")
def obx_018(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        for r, _ in enumerate(ctx.reps(obx, 18)):
            ident, uid, kind = (ctx.value(obx, 18, 1, r).strip(), ctx.value(obx, 18, 3, r).strip(),
                                ctx.value(obx, 18, 4, r).strip())
            if kind != "EUI-64":
                yield ctx.hit(obx, 18, f"OBX-18 universal id type (EI-4) is {shown(kind)}; PCD-01 "
                              "identifies equipment by EUI-64", rep=r)
            elif not EUI64.match(ident) or uid and not EUI64.match(uid):
                yield ctx.hit(obx, 18, f"OBX-18 {ident!r} is not an EUI-64 (16 hexadecimal digits in EI-1 and "
                              "EI-3)", rep=r)


@check("PCD01-OBX-181")
def obx_181(ctx: V2Context) -> Iterator[Hit]:
    for obx in _obx(ctx):
        if device_row(ctx, obx) == "MDS" and not obx.get(18):
            yield ctx.hit(obx, 18, "the MDS row should carry the device's equipment instance identifier (OBX-18)")
