"""One non-conformance found in one input (DESIGN.md, "Conformance vocabulary").

The vocabulary follows the NIST HL7 v2 validation engine (usnistgov/v2-validation): each report
entry has a location path (`OBX[3].5.1`), a classification (here the severity), a description
(`message`) and the rule it came from (`assertion` + `reference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check function yields: where and what; the runner adds the assertion's id, severity
    and reference. `offset`/`length` locate the offending characters in the input's display text
    (an HL7 v2 message with its segments one per line) or bytes (binary inputs), when known."""

    location: str
    message: str
    offset: int | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding as it appears in every report."""

    assertion: str
    severity: str
    location: str
    message: str
    reference: str
    offset: int | None = None
    length: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN.md (offset/length only when known)."""
        d: dict[str, Any] = {"assertion": self.assertion, "severity": self.severity,
                             "location": self.location, "message": self.message,
                             "reference": self.reference}
        if self.offset is not None:
            d["offset"] = self.offset
            d["length"] = self.length or 0
        return d
