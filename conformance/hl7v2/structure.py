"""Message structure walk: segments against the version's abstract message structure.

A greedy descent over hl7apy's structure tree (sequence of segments and groups with min/max
cardinality), as HL7 v2 chapter 2 ("Message construction rules") reads a message: each segment is
placed in the first position that can take it; a required segment or group that is absent, a
segment repeated beyond its cardinality and a segment that fits nowhere are recorded. After a
segment that fits nowhere the walk resumes at the top of the structure (missing-required checks
off), so one stray segment does not hide the rest of the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .reference import Child, Reference


@dataclass(slots=True)
class Walk:
    """What the walk found, by kind; indexes are positions in the message's segment list."""

    missing_segments: list[tuple[int, str, str]] = field(default_factory=list)  # (before index, segment, group path)
    missing_groups: list[tuple[int, str, str]] = field(default_factory=list)  # (before index, group, 'OBR/ORC')
    too_many: list[tuple[int, int]] = field(default_factory=list)  # (index, max)
    not_in_structure: list[int] = field(default_factory=list)
    out_of_order: list[int] = field(default_factory=list)
    undefined: list[int] = field(default_factory=list)  # segment ids the version does not define
    z_segments: list[int] = field(default_factory=list)
    placed: list[tuple | None] = field(default_factory=list)
    """Per segment index, where the walk placed it: the frames (children, child index, occurrence 1-based) from
    the top of the structure down to the segment (None: not placed). Group instances are read from it
    (`groups.py`)."""


_FIRST: dict[int, frozenset[str]] = {}
_NAMES: dict[int, frozenset[str]] = {}


def first_set(child: Child) -> frozenset[str]:
    """Segment ids that can start this segment or group."""
    key = id(child)
    hit = _FIRST.get(key)
    if hit is not None:
        return hit
    if not child.is_group:
        out = frozenset((child.name,))
    else:
        names: set[str] = set()
        for c in child.children:
            names |= first_set(c)
            if c.min >= 1:
                break
        out = frozenset(names)
    _FIRST[key] = out
    return out


def all_names(children: tuple[Child, ...]) -> frozenset[str]:
    key = id(children)
    hit = _NAMES.get(key)
    if hit is not None:
        return hit
    names: set[str] = set()
    for c in children:
        names |= all_names(c.children) if c.is_group else {c.name}
    out = frozenset(names)
    _NAMES[key] = out
    return out


def walk(names: list[str], ref: Reference, structure: str) -> Walk:
    """Place the segment ids `names` in `structure` of `ref`."""
    top = ref.structures[structure]
    known = all_names(top)
    defined = ref.segments
    n = len(names)
    w = Walk(placed=[None] * n)
    skipped: set[int] = set()

    def skip(i: int) -> int:
        # Z segments and ids the version does not define can stand anywhere: note them and move on
        while i < n and (names[i][:1] == "Z" or names[i] not in defined and names[i] not in known):
            if i not in skipped:
                skipped.add(i)
                (w.z_segments if names[i][:1] == "Z" else w.undefined).append(i)
            i += 1
        return i

    # continuation frames of the last placed segment: (children, child index, repetitions so far)
    Frame = tuple[tuple[Child, ...], int, int]
    last: list[tuple[Frame, ...]] = [((top, 0, 0),)]

    def seq(children: tuple[Child, ...], i: int, path: str, report: bool, stack: tuple[Frame, ...] = (),
            start: int = 0, start_count: int = 0) -> int:
        for ci in range(start, len(children)):
            child = children[ci]
            limit = child.max if child.max != -1 else n + 1
            count = start_count if ci == start else 0
            i = skip(i)
            while i < n and count < limit and names[i] in first_set(child):
                if child.is_group:
                    sub = f"{path}.{child.name}" if path else child.name
                    j = seq(child.children, i, sub, report, stack + ((children, ci, count + 1),))
                    if j == i:
                        break
                    i = j
                else:
                    last[0] = w.placed[i] = stack + ((children, ci, count + 1),)
                    i += 1
                count += 1
                i = skip(i)
            if count < child.min and report:
                if child.is_group:
                    w.missing_groups.append((i, child.name, "/".join(sorted(first_set(child)))))
                else:
                    w.missing_segments.append((i, child.name, path))
        return i

    i = seq(top, 0, "", True)
    while i < n:
        i = skip(i)
        if i >= n:
            break
        # continue where the last placed segment left each open group, innermost first
        frames = last[0]
        for k in range(len(frames) - 1, -1, -1):
            children, ci, count = frames[k]
            j = seq(children, i, "", False, frames[:k], ci, count)
            if j > i:
                i = j
                break
        else:
            if names[i] not in known:
                w.not_in_structure.append(i)
            elif i > 0 and names[i - 1] == names[i]:
                w.too_many.append((i, _max_of(top, names[i])))
            else:
                w.out_of_order.append(i)
            i += 1
    # a required segment reported missing but met further on was misplaced, not missing
    w.missing_segments = [m for m in w.missing_segments if m[1] not in names[m[0]:]]
    w.missing_groups = [m for m in w.missing_groups if not set(m[2].split("/")) & set(names[m[0]:])]
    return w


def _max_of(children: tuple[Child, ...], name: str) -> int:
    """The cardinality maximum of the first definition of segment `name` in a structure."""
    for c in children:
        if c.is_group:
            m = _max_of(c.children, name)
            if m:
                return m
        elif c.name == name:
            return c.max
    return 0
