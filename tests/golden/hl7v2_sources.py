"""What the golden tests of public HL7 v2 messages share: where the messages and golden Bundles live, reading
a Bundle and its resources, and comparing (or, with INTEROP_REGEN_GOLDEN=1, rewriting) a golden file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from interop import decode, to_fhir

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "hl7v2"
GOLDEN = ROOT / "tests" / "golden" / "hl7v2"
MDC = "urn:iso:std:iso:11073:10101"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def bundle(name: str, version: str = "R4") -> dict:
    return json.loads(to_fhir(decode(DATA / f"{name}.hl7"), version).json())


def of(b: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]


def by_url(b: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in b["entry"]}


def code_of(r: dict, system: str | None = MDC) -> str | None:
    """The code of `r.code` in `system` (None: the coding without a system)."""
    return next((c["code"] for c in r["code"]["coding"] if c.get("system") == system), None)


def found(name: str) -> set[tuple[str, str]]:
    """(code, location) of each finding of decoding the message `name`."""
    return {(i.code, i.location) for i in decode(DATA / f"{name}.hl7").issues}


def assert_golden(got: bytes, name: str, version: str) -> None:
    """`got` equals tests/golden/hl7v2/<name>.<version>.json (INTEROP_REGEN_GOLDEN=1 rewrites it first)."""
    path = GOLDEN / f"{name}.{version.lower()}.json"
    if os.environ.get("INTEROP_REGEN_GOLDEN"):
        path.write_bytes(got)
    assert got.decode() == path.read_text()
