"""HL7 v2 structure checks (profile `hl7v2`), one function per assertion of assertions/hl7v2.yaml.

Reference data: hl7apy's definitions of the message's own version (reference.py); the message is
read with the project's tokenizer, once, and scanned once (fields.py, structure.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from interop.text import is_ascii_digits

from ..catalogue import check
from ..finding import Hit
from .context import V2Context
from .reference import OPEN_TABLES, PRIMITIVE_MAX_LENGTH, VERSIONS, table_listing

NM = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z")
SI = re.compile(r"[0-9]+\Z")
DT = re.compile(r"([0-9]{4})(([0-9]{2})(([0-9]{2}))?)?\Z")
TM = re.compile(r"([0-9]{2})(([0-9]{2})(([0-9]{2})(\.[0-9]{1,4})?)?)?([+-][0-9]{4})?\Z")
DTM = re.compile(r"([0-9]{4})(([0-9]{2})(([0-9]{2})(([0-9]{2})(([0-9]{2})(([0-9]{2})(\.[0-9]{1,4})?)?)?)?)?)?([+-][0-9]{4})?\Z")
ESCAPE_OK = re.compile(r"(F|S|T|R|E|P|H|N|X([0-9A-Fa-f]{2})+|C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4}([0-9A-Fa-f]{2})?|Z[^\\]*"
                       r"|\.(br|sp[0-9]*|fi|nf|in[+-]?[0-9]+|ti[+-]?[0-9]+|sk[+-]?[0-9]+|ce))\Z")
SET_ID_SEGMENTS = ("OBX", "OBR", "NTE", "NK1", "AL1", "DG1", "PR1", "IN1", "SPM", "TQ1", "ROL")


def shown(v: str) -> str:
    """A value as findings quote it: its repr, or the word empty."""
    return repr(v) if v else "empty"


def _good_date(y: str, m: str | None, d: str | None) -> bool:
    if m is not None and not 1 <= int(m) <= 12:
        return False
    if d is not None:
        days = [31, 29 if int(y) % 4 == 0 and (int(y) % 100 != 0 or int(y) % 400 == 0) else 28, 31, 30, 31, 30,
                31, 31, 30, 31, 30, 31][int(m or 1) - 1]
        if not 1 <= int(d) <= days:
            return False
    return True


def valid_dtm(v: str) -> bool:
    """HL7 v2 DTM / TS.1: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ], each part in range."""
    m = DTM.match(v)
    if not m:
        return False
    y, mo, d, hh, mi, se = m.group(1), m.group(3), m.group(5), m.group(7), m.group(9), m.group(11)
    if not _good_date(y, mo, d):
        return False
    if hh is not None and int(hh) > 23 or mi is not None and int(mi) > 59 or se is not None and int(se) > 59:
        return False
    z = m.group(13)
    return z is None or int(z[1:3]) <= 14 and int(z[3:]) <= 59


# -- encoding ------------------------------------------------------------------------------------


@check("HL7V2-MSG-001")
def msg_001(ctx: V2Context) -> Iterator[Hit]:
    """The message can be read: MSH first, valid delimiters, bytes in the declared character set."""
    yield from ctx.fatal


@check("HL7V2-MSG-002")
def msg_002(ctx: V2Context) -> Iterator[Hit]:
    if ctx.issues("hl7v2.line-ends"):
        yield Hit("message", "segments end with LF or CR LF; HL7 v2 ends every segment with CR (0x0D)")


@check("HL7V2-MSG-003")
def msg_003(ctx: V2Context) -> Iterator[Hit]:
    for i in ctx.issues("hl7v2.blank-line", "hl7v2.leading-space"):
        yield Hit(i.location, i.message)


@check("HL7V2-MSG-004")
def msg_004(ctx: V2Context) -> Iterator[Hit]:
    for seg in ctx.segments:
        if seg.name == "???":
            off, length = ctx.span(seg)
            yield Hit(f"segment {seg.line}", "line does not start with a 3-character segment id and the field "
                      "separator", off, max(1, min(length, 3)))


@check("HL7V2-MSG-005")
def msg_005(ctx: V2Context) -> Iterator[Hit]:
    for i in ctx.issues("hl7v2.unknown-charset", "hl7v2.charset-mismatch", "hl7v2.charset-fallback"):
        msh = ctx.msh
        if msh is not None:
            yield ctx.hit(msh, 18, i.message)
        else:
            yield Hit(i.location, i.message)


@check("HL7V2-ESC-001")
def esc_001(ctx: V2Context) -> Iterator[Hit]:
    esc = ctx.delimiters.escape
    for seg in ctx.segments:
        for n in range(3 if seg.name == "MSH" else 1, len(seg.fields)):
            raw = seg.fields[n]
            if esc not in raw:
                continue
            parts = raw.split(esc)
            if len(parts) % 2 == 0:
                yield ctx.hit(seg, n, f"unpaired escape character {esc!r}: an escape sequence opens and never closes")
                continue
            for seq in parts[1::2]:
                if not ESCAPE_OK.match(seq):
                    yield ctx.hit(seg, n, f"unknown escape sequence {esc}{seq}{esc}")


# -- header ----------------------------------------------------------------------------------------


@check("HL7V2-MSH-009")
def msh_009(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None:
        return
    code, event, _struct = ctx.message_type
    t76 = ctx.table("HL70076")
    t03 = ctx.table("HL70003")
    if not code or not event and code != "ACK":
        yield ctx.hit(msh, 9, "MSH-9 must give the message code and trigger event (e.g. ORU^R01^ORU_R01)")
    elif t76 and code not in t76:
        yield ctx.hit(msh, 9, f"message code {code!r} is not in HL7 table 0076 (v{ctx.ref.version})", comp=1)
    elif t03 and event and event not in t03:
        yield ctx.hit(msh, 9, f"trigger event {event!r} is not in HL7 table 0003 (v{ctx.ref.version})", comp=2)


@check("HL7V2-MSH-011")
def msh_011(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None:
        return
    pid = ctx.value(msh, 11, 1)
    if pid and pid not in ("P", "D", "T"):
        yield ctx.hit(msh, 11, f"processing id {pid!r} is not in HL7 table 0103 (P, D, T)", comp=1)


@check("HL7V2-MSH-012")
def msh_012(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None:
        return
    v = ctx.version
    if v not in VERSIONS:
        yield ctx.hit(msh, 12, f"version {v!r} is not one this suite validates ({', '.join(VERSIONS)}); "
                      f"checked against v{ctx.ref.version}", comp=1)


# -- message structure -------------------------------------------------------------------------------


@check("HL7V2-STR-001")
def str_001(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None or ctx.version not in VERSIONS and not ctx.version:
        return
    if ctx.structure is None:
        code, event, struct = ctx.message_type
        name = struct or f"{code}_{event}"
        yield ctx.hit(msh, 9, f"no abstract message structure {name!r} in HL7 v{ctx.ref.version}; the "
                      "message structure cannot be checked")


@check("HL7V2-STR-002")
def str_002(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    code, event, struct = ctx.message_type
    if msh is None or not struct or not code or not event:
        return
    expected = ctx.ref.structure_of(code, event, "")
    if expected and struct != expected and struct in ctx.ref.structures:
        yield ctx.hit(msh, 9, f"MSH-9.3 is {struct!r} but {code}^{event} has structure {expected!r} "
                      "(HL7 table 0354)", comp=3)


@check("HL7V2-STR-003")
def str_003(ctx: V2Context) -> Iterator[Hit]:
    w = ctx.walk
    if w is None:
        return
    segs = ctx.segments
    for i, name, group in w.missing_segments:
        where = f" in group {group}" if group else ""
        anchor = segs[min(i, len(segs) - 1)]
        yield Hit(f"{ctx.structure}.{name}", f"required segment {name}{where} is missing "
                  f"(expected before {anchor.name}[{anchor.ordinal}])" if i < len(segs) else
                  f"required segment {name}{where} is missing (expected at the end)", *ctx.span(anchor))


@check("HL7V2-STR-004")
def str_004(ctx: V2Context) -> Iterator[Hit]:
    w = ctx.walk
    if w is None:
        return
    segs = ctx.segments
    for i, group, starts in w.missing_groups:
        anchor = segs[min(i, len(segs) - 1)]
        yield Hit(f"{ctx.structure}.{group}", f"required group {group} is missing (it starts with "
                  f"{starts.replace('/', ' or ')})", *ctx.span(anchor))


@check("HL7V2-STR-005")
def str_005(ctx: V2Context) -> Iterator[Hit]:
    w = ctx.walk
    if w is None:
        return
    for i, mx in w.too_many:
        seg = ctx.segments[i]
        yield ctx.hit(seg, None, f"segment {seg.name} occurs more often than {ctx.structure} allows "
                      f"(at most {mx} here)")


@check("HL7V2-STR-006")
def str_006(ctx: V2Context) -> Iterator[Hit]:
    w = ctx.walk
    if w is None:
        return
    for i in w.not_in_structure:
        seg = ctx.segments[i]
        yield ctx.hit(seg, None, f"segment {seg.name} is not part of message structure {ctx.structure} "
                      f"(HL7 v{ctx.ref.version})")


@check("HL7V2-STR-007")
def str_007(ctx: V2Context) -> Iterator[Hit]:
    w = ctx.walk
    if w is None:
        return
    for i in w.out_of_order:
        seg = ctx.segments[i]
        prev = ctx.segments[i - 1] if i else None
        after = f" after {prev.name}[{prev.ordinal}]" if prev else ""
        yield ctx.hit(seg, None, f"segment {seg.name} is out of order: {ctx.structure} does not allow it{after}")


@check("HL7V2-SEG-001")
def seg_001(ctx: V2Context) -> Iterator[Hit]:
    for seg in ctx.segments:
        if seg.name != "???" and seg.name[:1] != "Z" and seg.name not in ctx.ref.segments:
            yield ctx.hit(seg, None, f"segment id {seg.name!r} is not defined in HL7 v{ctx.ref.version} "
                          "(local segments start with Z)")


@check("HL7V2-SEG-002")
def seg_002(ctx: V2Context) -> Iterator[Hit]:
    for seg in ctx.segments:
        if seg.name[:1] == "Z":
            yield ctx.hit(seg, None, f"local segment {seg.name}: its content is site-defined and not validated")


# -- fields, components, data types -----------------------------------------------------------


@check("HL7V2-FLD-001")
def fld_001(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, fd in ctx.scan.required_empty:
        yield ctx.hit(seg, n, f"required field {seg.name}-{n} ({fd.name.replace('_', ' ').lower()}) is empty")


@check("HL7V2-FLD-002")
def fld_002(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, count, mx in ctx.scan.too_many_reps:
        if mx == 0:
            yield ctx.hit(seg, n, f"{seg.name}-{n} is withdrawn in HL7 v{ctx.ref.version} (no occurrence allowed) "
                          "but is valued")
        else:
            yield ctx.hit(seg, n, f"{seg.name}-{n} repeats {count} times; at most {mx} allowed")


@check("HL7V2-FLD-003")
def fld_003(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, ndefs in ctx.scan.extra_fields:
        yield ctx.hit(seg, n, f"{seg.name} defines {ndefs} fields in HL7 v{ctx.ref.version}; field {n} is "
                      "beyond the last")


@check("HL7V2-CMP-001")
def cmp_001(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, r, count, defined in ctx.scan.extra_components:
        yield ctx.hit(seg, n, f"{seg.name}-{n} has {count} components; its data type defines {defined}", rep=r)


@check("HL7V2-CMP-002")
def cmp_002(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, r, c, name in ctx.scan.required_comp_empty:
        yield ctx.hit(seg, n, f"required component {name.replace('_', '.')} of {seg.name}-{n} is empty", comp=c,
                      rep=r)


@check("HL7V2-CMP-003")
def cmp_003(ctx: V2Context) -> Iterator[Hit]:
    for seg, n, r, c in ctx.scan.extra_subcomponents:
        where = f"{seg.name}-{n}.{c}" if c else f"{seg.name}-{n}"
        yield ctx.hit(seg, n, f"{where} has more subcomponents than its data type defines", comp=c, rep=r)


def _leaf_hit(ctx: V2Context, lv, message: str) -> Hit:
    return ctx.hit(lv.seg, lv.field, message, comp=lv.comp, rep=lv.rep, sub=lv.sub)


@check("HL7V2-DT-NM")
def dt_nm(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("NM"):
        if not NM.match(lv.value):
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not a numeric (NM) value")


@check("HL7V2-DT-SI")
def dt_si(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("SI"):
        if not SI.match(lv.value):
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not a sequence id (SI: a non-negative integer)")


@check("HL7V2-DT-DT")
def dt_dt(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("DT"):
        m = DT.match(lv.value)
        if not m or not _good_date(m.group(1), m.group(3), m.group(5)):
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not a date (DT: YYYY[MM[DD]])")


@check("HL7V2-DT-TM")
def dt_tm(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("TM"):
        m = TM.match(lv.value)
        if not m or int(m.group(1)) > 23 or m.group(3) and int(m.group(3)) > 59 or m.group(5) and int(m.group(5)) > 59:
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not a time (TM: HH[MM[SS[.S[S[S[S]]]]]][+/-ZZZZ])")


@check("HL7V2-DT-DTM")
def dt_dtm(ctx: V2Context) -> Iterator[Hit]:
    leaves = ctx.scan.of("DTM", "TS")
    leaves += [lv for lv in ctx.scan.of("ST") if lv.name == "TS_1"]  # TS.1 in 2.3/2.4 definitions
    for lv in leaves:
        if not valid_dtm(lv.value):
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not a date/time (DTM: YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ])")


@check("HL7V2-DT-ID")
def dt_id(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("ID"):
        if lv.field == 2 and lv.seg.name == "OBX":
            continue  # OBX-2 (table 0125) is read by HL7V2-OBX-002 / -021, which know the versions
        values = ctx.table(lv.table) if lv.table else None
        pattern = OPEN_TABLES.get(lv.table)
        if values and lv.value not in values and not (pattern and pattern.match(lv.value)):
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not in HL7 table {lv.table[3:]} (v{ctx.ref.version})")


@check("HL7V2-DT-IS")
def dt_is(ctx: V2Context) -> Iterator[Hit]:
    for lv in ctx.scan.of("IS"):
        values = ctx.table(lv.table) if lv.table else None
        if values and lv.value not in values:
            yield _leaf_hit(ctx, lv, f"{lv.value!r} is not among the suggested values of user table {lv.table[3:]}")


@check("HL7V2-LEN-001")
def len_001(ctx: V2Context) -> Iterator[Hit]:
    for dt, mx in PRIMITIVE_MAX_LENGTH.items():
        for lv in ctx.scan.of(dt):
            if len(lv.value) > mx:
                yield _leaf_hit(ctx, lv, f"{len(lv.value)} characters exceed the {mx} of data type {dt}")


# -- observation segments ------------------------------------------------------------------------


@check("HL7V2-OBX-002")
def obx_002(ctx: V2Context) -> Iterator[Hit]:
    t125 = ctx.table("HL70125")
    for seg in ctx.segs("OBX"):
        vt = ctx.value(seg, 2)
        if seg.get(5) and not vt:
            yield ctx.hit(seg, 2, "OBX-5 is valued, so OBX-2 (value type) is required")
        elif vt and t125 and vt not in t125 and not table_listing("HL70125", vt):
            yield ctx.hit(seg, 2, f"value type {vt!r} is in no version of HL7 table 0125 "
                          f"(v{next(iter(VERSIONS))} to v{list(VERSIONS)[-1]})")


@check("HL7V2-OBX-021")
def obx_021(ctx: V2Context) -> Iterator[Hit]:
    t125 = ctx.table("HL70125")
    if not t125:
        return
    declared = ctx.version or ctx.ref.version
    for seg in ctx.segs("OBX"):
        vt = ctx.value(seg, 2)
        if not vt or vt in t125:
            continue
        listed = table_listing("HL70125", vt)
        if not listed:
            continue  # HL7V2-OBX-002
        order = list(VERSIONS)
        if order.index(listed[0]) > order.index(ctx.ref.version):
            yield ctx.hit(seg, 2, f"value type {vt!r} is in HL7 table 0125 from v{listed[0]} on; MSH-12 declares "
                          f"{declared} (a receiver holding to {declared} may not know it)")
        else:
            yield ctx.hit(seg, 2, f"value type {vt!r} is in HL7 table 0125 of v{listed[0]} to v{listed[-1]} only; "
                          f"MSH-12 declares {declared} (withdrawn there)")


@check("HL7V2-SET-001")
def set_001(ctx: V2Context) -> Iterator[Hit]:
    counters: dict[str, int] = {}
    for seg in ctx.segments:
        name = seg.name
        if name in ("OBR", "ORC"):
            counters.pop("OBX", None)
            counters.pop("NTE", None)
        if name == "OBX":
            counters.pop("NTE", None)
        if name not in SET_ID_SEGMENTS:
            continue
        raw = ctx.value(seg, 1)
        expected = counters.get(name, 0) + 1
        counters[name] = expected
        if raw and is_ascii_digits(raw) and int(raw) != expected and name != "NTE":
            yield ctx.hit(seg, 1, f"set id {raw} where {expected} was expected ({name} set ids count 1, 2, 3 "
                          "within their parent)")
