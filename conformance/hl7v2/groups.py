"""Group instances of a message, and NIST paths relative to a group (or to the whole message).

A profile's predicates, conformance statements and co-constraint tables may have a GROUP as context
(`<Group><ByName Name="VXU_V04.ORDER">`, IGAMT's `<Context Name="ORDER" Path="9[*]">`): their paths
then start at the group's children by position. In the NIST validation engine's path language
`3[1].9[1].1[1]` inside VXU_V04.ORDER is child 3 of the group (RXA), first occurrence, field 9,
component 1; `5[*].1[*]` is every OBX of every OBSERVATION group of the ORDER. So they are evaluated
once per group instance, on the segments the structure walk (`structure.walk`) placed in it.

The group structure is the profile's own (`<Group>` / `<SegGroup>` elements) when it defines the
group, else hl7apy's abstract message structure of the message's version (a NIST export reduced to a
few segments still names the groups of the full structure, and IGAMT numbers children as HL7 does).

Locations name the group instance: `ORDER[2].RXA.9.1`, `ORDER_OBSERVATION[1].OBSERVATION[3].OBX.2`
(a segment that may repeat in its group carries its occurrence: `OBSERVATION[1].NTE[2]`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from interop.text import is_ascii_digits

from ..finding import Hit
from .profile_expr import Anchor, NotEvaluated, parse_path
from .reference import Child

if TYPE_CHECKING:
    from interop.codecs.hl7v2.tokenizer import Segment

    from .context import V2Context


_STRUCT = re.compile(r"[A-Z][A-Z0-9]{2}_[A-Z0-9]{3}")


@dataclass(slots=True, eq=False)
class GroupInstance:
    """One occurrence of a group in a message (the message itself: name '')."""

    name: str
    path: str  # ORDER_OBSERVATION[1].OBSERVATION[3] ('' for the message)
    names: tuple[str, ...]  # group names from the top: ('ORDER_OBSERVATION', 'OBSERVATION')
    children: tuple[Child, ...]  # the group's definition
    first: int  # index of its first segment in the message
    slots: dict[int, dict[int, int | GroupInstance]] = field(default_factory=dict)
    """child index (0-based) → occurrence (1-based) → segment index or group instance."""


def instances(placed: list, top: tuple[Child, ...], prefix: str = "") -> list[GroupInstance]:
    """The message (first) and every group instance, in message order, from a walk's placements (group
    names without hl7apy's structure `prefix`: VXU_V04_ORDER → ORDER, as profiles name them)."""
    root = GroupInstance("", "", (), top, 0)
    by_key: dict[tuple, GroupInstance] = {(): root}
    out = [root]
    for i, stack in enumerate(placed):
        if stack is None:
            continue
        parent, key = root, ()
        for children, ci, count in stack[:-1]:
            key = (*key, ci, count)
            inst = by_key.get(key)
            if inst is None:
                child = children[ci]
                name = child.name[len(prefix):] if prefix and child.name.startswith(prefix) else child.name
                path = f"{parent.path}.{name}[{count}]" if parent.path else f"{name}[{count}]"
                inst = GroupInstance(name, path, (*parent.names, name), child.children, i)
                by_key[key] = inst
                parent.slots.setdefault(ci, {})[count] = inst
                out.append(inst)
            parent = inst
        _children, ci, count = stack[-1]
        parent.slots.setdefault(ci, {})[count] = i
    return out


def _find(nodes: tuple[Child, ...], names: tuple[str, ...], prefix: str = "") -> bool:
    """Whether the group `names[-1]` is in this structure (hl7apy names it with the structure `prefix`)."""
    for n in nodes:
        if n.is_group:
            if n.name in (names[-1], prefix + names[-1]) or _find(n.children, names, prefix):
                return True
    return False


def message_groups(ctx: V2Context, profile_tree: tuple[Child, ...], profile_placed: Callable[[], list],
                   group: str = "", *, root: bool = False) -> list[GroupInstance]:
    """The group instances of the message (the message first), in the structure that defines `group`
    (the profile's, whose walk placed the segments `profile_placed()`, else hl7apy's of the message's
    version), or of `group` alone (`root`: the message of that structure, from which context paths start).
    Raises NotEvaluated when no structure defines the group."""
    names = tuple(group.split(".")) if group else ()
    if len(names) > 1 and _STRUCT.fullmatch(names[0]):  # VXU_V04.ORDER: the message structure first
        names = names[1:]
    use_profile = not names or _find(profile_tree, names)
    cache = ctx.__dict__.setdefault("_group_instances", {})
    prefix = f"{ctx.structure}_" if ctx.structure else ""
    key = "profile" if use_profile else "hl7"
    if key not in cache:
        if use_profile:
            tree = profile_tree
            placed = profile_placed()
        elif ctx.structure is not None and ctx.walk is not None:
            tree = ctx.ref.structures[ctx.structure]
            placed = ctx.walk.placed
        else:
            cache[key] = []
        if key not in cache:
            cache[key] = instances(placed, tree, "" if use_profile else prefix)
    found = cache[key]
    if root and found:
        return found[:1]
    if names and not found:
        raise NotEvaluated(f"group {group} is in neither the profile's message structure nor HL7 v{ctx.ref.version}'s "
                           f"{ctx.structure or 'structure of MSH-9'}")
    if names and not use_profile and not _find(found[0].children, names, prefix):
        raise NotEvaluated(f"group {group} is in neither the profile's message structure nor HL7 v{ctx.ref.version}'s "
                           f"{ctx.structure}")
    if not names:
        return found[:1]
    return [g for g in found if g.names[-len(names):] == names]


@dataclass(frozen=True, slots=True)
class Position:
    """A position a group-relative path reaches: a segment (and field, repetition, component, subcomponent)."""

    seg: Segment
    label: str  # ORDER[1].RXA
    field: int = 0
    rep: int = 0
    comp: int = 0
    sub: int = 0

    def location(self) -> str:
        out = self.label
        if self.field:
            out += f".{self.field}" + (f"[{self.rep + 1}]" if self.rep else "")
            if self.comp:
                out += f".{self.comp}" + (f".{self.sub}" if self.sub else "")
        return out


@dataclass(frozen=True, slots=True)
class GroupAnchor:
    """Where a group-relative expression is evaluated: one group instance (or the message)."""

    inst: GroupInstance
    segments: tuple  # the message's segments (ctx.segments)

    @property
    def seg(self) -> Segment:
        return self.segments[self.inst.first]

    def reach(self, ctx: V2Context, path: str) -> Iterator[Position]:
        """Every position of `path` in this instance that exists in the message (occurrence `*`: all)."""
        yield from self._reach(ctx, self.inst, parse_path(path))

    def _reach(self, ctx: V2Context, inst: GroupInstance, steps: tuple[tuple[int, int], ...]) -> Iterator[Position]:
        (pos, rep), rest = steps[0], steps[1:]
        if not 1 <= pos <= len(inst.children):
            raise NotEvaluated(f"child {pos} of {inst.name or 'the message'} is not in its structure")
        child = inst.children[pos - 1]
        occurrences = inst.slots.get(pos - 1, {})
        targets = list(occurrences.items()) if rep == 0 else [(rep, occurrences[rep])] if rep in occurrences else []
        for occ, target in targets:
            if isinstance(target, GroupInstance):
                if rest:
                    yield from self._reach(ctx, target, rest)
                else:
                    yield Position(self.segments[target.first], target.path)
                continue
            seg = self.segments[target]
            label = (f"{inst.path}." if inst.path else "") + child.name + (
                f"[{occ}]" if child.max != 1 or not inst.path else "")  # at the top: PID[1], as elsewhere
            if not rest:
                yield Position(seg, label)
                continue
            for f, r, c, s in Anchor(seg).resolve(ctx, rest):
                yield Position(seg, label, f, r, c, s)

    def groups(self, path: str) -> list[GroupInstance]:
        """The group instances `path` reaches from this one (`9[*]`: every ORDER of a VXU_V04 message)."""
        found = [self.inst]
        for pos, rep in parse_path(path):
            step = []
            for inst in found:
                occurrences = inst.slots.get(pos - 1, {})
                targets = occurrences.values() if rep == 0 else [occurrences[rep]] if rep in occurrences else []
                step.extend(t for t in targets if isinstance(t, GroupInstance))
            found = step
        return found

    def segments_named(self, name: str) -> Iterator[Position]:
        """Every segment `name` placed in this instance or its nested groups, in message order."""
        def visit(inst: GroupInstance) -> Iterator[tuple[int, str]]:
            for ci, occurrences in inst.slots.items():
                child = inst.children[ci]
                for occ, target in occurrences.items():
                    if isinstance(target, GroupInstance):
                        yield from visit(target)
                    elif child.name == name:
                        yield target, (f"{inst.path}." if inst.path else "") + name + (
                            f"[{occ}]" if child.max != 1 or not inst.path else "")

        for i, label in sorted(visit(self.inst)):
            yield Position(self.segments[i], label)

    def values(self, ctx: V2Context, path: str) -> list[str]:
        """The valued occurrences at `path` (a segment or group path: its name when present)."""
        out = []
        for p in self.reach(ctx, path):
            v = ctx.value(p.seg, p.field, p.comp, p.rep, p.sub) if p.field else p.seg.name
            if v:
                out.append(v)
        return out

    def hit(self, ctx: V2Context, p: Position, message: str) -> Hit:
        off, length = ctx.span(p.seg, p.field or None, p.comp, p.rep)
        return Hit(p.location(), message, off, max(length, 1))


def _group_def(nodes: tuple[Child, ...], name: str, prefix: str) -> Child | None:
    for n in nodes:
        if n.is_group:
            if n.name in (name, prefix + name):
                return n
            found = _group_def(n.children, name, prefix)
            if found is not None:
                return found
    return None


def segment_target(trees: list[tuple[tuple[Child, ...], str]], group: str, target: str) -> tuple[str, str] | None:
    """(segment name, path in the segment) a group-relative `target` reaches (`1[1].12[1]` in VXU_V04.ORDER:
    ('ORC', '12[1]')), in the first of `trees` ((structure, hl7apy's group-name prefix)) defining the group."""
    names = group.split(".")
    for tree, prefix in trees:
        g = _group_def(tree, names[-1], prefix)
        if g is None:
            continue
        children, parts = g.children, target.split(".")
        for k, part in enumerate(parts):
            head = part.split("[", 1)[0]
            if not is_ascii_digits(head) or not 1 <= int(head) <= len(children):
                return None
            child = children[int(head) - 1]
            if not child.is_group:
                return child.name, ".".join(parts[k + 1:])
            children = child.children
        return None
    return None
