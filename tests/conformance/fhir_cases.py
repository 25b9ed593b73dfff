"""Base FHIR files of the FHIR-* crafted cases: the project's own Bundles for two example inputs.

`python tests/conformance/fhir_cases.py` writes conformance/cases/fhir/*.json (R4 and R5) from
examples/x73/bp-0x02BC.x73 (a PHD blood pressure session) and examples/hl7v2/pcd01-vitals.hl7 (an IHE
PCD-01 feed); the catalogue's `cases:` edit one of them (`interop.conformance.checks.fhir.build_case`).
A test checks the files equal what the pipeline produces today.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "conformance" / "cases" / "fhir"
SOURCES = {"phd-bp": ROOT / "examples/x73/bp-0x02BC.x73", "pcd01": ROOT / "examples/hl7v2/pcd01-vitals.hl7"}


def files() -> dict[str, str]:
    from interop import decode, to_fhir

    out = {}
    for name, src in SOURCES.items():
        msg = decode(src.read_bytes())
        for version in ("R4", "R5"):
            doc = json.loads(to_fhir(msg, version=version).json())
            suffix = "" if version == "R4" else "-r5"
            out[f"{name}{suffix}.json"] = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    return out


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (OUT / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
