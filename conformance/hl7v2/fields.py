"""Field-level scan of a message against its version's segment definitions, done once per message.

Every field, repetition, component and subcomponent is visited once; the scan keeps what the
checks of `checks.py` look at (required fields absent, repetitions beyond cardinality, parts the
data type does not define) and every valued leaf bucketed by data type, so that each data type
check reads only its own leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .reference import FieldDef, Leaf

if TYPE_CHECKING:
    from interop.codecs.hl7v2.tokenizer import Segment

    from .context import V2Context


class LeafValue(NamedTuple):
    """One valued primitive: where, what type and table the reference gives it, its text."""

    seg: Segment
    field: int
    rep: int
    comp: int  # 0: the field itself is primitive
    sub: int
    datatype: str
    table: str | None
    value: str
    name: str  # hl7apy's element name (OBX_11, CWE_3, TS_1)


@dataclass(slots=True)
class Scan:
    required_empty: list[tuple[Segment, int, FieldDef]] = field(default_factory=list)
    too_many_reps: list[tuple[Segment, int, int, int]] = field(default_factory=list)
    extra_fields: list[tuple[Segment, int, int]] = field(default_factory=list)  # (seg, field, defined)
    extra_components: list[tuple[Segment, int, int, int, int]] = field(default_factory=list)
    required_comp_empty: list[tuple[Segment, int, int, int, str]] = field(default_factory=list)
    extra_subcomponents: list[tuple[Segment, int, int, int]] = field(default_factory=list)
    leaves: dict[str, list[LeafValue]] = field(default_factory=dict)

    def of(self, *datatypes: str) -> list[LeafValue]:
        out: list[LeafValue] = []
        for dt in datatypes:
            out.extend(self.leaves.get(dt, ()))
        return out


_REQUIRED: dict[int, tuple[int, ...]] = {}  # id(segment definition) -> required field numbers


def scan(ctx: V2Context) -> Scan:
    """Visit every field of every segment the message's version defines."""
    ref = ctx.ref
    d = ctx.delimiters
    rs, cs, ss = d.repetition, d.component, d.subcomponent
    out = Scan()
    leaves = out.leaves
    for seg in ctx.segments:
        defs = ref.segments.get(seg.name)
        if defs is None or seg.name[:1] == "Z":
            continue
        fields = seg.fields
        first = 3 if seg.name == "MSH" else 1
        ndefs = len(defs)
        nfields = len(fields)
        required = _REQUIRED.get(id(defs))
        if required is None:
            required = _REQUIRED[id(defs)] = tuple(n for n, fd in enumerate(defs, 1) if fd.min >= 1)
        for n in required:
            if n >= first and (n >= nfields or not fields[n]):
                out.required_empty.append((seg, n, defs[n - 1]))
        for n in range(first, nfields):
            raw = fields[n]
            if not raw:
                continue
            if n > ndefs:
                out.extra_fields.append((seg, n, ndefs))
                continue
            fd = defs[n - 1]
            reps = raw.split(rs) if rs in raw else [raw]
            if fd.max != -1 and len(reps) > fd.max:
                out.too_many_reps.append((seg, n, len(reps), fd.max))
                if fd.max == 0:  # withdrawn in this version: reported once, its content not checked
                    continue
            dt, parts = fd.datatype, fd.parts
            if dt == "varies":
                dt = ctx.value(seg, 2).strip() if seg.name == "OBX" else "varies"
                parts = ref.datatypes.get(dt, ())
            for r, rv in enumerate(reps):
                if not rv or rv == '""':  # empty repetition, or the explicit null
                    continue
                if not parts:
                    if cs in rv and dt != "varies":
                        out.extra_components.append((seg, n, r, rv.count(cs) + 1, 1))
                        rv = rv.split(cs)[0]
                    if ss in rv and dt != "varies":
                        out.extra_subcomponents.append((seg, n, r, 0))
                        rv = rv.split(ss)[0]
                    leaves.setdefault(dt, []).append(LeafValue(seg, n, r, 0, 0, dt, fd.table, rv, f"{seg.name}_{n}"))
                    continue
                comps = rv.split(cs) if cs in rv else [rv]
                if len(comps) > len(parts) and any(comps[len(parts):]):
                    out.extra_components.append((seg, n, r, len(comps), len(parts)))
                for c, part in enumerate(parts, 1):
                    cv = comps[c - 1] if c <= len(comps) else ""
                    if not cv:
                        if part.min >= 1:
                            out.required_comp_empty.append((seg, n, r, c, part.name))
                        continue
                    _component(out, seg, n, r, c, part, cv, ss, leaves)
    return out


def _component(out: Scan, seg: Segment, n: int, r: int, c: int, part: Leaf, cv: str, ss: str,
               leaves: dict[str, list[LeafValue]]) -> None:
    if not part.parts:
        if ss in cv:
            out.extra_subcomponents.append((seg, n, r, c))
            cv = cv.split(ss)[0]
        leaves.setdefault(part.datatype, []).append(LeafValue(seg, n, r, c, 0, part.datatype, part.table, cv,
                                                              part.name))
        return
    subs = cv.split(ss) if ss in cv else [cv]
    if len(subs) > len(part.parts) and any(subs[len(part.parts):]):
        out.extra_subcomponents.append((seg, n, r, c))
    for k, sp in enumerate(part.parts, 1):
        sv = subs[k - 1] if k <= len(subs) else ""
        if sv:
            leaves.setdefault(sp.datatype, []).append(LeafValue(seg, n, r, c, k, sp.datatype, sp.table, sv,
                                                                sp.name))
