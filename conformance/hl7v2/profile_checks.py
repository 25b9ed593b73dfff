"""Checks of a message against a user's XML conformance profile (profile `hl7v2-xml`, xmlprofile.py).

Usage R/RE/O/X and conditional usage C(a/b) with its predicate, of segments, groups, fields and
components; cardinality, lengths, data type formats, value-set bindings, conformance statements and
co-constraints, in the NIST validation engine's vocabulary: each hit has a location path (`PID[1].3.5`) and names the profile rule it broke.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..catalogue import check
from ..finding import Hit
from .checks import DT, NM, SI, TM, _good_date, valid_dtm
from .context import V2Context
from .groups import GroupAnchor, Position, message_groups, segment_target
from .profile_expr import Anchor, NotEvaluated, describe, evaluate, parse_path
from .reference import Child, closest_version, reference
from .structure import walk

if TYPE_CHECKING:
    from interop.codecs.hl7v2.tokenizer import Segment

    from ..xmlprofile import ElementDef, Node, UserProfile

from ..xmlprofile import conditional

_TREES: dict[int, tuple[UserProfile, tuple[Child, ...]]] = {}  # the profile is kept: its id is not reused
_NOT_SENT = ("X", "W")  # X not supported; W withdrawn from the base standard (NIST profiles): neither is sent


def _tree(profile: UserProfile) -> tuple[Child, ...]:
    key = id(profile)
    entry = _TREES.get(key)
    if entry is None or entry[0] is not profile:
        def conv(nodes: tuple[Node, ...]) -> tuple[Child, ...]:
            return tuple(Child(n.name, n.is_group, n.min if n.usage not in _NOT_SENT else 0, n.max if n.usage not in _NOT_SENT else -1,
                               conv(n.children) if n.is_group else ()) for n in nodes)

        entry = _TREES[key] = (profile, conv(profile.nodes))
    return entry[1]


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
        if usage.get(seg.name) in _NOT_SENT:
            yield ctx.hit(seg, None, f"segment {seg.name} has usage {usage.get(seg.name)} (not to be sent) in {_where(ctx.user_profile)}")


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
        if usage.get(seg.name) in _NOT_SENT:
            continue  # PRF-SEG-002 says it
        what = "is not in" if i in w.not_in_structure else "is out of order in"
        yield ctx.hit(seg, None, f"segment {seg.name} {what} the message structure of {_where(ctx.user_profile)}")


def _fields(ctx: V2Context) -> list:
    """(segment, field number, definition, repetitions) of every field the profile defines (once per message)."""
    cached = getattr(ctx, "_profile_fields", None)
    if cached is None:
        cached = [(seg, i + 1, fd, _reps(ctx, seg, i + 1)) for seg, defs in _segments_with_defs(ctx)
                  for i, fd in enumerate(defs)]
        ctx._profile_fields = cached  # type: ignore[attr-defined]
    return cached


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
        if fd.usage in _NOT_SENT and any(reps):
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) has usage {fd.usage} (not to be sent) in the profile "
                          "but is valued")


@check("PRF-FLD-003")
def prf_fld_003(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is None:
        return
    for seg, n, fd, reps in _fields(ctx):
        if fd.max != -1 and fd.usage not in _NOT_SENT and len(reps) > fd.max:
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
        if cd.usage in _NOT_SENT and value:
            yield ctx.hit(seg, n, f"component {seg.name}-{n}.{c} ({cd.name}) has usage {cd.usage} in the profile but is valued",
                          comp=c, rep=r)


def _leaves(ctx: V2Context):
    """(segment, field, rep, component, definition, value) of every valued primitive the profile defines."""
    d = ctx.delimiters
    for seg, n, fd, reps in _fields(ctx):
        if fd.usage in _NOT_SENT:
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
                if value and cd.usage not in _NOT_SENT:
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


# -- RE, conditional usage, conformance statements, co-constraints ----------------------------------------


@check("PRF-RE-001")
def prf_re_001(ctx: V2Context) -> Iterator[Hit]:
    """RE ("required, but may be empty"): absent is allowed (HL7 v2 Conformance Methodology §5.1: the
    sender must send the element when it has the data); the validator cannot know whether the device had
    it, so it says so as info, the way the NIST engine keeps RE apart from R (error) and O (silent)."""
    prof = ctx.user_profile
    if prof is None or not ctx.segments:
        return
    present = {seg.name for seg in ctx.segments}
    for node in prof.nodes:
        if not node.is_group and node.usage == "RE" and node.name not in present:
            yield Hit(node.name, f"segment {node.name} (usage RE) is absent: allowed, but the sender must send it "
                      "when it has the data", *ctx.span(ctx.segments[-1]))
    for seg, n, fd, reps in _fields(ctx):
        valued = [r for r in reps if r]
        if fd.usage == "RE" and not valued:
            yield ctx.hit(seg, n, f"{seg.name}-{n} ({fd.name}) has usage RE and is empty: allowed, but the sender "
                          "must send it when it has the data")
    for seg, n, r, c, cd, value in _components(ctx):
        if cd.usage == "RE" and not value:
            yield ctx.hit(seg, n, f"component {seg.name}-{n}.{c} ({cd.name}) has usage RE and is empty: allowed, but "
                          "the sender must send it when it has the data", comp=c, rep=r)


class _Evaluation:
    """Predicates, statements and co-constraints of the profile evaluated once per message."""

    def __init__(self) -> None:
        self.cu_r: list[Hit] = []
        self.cu_x: list[Hit] = []
        self.cs: list[Hit] = []
        self.cc: list[Hit] = []
        self.nev: dict[str, Hit] = {}

    def not_evaluated(self, key: str, hit: Hit) -> None:
        self.nev.setdefault(key, hit)


def _anchors(ctx: V2Context, kind: str, name: str) -> list[Anchor]:
    if kind == "segment":
        return [Anchor(seg) for seg in ctx.segs(name)]
    return _dt_instances(ctx).get(name, [])


def _dt_instances(ctx: V2Context) -> dict[str, list[Anchor]]:
    """Data type id (flavour) → each valued field / component of that type in the message."""
    cached = getattr(ctx, "_profile_dt", None)
    if cached is None:
        cached = {}
        d = ctx.delimiters
        for seg, n, fd, reps in _fields(ctx):
            for r, rv in enumerate(reps):
                if not rv or rv == '""':
                    continue
                if fd.dt_id:
                    cached.setdefault(fd.dt_id, []).append(Anchor(seg, n, r))
                comps = rv.split(d.component)
                for c, cd in enumerate(fd.children, 1):
                    if cd.dt_id and c <= len(comps) and comps[c - 1]:
                        cached.setdefault(cd.dt_id, []).append(Anchor(seg, n, r, c))
        ctx._profile_dt = cached  # type: ignore[attr-defined]
    return cached


def _where_in(ctx: V2Context, anchor: Anchor, path: str) -> tuple[Segment, int, int, int]:
    try:
        f, c, rep = anchor.location(ctx, path)
    except (NotEvaluated, IndexError):
        f, c, rep = anchor.field, anchor.comp, anchor.rep
    return anchor.seg, f, c, rep


def _label(seg: Segment, f: int, c: int) -> str:
    return f"{seg.name}-{f}" + (f".{c}" if c else "")


def _predicates(ctx: V2Context, ev: _Evaluation) -> None:
    prof = ctx.user_profile
    for pred in prof.predicates:
        usage_text = f"C({pred.true_usage}/{pred.false_usage})"
        if pred.context_kind in ("group", "message"):
            _group_predicate(ctx, ev, pred, usage_text)
            continue
        for anchor in _anchors(ctx, pred.context_kind, pred.context):
            if pred.condition is None:
                seg, f, c, rep = _where_in(ctx, anchor, pred.target)
                ev.not_evaluated(f"P:{pred.id}", ctx.hit(seg, f or None, (
                    f"predicate not evaluated: {pred.description} ({_label(seg, f, c)}, usage {usage_text}; "
                    "treated as O)"), comp=c, rep=rep))
                break
            try:
                holds = evaluate(pred.condition, ctx, anchor, prof.value_sets)
                steps = parse_path(pred.target)
                present = bool(anchor.values(ctx, pred.target))
            except NotEvaluated as exc:
                seg, f, c, rep = _where_in(ctx, anchor, pred.target)
                ev.not_evaluated(f"P:{pred.id}", ctx.hit(seg, f or None, (
                    f"predicate not evaluated: {pred.description or describe(pred.condition)} ({exc}; "
                    f"{_label(seg, f, c)}, usage {usage_text}; treated as O)"), comp=c, rep=rep))
                break
            usage = pred.true_usage if holds else pred.false_usage
            seg, f, c, rep = _where_in(ctx, anchor, pred.target)
            if not anchor.field and len(steps) > 1 and not ctx.value(seg, f, 0, rep):
                continue  # a component's usage applies inside a valued field only
            why = "holds" if holds else "does not hold"
            if usage == "R" and not present:
                ev.cu_r.append(ctx.hit(seg, f, f"{_label(seg, f, c)} has usage {usage_text} and its predicate {why} "
                                       f"({pred.description or describe(pred.condition)}): usage R, but it is empty",
                                       comp=c, rep=rep))
            elif usage == "X" and present:
                ev.cu_x.append(ctx.hit(seg, f, f"{_label(seg, f, c)} has usage {usage_text} and its predicate {why} "
                                       f"({pred.description or describe(pred.condition)}): usage X, but it is valued",
                                       comp=c, rep=rep))
    # conditional elements the profile gives no predicate for
    present = {seg.name: seg for seg in reversed(ctx.segments)}  # the first of each name
    for name, n, c, ed in _uncovered(prof):
        seg = present.get(name)
        if seg is not None:
            ev.not_evaluated(f"U:{name}-{n}.{c}", ctx.hit(seg, n, (
                f"predicate not evaluated: the profile gives none for {_label(seg, n, c)} ({ed.name}, usage "
                f"{ed.usage}; treated as O)"), comp=c))


def _group_anchors(ctx: V2Context, group: str, root: bool = False) -> list[GroupAnchor]:
    """Each instance of `group` in the message, or (`root`) the message in the structure that defines it
    (raises NotEvaluated when no structure defines it)."""
    segs = tuple(ctx.segments)
    return [GroupAnchor(g, segs) for g in message_groups(ctx, _tree(ctx.user_profile),
                                                          lambda: _profile_walk(ctx).placed, group, root=root)]


def _group_predicate(ctx: V2Context, ev: _Evaluation, pred, usage_text: str) -> None:
    """A predicate whose context is a group: evaluated in each instance of the group, on the element its
    target reaches there (`1[1].12[1]` in VXU_V04.ORDER: ORC-12 of that ORDER)."""
    prof = ctx.user_profile
    text = pred.description or describe(pred.condition)
    try:
        if pred.condition is None:
            raise NotEvaluated("no structured condition")
        steps = parse_path(pred.target)
        for ga in _group_anchors(ctx, pred.context if pred.context_kind == "group" else ""):
            holds = evaluate(pred.condition, ctx, ga, prof.value_sets)
            usage = pred.true_usage if holds else pred.false_usage
            if usage not in ("R", "X"):
                continue
            positions = list(ga.reach(ctx, pred.target))
            why = "holds" if holds else "does not hold"
            if not positions:
                if usage == "R" and len(steps) == 1:  # a segment or group of the instance
                    child = ga.inst.children[steps[0][0] - 1]
                    where = Position(ga.seg, f"{ga.inst.path}.{child.name}" if ga.inst.path else child.name)
                    ev.cu_r.append(ga.hit(ctx, where, f"{child.name} has usage {usage_text} in {ga.inst.path or 'the message'} and its "
                                          f"predicate {why} ({text}): usage R, but it is missing"))
                continue  # an element of a segment the instance does not have: its usage does not apply
            if positions[0].comp and not ctx.value(positions[0].seg, positions[0].field, 0, positions[0].rep):
                continue  # a component's usage applies inside a valued field only
            valued = [p for p in positions if (ctx.value(p.seg, p.field, p.comp, p.rep, p.sub) if p.field else True)]
            name = f"{positions[0].seg.name}-{positions[0].field}" + (f".{positions[0].comp}" if positions[0].comp
                                                                       else "")
            if usage == "R" and not valued:
                ev.cu_r.append(ga.hit(ctx, positions[0], f"{name} has usage {usage_text} in {ga.inst.path or 'the message'} and its "
                                      f"predicate {why} ({text}): usage R, but it is empty"))
            elif usage == "X" and valued:
                ev.cu_x.append(ga.hit(ctx, valued[0], f"{name} has usage {usage_text} in {ga.inst.path or 'the message'} and its "
                                      f"predicate {why} ({text}): usage X, but it is valued"))
    except NotEvaluated as exc:
        anchor_seg = ctx.msh or ctx.segments[0]
        ev.not_evaluated(f"P:{pred.id}", ctx.hit(anchor_seg, None, (
            f"predicate not evaluated: {text} ({pred.context_kind} {pred.context}, {pred.target}, {usage_text}: {exc}; "
            "treated as O)")))


def _group_statement(ctx: V2Context, ev: _Evaluation, st, text: str) -> None:
    """A conformance statement whose context is a group: it holds in each instance of the group."""
    prof = ctx.user_profile
    a = st.assertion
    try:
        if a is None or not len(a):
            raise NotEvaluated("no assertion")
        top = a[0]
        for ga in _group_anchors(ctx, st.context if st.context_kind == "group" else ""):
            if top.tag in _VALUE_TESTS and not ga.values(ctx, top.get("Path", "")):
                continue  # a statement on a value says nothing when the value is absent (usage says that)
            if evaluate(a, ctx, ga, prof.value_sets):
                continue
            positions = list(ga.reach(ctx, st.target or top.get("Path") or "1[1]"))
            p = positions[0] if positions else Position(ga.seg, ga.inst.path or "message")
            found = ctx.value(p.seg, p.field, p.comp, p.rep, p.sub) if p.field else ""
            ev.cs.append(ga.hit(ctx, p, f"conformance statement {st.id} fails in {ga.inst.path or 'the message'}: {text} "
                                f"(found {found!r})"))
    except NotEvaluated as exc:
        anchor_seg = ctx.msh or ctx.segments[0]
        ev.not_evaluated(f"S:{st.id}:{st.target}", ctx.hit(anchor_seg, None, (
            f"conformance statement not evaluated: {st.id} {text} ({st.context_kind} {st.context}: {exc})")))


_UNCOVERED: dict[int, tuple[UserProfile, list]] = {}  # the profile is kept: its id is not reused


def _uncovered(prof: UserProfile) -> list:
    """(segment, field, component, definition) of the conditional elements no predicate targets (per profile)."""
    key = id(prof)
    entry = _UNCOVERED.get(key)
    if entry is None or entry[0] is not prof:
        covered = {(p.context, p.target) for p in prof.predicates}
        group_preds = [p for p in prof.predicates if p.context_kind == "group"]
        if group_preds:  # a group predicate covers the element of the segment its target reaches
            hl7 = reference(closest_version(prof.version or "2.5"))
            trees = [(_tree(prof), "")] + ([(hl7.structures[prof.struct], f"{prof.struct}_")]
                                           if hl7 is not None and prof.struct in hl7.structures else [])
            covered |= {t for t in (segment_target(trees, p.context, p.target) for p in group_preds) if t}
        out = []
        for name, sd in prof.segment_defs().items():
            for n, fd in enumerate(sd.fields, 1):
                items = [(name, f"{n}[1]", fd, 0)] + [(fd.dt_id, f"{c}[1]", cd, c)
                                                     for c, cd in enumerate(fd.children, 1)]
                for context, target, ed, c in items:
                    if conditional(ed.usage) is None or (context, target) in covered or \
                            (name, f"{n}[1].{c}[1]") in covered:
                        continue
                    out.append((name, n, c, ed))
        entry = _UNCOVERED[key] = (prof, out)
    return entry[1]


_VALUE_TESTS = {"PlainText", "StringList", "Format", "SimpleValue", "ValueSet", "NumberList"}


def _statements(ctx: V2Context, ev: _Evaluation) -> None:
    prof = ctx.user_profile
    for st in prof.statements:
        text = st.description or describe(st.assertion)
        if st.context_kind in ("group", "message"):
            _group_statement(ctx, ev, st, text)
            continue
        for anchor in _anchors(ctx, st.context_kind, st.context):
            a = st.assertion
            try:
                if a is None or not len(a):
                    raise NotEvaluated("no assertion")
                top = a[0]
                if top.tag in _VALUE_TESTS and not anchor.values(ctx, top.get("Path", "")):
                    continue  # a statement on a value says nothing when the value is absent (usage says that)
                ok = evaluate(a, ctx, anchor, prof.value_sets)
            except NotEvaluated as exc:
                ev.not_evaluated(f"S:{st.id}:{st.target}", ctx.hit(anchor.seg, anchor.field or None, (
                    f"conformance statement not evaluated: {st.id} {text} ({exc})"), comp=anchor.comp, rep=anchor.rep))
                break
            if not ok:
                seg, f, c, rep = _where_in(ctx, anchor, st.target or (a[0].get("Path") or "1[1]"))
                found = ctx.value(seg, f, c, rep)
                ev.cs.append(ctx.hit(seg, f, f"conformance statement {st.id} fails: {text} (found {found!r})",
                                     comp=c, rep=rep))


def _code_matches(ctx: V2Context, anchor: Anchor, el) -> bool:
    """A co-constraint <Code> (selector or constraint): the code and code system at one binding location."""
    base = el.get("Path", "")
    locations = [(b.get("CodePath", "1[1]"), b.get("CodeSystemPath", "3[1]")) for b in el.findall("BindingLocation")]
    for code_path, system_path in locations or [("1[1]", "3[1]")]:
        code = anchor.values(ctx, f"{base}.{code_path}")
        system = anchor.values(ctx, f"{base}.{system_path}")
        if code and code[0] == el.get("Code") and (not el.get("CodeSystem") or (system and system[0] ==
                                                                                  el.get("CodeSystem"))):
            return True
    return False


def _cc_holds(ctx: V2Context, anchor: Anchor, el, value_sets: dict[str, frozenset[str]]) -> tuple[bool, str]:
    """(holds, path) of one co-constraint cell."""
    path = el.get("Path", "")
    if el.tag == "Code":
        return _code_matches(ctx, anchor, el), path
    if el.tag == "PlainText":
        got = anchor.values(ctx, path)
        return bool(got) and got[0] == el.get("Value", el.get("Text", "")), path
    if el.tag == "ValueSet":
        ids = [b.get("BindingIdentifier", "") for b in el.iter("Binding")]
        allowed: set[str] = set()
        for ident in ids:
            if ident not in value_sets:
                raise NotEvaluated(f"value set {ident!r} is not in the profile's value set library")
            allowed |= value_sets[ident]
        locations = [b.get("CodeLocation", "1[1]") for b in el.iter("ComplexBindingLocation")] or ["1[1]"]
        codes = [v for loc in locations for v in anchor.values(ctx, f"{path}.{loc}")]
        return bool(codes) and any(code in allowed for code in codes), path
    raise NotEvaluated(f"co-constraint cell <{el.tag}>")


def _cc_contexts(ctx: V2Context, row, cache: dict) -> list[tuple[GroupAnchor, list[Position]]]:
    """(context instance, the row's segments in it) of a co-constraint row bound to a group context."""
    key = (row.context, row.context_path, row.segment_path, row.segment)
    if key not in cache:
        top = _group_anchors(ctx, row.context, root=True)[0]
        out = []
        for inst in top.groups(row.context_path) if row.context_path else [top.inst]:
            ga = GroupAnchor(inst, top.segments)
            positions = list(ga.reach(ctx, row.segment_path)) if row.segment_path else list(
                ga.segments_named(row.segment))
            out.append((ga, [p for p in positions if p.seg.name == row.segment]))
        cache[key] = out
    return cache[key]


def _cc_check_row(ctx: V2Context, seg, row, report) -> bool:
    """Whether the row's selectors select `seg`; if so, each of its constraints that does not hold there is
    reported, in order, as report(field, component, repetition, message). NotEvaluated propagates after
    what was reported before it."""
    value_sets = ctx.user_profile.value_sets
    anchor = Anchor(seg)
    if not all(_cc_holds(ctx, anchor, sel, value_sets)[0] for sel in row.selectors):
        return False
    for cell in row.constraints:
        ok, path = _cc_holds(ctx, anchor, cell, value_sets)
        if not ok:
            f, c, rep = anchor.location(ctx, path)
            want = cell.get("Value") or cell.get("Code") or ",".join(
                b.get("BindingIdentifier", "") for b in cell.iter("Binding"))
            report(f, c, rep, f"co-constraint for {row.label}: {cell.get('Name') or path} SHALL be {want} "
                              f"(found {ctx.value(seg, f, c, rep)!r})")
    return True


def _cc_apply(ctx: V2Context, ev: _Evaluation, ga: GroupAnchor, row, positions: list[Position]) -> int:
    """Check the row's constraints on each of `positions` its selectors select; how many it selected."""
    matched = 0
    for p in positions:
        def report(f: int, c: int | None, rep: int, message: str, p: Position = p) -> None:
            ev.cc.append(ga.hit(ctx, Position(p.seg, p.label, f, rep, c), message))

        if _cc_check_row(ctx, p.seg, row, report):
            matched += 1
    return matched


def _cc_members(ctx: V2Context, ev: _Evaluation, ga: GroupAnchor, row, primary, positions: list[Position]) -> None:
    """A member row of a CoConstraintGroup: in each group instance (a segment the Primary selects and the
    segments sharing its value at the table's IdPath, e.g. OBX-4), on the members; usage R: Min of them."""
    prof = ctx.user_profile
    for pp in positions:
        anchor = Anchor(pp.seg)
        if not all(_cc_holds(ctx, anchor, sel, prof.value_sets)[0] for sel in primary.selectors):
            continue
        gid = anchor.values(ctx, row.id_path)
        members = [p for p in positions if p is not pp and Anchor(p.seg).values(ctx, row.id_path) == gid]
        matched = _cc_apply(ctx, ev, ga, row, members)
        need = max(row.min, 1)
        if row.usage == "R" and matched < need:
            f, c, rep = anchor.location(ctx, row.id_path)
            ev.cc.append(ga.hit(ctx, Position(pp.seg, pp.label, f, rep, c), (
                f"co-constraint row {row.label} of group {row.group} has usage R: at least {need} {row.segment} "
                f"expected with {primary.label} ({row.id_path} {gid[0] if gid else ''!r}) in "
                f"{ga.inst.path or 'the message'}, {matched} found")))


def _coconstraints_in_groups(ctx: V2Context, ev: _Evaluation, i: int, row, cache: dict) -> None:
    """A co-constraint row bound to a context (IGAMT `<Context Name="ORDER" Path="9[*]">`): in each instance
    of the context whose table condition holds, every selected segment meets the row's constraints, and a row
    with usage R selects at least Min segments."""
    prof = ctx.user_profile
    try:
        contexts = _cc_contexts(ctx, row, cache)
        for ga, positions in contexts:
            if row.condition is not None and not evaluate(row.condition, ctx, ga, prof.value_sets):
                continue
            if row.group and not row.primary:
                primary = next((r for r in prof.coconstraints if r.primary and r.group == row.group and
                                (r.context_path, r.segment_path) == (row.context_path, row.segment_path)), None)
                if primary is None or not row.id_path:
                    raise NotEvaluated(f"group {row.group} has no Primary row or no CoConstraintGroupId")
                _cc_members(ctx, ev, ga, row, primary, positions)
                continue
            matched = _cc_apply(ctx, ev, ga, row, positions)
            need = max(row.min, 1)
            if row.usage == "R" and matched < need:
                where = Position(positions[-1].seg if positions else ga.seg, ga.inst.path or "message")
                ev.cc.append(ga.hit(ctx, where, (
                    f"co-constraint row {row.label} has usage R: at least {need} {row.segment} expected in "
                    f"{ga.inst.path or 'the message'}, {matched} found")))
    except NotEvaluated as exc:
        anchor_seg = ctx.msh or ctx.segments[0]
        ev.not_evaluated(f"C:{i}", ctx.hit(anchor_seg, None, f"co-constraint not evaluated: {row.label} "
                                           f"(context {row.context or 'message'} {row.context_path}: {exc})"))


def _coconstraints(ctx: V2Context, ev: _Evaluation) -> None:
    prof = ctx.user_profile
    cache: dict = {}
    for i, row in enumerate(prof.coconstraints):
        if row.context_path or row.segment_path or row.condition is not None or row.group:
            _coconstraints_in_groups(ctx, ev, i, row, cache)
            continue
        segs = ctx.segs(row.segment)
        matched = 0
        for seg in segs:
            def report(f: int, c: int | None, rep: int, message: str, seg=seg) -> None:
                ev.cc.append(ctx.hit(seg, f, message, comp=c, rep=rep))

            try:
                if _cc_check_row(ctx, seg, row, report):
                    matched += 1
            except NotEvaluated as exc:
                ev.not_evaluated(f"C:{i}", ctx.hit(seg, None, f"co-constraint not evaluated: {row.label} ({exc})"))
                break
        if row.usage == "R" and matched < max(row.min, 1) and segs:
            ev.cc.append(ctx.hit(segs[-1], None, f"co-constraint row {row.label} has usage R: at least "
                                 f"{max(row.min, 1)} {row.segment} expected, {matched} found in the message"))


def _evaluation(ctx: V2Context) -> _Evaluation:
    cached = getattr(ctx, "_profile_eval", None)
    if cached is None:
        cached = _Evaluation()
        if ctx.segments:
            _predicates(ctx, cached)
            _statements(ctx, cached)
            _coconstraints(ctx, cached)
        ctx._profile_eval = cached  # type: ignore[attr-defined]
    return cached


@check("PRF-CU-001")
def prf_cu_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is not None:
        yield from _evaluation(ctx).cu_r


@check("PRF-CU-002")
def prf_cu_002(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is not None:
        yield from _evaluation(ctx).cu_x


@check("PRF-CS-001")
def prf_cs_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is not None:
        yield from _evaluation(ctx).cs


@check("PRF-CC-001")
def prf_cc_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is not None:
        yield from _evaluation(ctx).cc


@check("PRF-NEV-001")
def prf_nev_001(ctx: V2Context) -> Iterator[Hit]:
    if ctx.user_profile is not None:
        yield from _evaluation(ctx).nev.values()
