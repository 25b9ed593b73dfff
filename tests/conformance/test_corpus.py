"""Every corpus file gets a report without a crash, and each of its findings is pinned.

The corpus (tests/data/conformance/corpus, SOURCES.md there) is real-world material: vendor PCD-01
and PCD-04 messages, interface-engine samples, the NIST LRI message. `--profile auto` picks, per
message, ihe-pcd-01 / ihe-pcd-04 (MSH-21) or hl7v2. The pinned list (corpus_findings.json) was
reviewed finding by finding; rerun with INTEROP_PIN=1 to rewrite it after a deliberate change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from interop.conformance.runner import run

DATA = Path(__file__).resolve().parent.parent / "data" / "conformance"
CORPUS = sorted((DATA / "corpus").glob("*.hl7"))
PINNED = DATA / "corpus_findings.json"


def _findings() -> dict[str, list[str]]:
    report = run(CORPUS, "auto")
    out: dict[str, list[str]] = {}
    for res in report.results:
        out.setdefault(Path(res.input).name, []).extend(
            f"{f.severity} {f.assertion} {f.location}" for f in res.findings)
    return out


@pytest.fixture(scope="module")
def findings() -> dict[str, list[str]]:
    got = _findings()
    if os.environ.get("INTEROP_PIN"):
        PINNED.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return got


def test_every_corpus_file_is_reported(findings):
    assert sorted(findings) == sorted(p.name for p in CORPUS)
    assert len(CORPUS) >= 18
    for name, rows in findings.items():  # no check crashed on real input
        assert not any("could not be evaluated" in r for r in rows), name


@pytest.mark.parametrize("name", [p.name for p in CORPUS])
def test_findings_are_pinned(findings, name):
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert findings[name] == pinned[name]


def test_known_real_defects_are_found(findings):
    """A few findings checked by hand against the messages themselves."""
    philips = findings["pocd-philips-intellivue-pcd01.hl7"]
    assert "error PCD01-OBX-018 OBX[1].18" in philips  # OBX-18 is a UUID-label, not an EUI-64
    assert "error PCD01-OBX-011 OBX[6].11" in philips  # filter-label row without a result status
    assert "error PCD01-OBR-007 OBR[2].7" in philips  # waveform OBR-7 without its time zone
    assert "error HL7V2-FLD-001 OBX[1].3" in findings["lfh-ORU-multiline-short.hl7"]  # empty OBX-3
    assert "error HL7V2-DT-NM OBR[1].9.1" in findings["msfc-LAB-ORU-1.hl7"] or any(
        r.startswith("error HL7V2-DT-NM") for r in findings["msfc-LAB-ORU-1.hl7"])
    plum = findings["pcd04-icumedical-plum360.hl7"]
    assert "error PCD04-PRI-001 OBX[11].5" in plum  # vendor priority '20' instead of PH/PM/PL/PN
    assert "error PCD04-OBX-031 OBX[6].3" in plum  # alert code 56 is not an MDC event code
    assert "error PCD04-OBR-029 OBR[1].29" in findings["pcd04-ge-mural-advisory.hl7"]  # parent = itself
    draeger = findings["pcd04-draeger-watchdog.hl7"]
    assert "warning HL7V2-DT-ID MSH[1].20" in draeger  # the profile id sent in MSH-20, one field early
