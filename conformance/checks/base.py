"""What the x73, DICOM and FHIR check modules share: the runner's context and the `@rule` registration.

A check module's rules are plain functions of its own parsed input (a 20601 `Session`, a DICOM
`DicomInput`, a `FhirInput` ...) yielding `(location, message)` pairs, kept in the module's `RULES`
(tests call them directly). `rule_registry(RULES)` returns the decorator that also registers each
rule with the catalogue (`interop.conformance.catalogue.check`) under its assertion id, wrapped to
take the runner's `Context` and yield `Hit`s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop.conformance.catalogue import check as register
from interop.conformance.finding import Hit

Rule = Callable[[Any], Iterator[tuple[str, str]]]
_LINE = re.compile(r"\bline (\d+)\b")


@dataclass
class Context:
    """One input as the runner sees it (catalogue.KINDS contract): what the rules read is `payload`."""

    kind: str
    label: str
    payload: Any = None  # the parsed input; None when it could not be read (then `fatal` says why)
    text: str = ""  # what reports show (hex trace text; '' for binary inputs)
    fatal: list[Hit] = field(default_factory=list)
    facts_of: Callable[[Any], dict[str, set[str]]] | None = None

    def facts(self) -> dict[str, set[str]]:
        return self.facts_of(self.payload) if self.facts_of and self.payload is not None else {}

    def span(self, location: str) -> tuple[int | None, int | None]:
        """(offset, length) in `text` of the line a location names (`... line 7 ...`), for highlighting."""
        m = _LINE.search(location)
        if not m or not self.text:
            return None, None
        number = int(m.group(1))
        lines = self.text.splitlines(keepends=True)
        if not 1 <= number <= len(lines):
            return None, None
        offset = sum(len(x) for x in lines[:number - 1])
        return offset, len(lines[number - 1].rstrip("\r\n"))


def rule_registry(rules: dict[str, Rule]) -> Callable[[str], Callable[[Rule], Rule]]:
    """The `@rule("ID")` decorator of one check module."""

    def rule(assertion_id: str) -> Callable[[Rule], Rule]:
        def decorate(fn: Rule) -> Rule:
            rules[assertion_id] = fn

            def engine_check(ctx: Context) -> Iterator[Hit]:
                if ctx.payload is None:
                    return
                for location, message in fn(ctx.payload):
                    offset, length = ctx.span(location)
                    yield Hit(location, message, offset, length)

            engine_check.__name__ = engine_check.__qualname__ = fn.__name__
            engine_check.__doc__ = fn.__doc__
            register(assertion_id)(engine_check)
            return fn
        return decorate
    return rule


def fatal_check(assertion_id: str) -> None:
    """Register `assertion_id` as the one that reports an input that could not be read at all."""

    def unreadable(ctx: Context) -> Iterator[Hit]:
        yield from ctx.fatal

    unreadable.__name__ = f"unreadable_{assertion_id.replace('-', '_').lower()}"
    register(assertion_id)(unreadable)


def json_case(spec: Any, cases_dir: Path) -> bytes:
    """A crafted JSON input (session logs): a file of `cases_dir` (`"good.json"`), literal text
    (`{text: ...}`) or a base file with values set by path (`{base, set: {"associations[0].ended": v}}`)."""
    if isinstance(spec, str):
        return (cases_dir / spec).read_bytes()
    if "text" in spec:
        return spec["text"].encode()
    doc = json.loads((cases_dir / spec["base"]).read_text(encoding="utf-8"))
    for path, value in (spec.get("set") or {}).items():
        here: Any = doc
        steps = path.split(".")
        for step in steps[:-1]:
            m = re.match(r"^(\w+)(?:\[(\d+)\])?$", step)
            assert m is not None, f"bad case path {path!r}"
            here = here[m.group(1)] if m.group(2) is None else here[m.group(1)][int(m.group(2))]
        here[steps[-1]] = value
    return json.dumps(doc).encode()


class JsonLogKind:
    """The input kind of a JSON session log a live endpoint writes (`{"kind": name, ...}`): `parse`
    turns its bytes into the payload the rules read (ValueError when it cannot)."""

    def __init__(self, name: str, parse: Callable[[bytes], Any], cases_dir: Path, profile: str) -> None:
        self.name = name
        self.parse = parse
        self.cases_dir = cases_dir
        self.profile = profile
        self._tag = f'"{name}"'.encode()

    def sniff(self, data: bytes) -> bool:
        return data.lstrip()[:1] == b"{" and self._tag in data[:400]

    def contexts(self, data: bytes, label: str, user_profile: Any = None) -> list[Context]:
        try:
            return [Context(self.name, label, self.parse(data))]
        except (ValueError, UnicodeDecodeError) as exc:
            return [Context(self.name, label, None, "", [Hit("session log", str(exc)[:200])])]

    def build_case(self, spec: Any) -> bytes:
        return json_case(spec, self.cases_dir)

    def default_profile(self, ctx: Context) -> str:
        return self.profile
