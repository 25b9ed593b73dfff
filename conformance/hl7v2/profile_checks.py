"""Checks of a message against a user's XML conformance profile (profile `hl7v2-xml`, xmlprofile.py).

Usage R/RE/O/X/C of segments, groups, fields and components, cardinality, lengths, data type
formats, value-set bindings and simple conformance statements, in the NIST validation engine's
vocabulary: each hit has a location path (`PID[1].3.5`) and names the profile rule it broke.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..catalogue import check
from ..finding import Hit
from .checks import DT, NM, SI, TM, _good_date, valid_dtm
from .context import V2Context
from .reference import Child
from .structure import walk

if TYPE_CHECKING:
    from interop.codecs.hl7v2.tokenizer import Segment

    from ..xmlprofile import ElementDef, Node, UserProfile

_TREES: dict[int, tuple[Child, ...]] = {}


def _tree(profile: UserProfile) -> tuple[Child, ...]:
    key = id(profile)
    if key not in _TREES:
        def conv(nodes: tuple[Node, ...]) -> tuple[Child, ...]:
            return tuple(Child(n.name, n.is_group, n.min if n.usage != "X" else 0, n.max if n.usage != "X" else -1,
                               conv(n.children) if n.is_group else ()) for n in nodes)

        _TREES[key] = conv(profile.nodes)
    return _TREES[key]


class _Shim:
    """What structure.walk needs of a reference: the structure and the segments the version defines."""

    def __init__(self, tree: tuple[Child, ...], defined: dict) -> None:
        self.structures = {"PROFILE": tree}
        self.segments = defined


def _profile_walk(ctx: V2Context):
    cached = getattr(ctx, "_profile_walk", None)
    if cached is None:
        prof = ctx.user_profile
        cached = walk([s.name for s in ctx.segments], _Shim(_tree(prof), ctx.ref.segments), "PROFILE")
        ctx._profile_walk = cached  # type: ignore[attr-defined]
    return cached


def _segments_with_defs(ctx: V2Context) -> Iterator[tuple[Segment, list[ElementDef]]]:
    defs = ctx.user_profile.segment_defs()
    for seg in ctx.segments:
        sd = defs.get(seg.name)
        if sd is not None:
            yield seg, list(sd.fields)


def _field_no(seg: Segment, i: int) -> int:
    return i + 1


def _reps(ctx: V2Context, seg: Segment, n: int) -> list[str]:
    if seg.name == "MSH" and n <= 2:
        return [seg.get(n)] if seg.get(n) else []
    return [r for r in ctx.reps(seg, n)]


def _where(profile: UserProfile) -> str:
    return f"profile {profile.title}"


@check("PRF-MSG-001")
def prf_msg_001(ctx: V2Context) -> Iterator[Hit]:
    prof = ctx.user_profile
    if prof is None or ctx.msh is None:
        return
    code, event, _ = ctx.message_type
    if (prof.msg_type, prof.event) != (code, event):
        yield ctx.hit(ctx.msh, 9, f"message is {code}^{event}; {_where(prof)} describes {prof.msg_type}^{prof.event}")


@check("PRF-SEG-001")
def prf_seg_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None or not ctx.segments:
        return
    w = _profile_walk(ctx)
    segs = ctx.segments
    for i, name, _group in w.missing_segments:
        anchor = segs[min(i, len(segs) - 1)]
        yield Hit(name, f"segment {name} (usage R in {_where(ctx.user_profile)}) is missing", *ctx.span(anchor))
    for i, name, starts in w.missing_groups:
        anchor = segs[min(i, len(segs) - 1)]
        yield Hit(name, f"group {name} (usage R, starting with {starts.replace('/', ' or ')}) is missing",
                  *ctx.span(anchor))


@check("PRF-SEG-002")
def prf_seg_002(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    usage = ctx.user_profile.usage_of()
    for seg in ctx.segments:
        if usage.get(seg.name) == "X":
            yield ctx.hit(seg, None, f"segment {seg.name} has usage X (not supported) in {_where(ctx.user_profile)}")


@check("PRF-SEG-003")
def prf_seg_003(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    w = _profile_walk(ctx)
    usage = ctx.user_profile.usage_of()
    for i, mx in w.too_many:
        seg = ctx.segments[i]
        yield ctx.hit(seg, None, f"segment {seg.name} occurs more often than the profile allows (max {mx})")
    for i in w.not_in_structure + w.out_of_order:
        seg = ctx.segments[i]
        if usage.get(seg.name) == "X":
            continue  # PRF-SEG-002 says it
        what = "is not in" if i in w.not_in_structure else "is out of order in"
        yield ctx.hit(seg, None, f"segment {seg.name} {what} the message structure of {_where(ctx.user_profile)}")


def _fields(ctx: V2Context):
    """(segment, field number, definition, repetitions) of every field the profile defines."""
    for seg, defs in _segments_with_defs(ctx):
        for i, fd in enumerate(defs):
            n = i + 1
            yield seg, n, fd, _reps(ctx, seg, n)


@check("PRF-FLD-001")
def prf_fld_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, fd, reps in _fields(ctx):
        present = [r for r in reps if r and r != '""']
        if fd.usage == "R" and not present:
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) has usage R in the profile but is empty")
        elif fd.usage == "R" and fd.min > len(present):
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) needs at least {fd.min} repetitions; it has "
                          f"{len(present)}")


@check("PRF-FLD-002")
def prf_fld_002(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, fd, reps in _fields(ctx):
        if fd.usage == "X" and any(reps):
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) has usage X (not supported) in the profile but is "
                          "valued")


@check("PRF-FLD-003")
def prf_fld_003(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, fd, reps in _fields(ctx):
        if fd.max != -1 and fd.usage != "X" and len(reps) > fd.max:
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) repeats {len(reps)} times; the profile allows {fd.max}")


def _components(ctx: V2Context):
    """(segment, field, repetition index, component number, definition, value) of defined components."""
    d = ctx.delimiters
    for seg, n, fd, reps in _fields(ctx):
        if not fd.children:
            continue
        for r, rv in enumerate(reps):
            if not rv or rv == '""':
                continue
            comps = rv.split(d.component)
            for c, cd in enumerate(fd.children, 1):
                yield seg, n, r, c, cd, comps[c - 1] if c <= len(comps) else ""


@check("PRF-CMP-001")
def prf_cmp_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, r, c, cd, value in _components(ctx):
        if cd.usage == "R" and not value:
            yield ctx.hit(seg, n, f"component {seg.name}-{n}.{c} ({cd.name}) has usage R in the profile but is empty",
                          comp=c, rep=r)


@check("PRF-CMP-002")
def prf_cmp_002(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, r, c, cd, value in _components(ctx):
        if cd.usage == "X" and value:
            yield ctx.hit(seg, n, f"component {seg.name}-{n}.{c} ({cd.name}) has usage X in the profile but is valued",
                          comp=c, rep=r)


def _leaves(ctx: V2Context):
    """(segment, field, rep, component, definition, value) of every valued primitive the profile defines."""
    d = ctx.delimiters
    for seg, n, fd, reps in _fields(ctx):
        if fd.usage == "X":
            continue
        for r, rv in enumerate(reps):
            if not rv or rv == '""':
                continue
            if not fd.children:
                yield seg, n, r, 0, fd, rv
                continue
            comps = rv.split(d.component)
            for c, cd in enumerate(fd.children, 1):
                value = comps[c - 1] if c <= len(comps) else ""
                if value and cd.usage != "X":
                    yield seg, n, r, c, cd, value.split(d.subcomponent)[0] if cd.children else value


@check("PRF-LEN-001")
def prf_len_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, r, c, ed, value in _leaves(ctx):
        if ed.children and c == 0:
            continue
        if ed.max_length not in (None, -1) and len(value) > ed.max_length:
            yield ctx.hit(seg, n, f"{len(value)} characters exceed the profile's maximum length {ed.max_length}",
                          comp=c, rep=r)
        elif ed.min_length and len(value) < ed.min_length:
            yield ctx.hit(seg, n, f"{len(value)} characters are fewer than the profile's minimum length "
                          f"{ed.min_length}", comp=c, rep=r)


def _format_ok(dt: str, v: str) -> bool:
    if dt == "NM":
        return bool(NM.match(v))
    if dt == "SI":
        return bool(SI.match(v))
    if dt == "DT":
        m = DT.match(v)
        return bool(m) and _good_date(m.group(1), m.group(3), m.group(5))
    if dt == "TM":
        return bool(TM.match(v))
    if dt in ("DTM", "TS"):
        return valid_dtm(v)
    return True


@check("PRF-DT-001")
def prf_dt_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, r, c, ed, value in _leaves(ctx):
        dt = ed.datatype if not (ed.datatype == "TS" and ed.children) else "DTM"
        if not _format_ok(dt, value):
            yield ctx.hit(seg, n, f"{value!r} is not a valid {dt} (profile data type of {seg.name}-{n}"
                          f"{'.' + str(c) if c else ''})", comp=c, rep=r)


@check("PRF-VS-001")
def prf_vs_001(ctx: V2Context) -> Iterator[Hit]:
    prof = ctx.user_profile
    if prof is None:
        return
    for seg, n, r, c, ed, value in _leaves(ctx):
        if not ed.binding:
            continue
        allowed = prof.value_sets.get(ed.binding)
        if allowed is None and ed.binding.startswith("HL7"):
            allowed = ctx.table(ed.binding)  # the HL7 table of the message's version
        if allowed and value not in allowed:
            yield ctx.hit(seg, n, f"{value!r} is not in value set {ed.binding} bound to {seg.name}-{n}"
                          f"{'.' + str(c) if c else ''} (binding strength {ed.strength})", comp=c, rep=r)


@check("PRF-CS-001")
def prf_cs_001(ctx: V2Context) -> Iterator[Hit]:
    prof = ctx.user_profile
    if prof is None:
        return
    for st in prof.statements:
        for seg in ctx.segs(st.segment):
            steps = st.path
            field_no, rep = steps[0]
            comp = steps[1][0] if len(steps) > 1 else 0
            sub = steps[2][0] if len(steps) > 2 else 0
            value = ctx.value(seg, field_no, comp, rep - 1, sub)
            if st.kind == "presence":
                ok = bool(value)
            elif not value:
                continue  # a statement on a value says nothing when the value is absent (usage says that)
            elif st.kind == "plain":
                ok = value == st.values[0]
            elif st.kind == "list":
                ok = value in st.values
            else:
                ok = re.fullmatch(st.values[0], value) is not None
            if st.negate:
                ok = not ok
            if not ok:
                yield ctx.hit(seg, field_no, f"conformance statement {st.id} fails: {st.description or st.kind}"
                              f" (found {value!r})", comp=comp, rep=rep - 1)
