"""Evaluation of the NIST assertion expressions a conformance profile carries (predicates, conformance
statements, co-constraint conditions), on one message.

The NIST validation engine (usnistgov/v2-validation) writes each condition or assertion as a tree of
XML elements: leaves test one element (`Presence`, `PlainText`, `StringList`, `Format`, `SimpleValue`,
`PathValue`, `ValueSet`, `NumberList`) at a path relative to a context (a segment, or one instance of
a data type), combinators join them (`AND`, `OR`, `NOT`, `XOR`, `IMPLY`, `EXIST`, `FORALL`). We
evaluate that vocabulary by hand (no library reads it outside the Java engine); anything else
(`SetID`, `SubContext`, `Plugin`, group-relative paths ...) raises `NotEvaluated`, which the checks
report as an info finding instead of guessing.

A path (`3[1].1[1]`, `5[*]`) is relative to its context: in a segment its first step is a field, in a
field-level data type instance the first step is a component, in a component-level instance a
subcomponent. Repetition `*` means every repetition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:
    from interop.codecs.hl7v2.tokenizer import Segment

    from .context import V2Context


class NotEvaluated(Exception):
    """The expression uses a form this evaluator does not read (the message says which)."""


_STEP = re.compile(r"(\d+)(?:\[(\d+|\*)\])?")


@lru_cache(maxsize=4096)
def parse_path(text: str) -> tuple[tuple[int, int], ...]:
    """`3[1].1[1]` → ((3, 1), (1, 1)); repetition `*` → 0 (every repetition)."""
    out = []
    for part in (text or "").split("."):
        m = _STEP.fullmatch(part.strip())
        if not m:
            raise NotEvaluated(f"path {text!r} is not of the form 3[1].1[1]")
        rep = m.group(2)
        out.append((int(m.group(1)), 0 if rep == "*" else int(rep or 1)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where an expression is evaluated: a segment, or one instance of a data type inside it
    (field `field` repetition `rep` (0-based), and component `comp` when the instance is a component)."""

    seg: Segment
    field: int = 0
    rep: int = 0
    comp: int = 0

    def resolve(self, ctx: V2Context, steps: tuple[tuple[int, int], ...]) -> list[tuple[int, int, int, int]]:
        """(field, rep 0-based, comp, sub) positions of `steps` from this anchor (every repetition for `*`)."""
        if not self.field:  # segment context: field[.component[.subcomponent]]
            if len(steps) > 3:
                raise NotEvaluated("path deeper than a subcomponent")
            (f, r), rest = steps[0], steps[1:]
            reps = range(len(ctx.reps(self.seg, f)) or 1) if r == 0 else [r - 1]
            c = rest[0][0] if rest else 0
            s = rest[1][0] if len(rest) > 1 else 0
            return [(f, rep, c, s) for rep in reps]
        if self.comp:  # component-level data type: subcomponent
            if len(steps) > 1:
                raise NotEvaluated("path below a subcomponent")
            return [(self.field, self.rep, self.comp, steps[0][0])]
        if len(steps) > 2:  # field-level data type: component[.subcomponent]
            raise NotEvaluated("path deeper than a subcomponent of the data type")
        return [(self.field, self.rep, steps[0][0], steps[1][0] if len(steps) > 1 else 0)]

    def values(self, ctx: V2Context, path: str) -> list[str]:
        """The valued occurrences at `path` ('""' counts as valued: it is the null that says "delete")."""
        out = []
        for f, rep, c, s in self.resolve(ctx, parse_path(path)):
            v = ctx.value(self.seg, f, c, rep, s)
            if v:
                out.append(v)
        return out

    def location(self, ctx: V2Context, path: str) -> tuple[int, int, int]:
        """(field, comp, rep) of the first position of `path`, for a hit."""
        f, rep, c, _s = self.resolve(ctx, parse_path(path))[0]
        return f, c, rep


_OPS: dict[str, Callable[[object, object], bool]] = {
    "EQ": lambda a, b: a == b, "NE": lambda a, b: a != b, "GT": lambda a, b: a > b,  # type: ignore[operator]
    "GE": lambda a, b: a >= b, "LT": lambda a, b: a < b, "LE": lambda a, b: a <= b,  # type: ignore[operator]
}


def _number(v: str) -> Decimal:
    try:
        return Decimal(v)
    except InvalidOperation:
        raise ValueError(v) from None


def _compare(op: str, a: str, b: str, kind: str) -> bool:
    fn = _OPS.get(op.upper())
    if fn is None:
        raise NotEvaluated(f"operator {op!r}")
    if kind.lower() in ("number", "nm"):
        try:
            return fn(_number(a), _number(b))
        except ValueError:
            return False
    return fn(a, b)


def evaluate(el: ET.Element, ctx: V2Context, anchor: Anchor, value_sets: dict[str, frozenset[str]]) -> bool:
    """True when the expression holds at `anchor`; raises NotEvaluated for forms we do not read."""
    tag = el.tag
    if tag in ("Condition", "Assertion"):
        if not len(el):
            raise NotEvaluated(f"empty <{tag}>")
        return evaluate(el[0], ctx, anchor, value_sets)
    if tag in ("AND", "FORALL"):
        return all(evaluate(c, ctx, anchor, value_sets) for c in el)
    if tag in ("OR", "EXIST"):
        return any(evaluate(c, ctx, anchor, value_sets) for c in el)
    if tag == "NOT":
        return not evaluate(el[0], ctx, anchor, value_sets)
    if tag == "XOR":
        return sum(evaluate(c, ctx, anchor, value_sets) for c in el) == 1
    if tag == "IMPLY":
        return (not evaluate(el[0], ctx, anchor, value_sets)) or evaluate(el[1], ctx, anchor, value_sets)
    if tag == "Presence":
        return bool(anchor.values(ctx, el.get("Path", "")))
    if tag == "PathValue":
        a = anchor.values(ctx, el.get("Path1", ""))
        b = anchor.values(ctx, el.get("Path2", ""))
        if not a or not b:
            return False
        return _compare(el.get("Operator", "EQ"), a[0], b[0], "string")
    values = anchor.values(ctx, el.get("Path", ""))
    if not values:
        return False  # a test on a value fails when the element is not valued (predicates pair it with Presence)
    fold = (lambda s: s.lower()) if el.get("IgnoreCase", "false").lower() == "true" else (lambda s: s)
    if tag == "PlainText":
        want = el.get("Text", el.get("Value", ""))
        return all(fold(v) == fold(want) for v in values)
    if tag == "StringList":
        allowed = {fold(x) for x in el.get("CSV", "").split(",")}
        return all(fold(v) in allowed for v in values)
    if tag == "NumberList":
        try:
            allowed_n = {_number(x) for x in el.get("CSV", "").split(",")}
            return all(_number(v) in allowed_n for v in values)
        except ValueError:
            return False
    if tag == "Format":
        rx = el.get("Regex", "")
        return all(re.fullmatch(rx, v) is not None for v in values)
    if tag == "SimpleValue":
        return all(_compare(el.get("Operator", "EQ"), v, el.get("Value", ""), el.get("Type", "String"))
                   for v in values)
    if tag == "ValueSet":
        ident = el.get("ValueSetID", "")
        allowed_vs = value_sets.get(ident)
        if allowed_vs is None:
            raise NotEvaluated(f"value set {ident!r} is not in the profile's value set library")
        return all(v.split(ctx.delimiters.component)[0] in allowed_vs for v in values)
    raise NotEvaluated(f"<{tag}>")


_LEAVES = {"Presence", "PlainText", "StringList", "Format", "SimpleValue", "PathValue", "ValueSet", "NumberList"}
_JOINS = {"Condition", "Assertion", "AND", "OR", "NOT", "XOR", "IMPLY", "EXIST", "FORALL",
          # parts of a co-constraint ValueSet cell and Code selector
          "ValueSetBinding", "BindingLocations", "ComplexBindingLocation", "Bindings", "Binding", "BindingLocation"}


def unsupported(el: ET.Element | None, value_sets: dict[str, frozenset[str]] | None = None) -> str | None:
    """Why an expression cannot be evaluated (read from the profile alone), or None when it can."""
    if el is None:
        return "no structured condition (text only)"
    for node in el.iter():
        if node.tag in _JOINS:
            continue
        if node.tag not in _LEAVES:
            return f"<{node.tag}>"
        if value_sets is not None:
            for ident in [node.get("ValueSetID")] + [b.get("BindingIdentifier") for b in node.iter("Binding")]:
                if ident and ident not in value_sets:
                    return f"value set {ident!r} is not in the profile's value set library"
        for attr in ("Path", "Path1", "Path2"):
            if node.get(attr) is not None:
                try:
                    parse_path(node.get(attr, ""))
                except NotEvaluated as exc:
                    return str(exc)
    return None


def describe(el: ET.Element | None) -> str:
    """A short text of an expression, for messages when the profile gives no description."""
    if el is None:
        return ""
    return re.sub(r"\s+", " ", ET.tostring(el, encoding="unicode")).strip()[:160]
