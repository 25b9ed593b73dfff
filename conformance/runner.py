"""The runner: inputs × the assertions of a profile → findings, per input (one per message).

Never raises on bad input: a file that cannot be read, a message that cannot be decoded, even a
check that fails on an input it did not foresee, each becomes a finding with its position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import Assertion, kinds
from .finding import Finding
from .profiles import Selection, select

MAX_RAW = 64 * 1024
"""Bytes of a binary input kept for the HTML report's hex view (findings beyond are listed, not shown)."""

SKIP_SUFFIXES = {".md", ".yaml", ".yml", ".xml", ".csv", ".tsv", ".py", ".html", ".json.report"}
"""Files in an input directory that are documentation, vendor or profile files, not inputs."""


@dataclass(slots=True)
class InputResult:
    """The findings on one input (one message of a multi-message file is one input)."""

    input: str
    kind: str
    findings: list[Finding]
    text: str = ""  # the input as reports show it (HL7 v2: one segment per line); '' for binary inputs
    checked: int = 0  # assertions evaluated
    facts: dict[str, set[str]] = field(default_factory=dict)  # what it exercised (vendor.py)
    raw: bytes = b""  # binary inputs (no text): the bytes, so reports can show and highlight them

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"input": self.input, "findings": [f.to_dict() for f in self.findings]}


@dataclass(slots=True)
class Report:
    """Everything one run found."""

    profile: str
    results: list[InputResult]
    assertions: list[Assertion]
    vendor: Any = None  # vendor.VendorReport when a capability file was given

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.results) + (self.vendor.errors if self.vendor else 0)

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.results) + (self.vendor.warnings if self.vendor else 0)

    def summary(self) -> dict[str, int]:
        return {"inputs": len(self.results), "errors": self.errors, "warnings": self.warnings}

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of DESIGN.md ("Conformance vocabulary"), plus profile and vendor sections."""
        out: dict[str, Any] = {"summary": self.summary(), "results": [r.to_dict() for r in self.results],
                               "profile": self.profile}
        if self.vendor is not None:
            out["vendor"] = self.vendor.to_dict()
        return out

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0


def check_context(ctx: Any, assertions: Iterable[Assertion]) -> tuple[list[Finding], int]:
    """Run assertions on one decoded input; returns (findings, assertions evaluated)."""
    findings: list[Finding] = []
    n = 0
    fatal = bool(ctx.fatal)
    for a in assertions:
        if a.input != ctx.kind:
            continue
        n += 1
        try:
            for hit in a.check(ctx):
                findings.append(Finding(a.id, a.severity, hit.location, hit.message, a.reference,
                                        hit.offset, hit.length))
        except Exception as exc:  # a check must never crash a run: say where it could not decide
            findings.append(Finding(a.id, "error", "check", f"could not be evaluated on this input "
                                    f"({type(exc).__name__}: {exc})", a.reference))
        if fatal:  # an input that cannot be decoded is reported once, by the first (decoding) assertion
            if findings:
                break
    return findings, n


def _kind_for(data: bytes, sel: Selection) -> Any:
    registry = kinds()
    wanted = sel.kinds if not sel.auto else list(registry)
    for name in wanted:
        k = registry.get(name)
        if k is not None and k.sniff(data):
            return k
    if sel.auto:
        return None  # no kind to guess: check_bytes says so
    # nothing recognises it: read it as the profile's first kind, whose decoder says what is wrong
    return registry[wanted[0]]


UNRECOGNISED = ("not recognised as an input the suite reads (HL7 v2 ER7, an IEEE 11073-20601 trace, DICOM Part 10, "
                "FHIR JSON, a recorded MLLP/DICOM session log); name the profile with --profile to have its "
                "reader say what is wrong")


def check_bytes(data: bytes, label: str, sel: Selection) -> list[InputResult]:
    """The results of one input (several when it holds several messages)."""
    kind = _kind_for(data, sel)
    if kind is None:
        what = "empty" if not data.strip() else f"{len(data)} bytes"
        return [InputResult(label, "unknown", [Finding("INPUT", "error", label, f"{what}: {UNRECOGNISED}", "")])]
    results = []
    for ctx in kind.contexts(data, label, sel.user_profile):
        rows = sel.assertions
        if sel.auto:
            from .profiles import assertions_for, auto_profile

            name = auto_profile(kind, ctx)
            rows = assertions_for(name) if name else [a for a in sel.assertions if a.input == kind.name]
        findings, n = check_context(ctx, rows)
        facts = ctx.facts() if hasattr(ctx, "facts") and not ctx.fatal else {}
        text = ctx.text if isinstance(getattr(ctx, "text", None), str) else ""
        raw = b"" if text else (getattr(ctx, "data", None) or data)[:MAX_RAW]
        results.append(InputResult(ctx.label, kind.name, findings, text, n, facts, raw))
    return results


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files under directories named (sorted; documentation files skipped)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(f for f in sorted(path.rglob("*")) if f.is_file() and not f.name.startswith(".")
                       and f.suffix.lower() not in SKIP_SUFFIXES)
        else:
            out.append(path)
    return out


def run(paths: Iterable[str | Path], profile: str | Path | Selection, vendor: Any = None) -> Report:
    """Validate files (or directories of files) against a profile; `vendor` a loaded capability file."""
    sel = profile if isinstance(profile, Selection) else select(profile)
    results: list[InputResult] = []
    for path in expand(paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(InputResult(str(path), "file", [Finding("INPUT", "error", str(path),
                                       f"cannot be read: {exc.strerror or exc}", "")]))
            continue
        results.extend(check_bytes(data, str(path), sel))
    report = Report(sel.label, results, sel.assertions)
    if vendor is not None:
        from .vendor import compare

        report.vendor = compare(vendor, report)
    return report
