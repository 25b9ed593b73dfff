"""The assertion catalogue: data rows in `assertions/*.yaml`, checks as small functions named by id.

A catalogue file looks like::

    input: hl7v2                              # which kind of input its checks read
    kind: interop.conformance.hl7v2.kind:KIND # the object that reads that kind (see KINDS below)
    module: interop.conformance.hl7v2.pcd     # where its check functions live
    standard: IHE PCD TF-2                     # default for the rows below
    assertions:
      - id: PCD01-OBX-018
        reference: IHE PCD TF-2 Rev 9.0 Appendix B.8 (OBX-18 Equipment Instance Identifier)
        severity: error
        profiles: [ihe-pcd-01]
        summary: OBX-18 carries the device's EUI-64 (16 hex digits, universal id type EUI-64)
        cases:                                 # a passing and a failing input (cases.py)
          pass: pcd01-vitals
          fail: {base: pcd01-vitals, set: {"OBX[1].18": "XYZ^^XYZ^EUI-64"}}

A check is a function registered with `@check("PCD01-OBX-018")` in that module; it receives the
input's context object and yields `Hit`s. Nothing heavy is imported until a catalogue is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from interop.errors import ConformanceError

from .finding import SEVERITIES, Hit

ASSERTIONS_DIR = Path(__file__).resolve().parent / "assertions"

CheckFn = Callable[[Any], Iterable[Hit]]
CHECKS: dict[str, CheckFn] = {}
KINDS: dict[str, Any] = {}
"""Input kinds by name (`input:` of a catalogue file), from its `kind: module:attribute` line. A kind
has `name`, `sniff(data) -> bool`, `contexts(data, label, user_profile) -> [context]` and
`build_case(spec) -> bytes`; each context has `label`, `kind`, `text` and `fatal` (hits that stop
the other checks: the input could not be decoded)."""


def check(assertion_id: str) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of `assertion_id`."""

    def register(fn: CheckFn) -> CheckFn:
        if assertion_id in CHECKS and CHECKS[assertion_id] is not fn:
            raise ConformanceError(f"two check functions for assertion {assertion_id}")
        CHECKS[assertion_id] = fn
        return fn

    return register


@dataclass(frozen=True, slots=True)
class Assertion:
    """One row of the catalogue."""

    id: str
    standard: str
    reference: str
    severity: str
    summary: str
    profiles: tuple[str, ...]
    input: str
    check: CheckFn = field(repr=False, compare=False)
    versions: tuple[str, ...] = ()  # HL7 v2 versions it applies to (empty: all)
    cases: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    source: str = ""  # catalogue file it came from

    def run(self, ctx: Any) -> Iterator[Hit]:
        """The hits of this assertion on one input context."""
        yield from self.check(ctx)


_ROW_KEYS = {"id", "reference", "severity", "summary", "profiles", "check", "versions", "cases",
             "standard"}


def _load_file(path: Path) -> list[Assertion]:
    import yaml

    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or "assertions" not in doc:
        raise ConformanceError(f"{path.name}: a catalogue file needs 'input', 'module' and 'assertions'")
    kind = doc.get("input")
    module = doc.get("module")
    if not kind or not module:
        raise ConformanceError(f"{path.name}: 'input' and 'module' are required")
    import_module(module)  # registers its @check functions
    kind_ref = doc.get("kind")
    if kind_ref and kind not in KINDS:
        mod_name, _, attr = kind_ref.partition(":")
        KINDS[kind] = getattr(import_module(mod_name), attr)
    if kind not in KINDS:
        raise ConformanceError(f"{path.name}: no input kind {kind!r} (give 'kind: module:attribute')")
    out = []
    for i, row in enumerate(doc["assertions"] or [], 1):
        where = f"{path.name}, assertion {i}"
        if not isinstance(row, dict) or "id" not in row:
            raise ConformanceError(f"{where}: each assertion needs an 'id'")
        unknown = set(row) - _ROW_KEYS
        if unknown:
            raise ConformanceError(f"{where} ({row['id']}): unknown keys {sorted(unknown)}")
        for key in ("reference", "severity", "summary", "profiles"):
            if not row.get(key):
                raise ConformanceError(f"{where} ({row['id']}): '{key}' is required")
        if row["severity"] not in SEVERITIES:
            raise ConformanceError(f"{where} ({row['id']}): severity must be one of {SEVERITIES}")
        fn_name = row.get("check", row["id"])
        fn = CHECKS.get(fn_name)
        if fn is None:
            raise ConformanceError(f"{where} ({row['id']}): no check function registered as {fn_name!r} "
                                   f"in {module}")
        profiles = row["profiles"]
        out.append(Assertion(
            id=row["id"], standard=row.get("standard", doc.get("standard", "")),
            reference=row["reference"], severity=row["severity"], summary=" ".join(row["summary"].split()),
            profiles=tuple([profiles] if isinstance(profiles, str) else profiles), input=kind, check=fn,
            versions=tuple(str(v) for v in row.get("versions", ())), cases=row.get("cases") or {},
            source=path.name))
    return out


@cache
def catalogue() -> tuple[Assertion, ...]:
    """Every assertion of every catalogue file, in file then row order; ids are unique."""
    rows: list[Assertion] = []
    seen: dict[str, str] = {}
    for path in sorted(ASSERTIONS_DIR.glob("*.yaml")):
        for a in _load_file(path):
            if a.id in seen:
                raise ConformanceError(f"assertion {a.id} defined twice ({seen[a.id]}, {a.source})")
            seen[a.id] = a.source
            rows.append(a)
    return tuple(rows)


def kinds() -> dict[str, Any]:
    """Input kinds of the loaded catalogue, by name."""
    catalogue()
    return KINDS


def by_id() -> dict[str, Assertion]:
    """The catalogue indexed by assertion id."""
    return {a.id: a for a in catalogue()}
