"""`interop validate` / `interop conformance`: exit codes, report formats, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from interop.conformance.hl7v2.cases import build

GOOD = build("pcd01-vitals")
BAD = build({"base": "pcd01-vitals", "set": {"OBX[1].18": "XYZ^^XYZ^EUI-64", "OBX[3].6": "266016^MDC_DIM_MMHG^MDC"}})


def interop(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interop.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "good.hl7").write_bytes(GOOD)
    (tmp_path / "bad.hl7").write_bytes(BAD)
    (tmp_path / "junk.hl7").write_bytes(b"\x00\x01 not HL7 at all")
    return tmp_path


def test_good_message_passes_with_exit_0(files):
    r = interop("validate", str(files / "good.hl7"), "--profile", "ihe-pcd-01", "--report", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"] == {"inputs": 1, "errors": 0, "warnings": 0}
    assert doc["results"] == [{"input": str(files / "good.hl7"), "findings": []}]


def test_bad_message_exit_1_with_assertion_ids_locations_and_references(files):
    r = interop("validate", str(files / "bad.hl7"), "--profile", "ihe-pcd-01", "--report", "json")
    assert r.returncode == 1
    findings = json.loads(r.stdout)["results"][0]["findings"]
    by_id = {f["assertion"]: f for f in findings}
    assert set(by_id) == {"PCD01-OBX-018", "PCD01-OBX-063"}
    assert by_id["PCD01-OBX-018"]["location"] == "OBX[1].18"
    assert by_id["PCD01-OBX-063"]["location"] == "OBX[3].6"
    assert "MDC_PULS_OXIM_SAT_O2" in by_id["PCD01-OBX-063"]["message"]
    assert by_id["PCD01-OBX-018"]["reference"].startswith("IHE PCD TF-2")
    assert set(by_id["PCD01-OBX-018"]) >= {"assertion", "severity", "location", "message", "reference"}


def test_undecodable_input_is_a_finding_not_a_crash(files):
    r = interop("validate", str(files / "junk.hl7"), "--profile", "hl7v2", "--report", "json")
    assert r.returncode == 1
    (f,) = json.loads(r.stdout)["results"][0]["findings"]
    assert f["assertion"] == "HL7V2-MSG-001" and "byte 0" in f["location"]
    assert "Traceback" not in r.stderr


def test_unrecognised_input_under_auto_says_so(files):
    """--profile auto and an input no reader recognises (a GATT trace, an empty file): one INPUT error naming
    what the suite reads, not a guess at the first reader (which reported a DICOM session log parse error)."""
    gatt = Path(__file__).resolve().parents[2] / "examples" / "gatt" / "blood_pressure.gatt"
    (files / "empty.txt").write_bytes(b"")
    r = interop("validate", str(gatt), str(files / "empty.txt"), "--report", "json")
    assert r.returncode == 1, r.stderr
    results = json.loads(r.stdout)["results"]
    assert [[(f["assertion"], f["severity"]) for f in res["findings"]] for res in results] == [[("INPUT", "error")]] * 2
    assert results[0]["findings"][0]["message"].startswith(f"{gatt.stat().st_size} bytes: not recognised as an input")
    assert results[1]["findings"][0]["message"].startswith("empty: not recognised")


def test_usage_errors_exit_2_with_one_line(files):
    for args in (["validate", str(files / "nope.hl7")],
                 ["validate", str(files / "good.hl7"), "--profile", "no-such-profile"],
                 ["validate", str(files / "good.hl7"), "--report", "pdf"],
                 ["conformance", "run", str(files / "good.hl7")]):
        r = interop(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_junit_report_has_one_case_per_assertion_and_failures(files, tmp_path):
    out = tmp_path / "junit.xml"
    r = interop("validate", str(files / "good.hl7"), str(files / "bad.hl7"), "--profile", "ihe-pcd-01",
                "--report", "junit", "-o", str(out))
    assert r.returncode == 1
    root = ET.parse(out).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(files / "good.hl7"), str(files / "bad.hl7")]  # given order
    n = int(suites[1].get("tests"))
    assert n == len(suites[1].findall("testcase")) >= 60
    failed = [tc.get("name").split()[0] for tc in suites[1].findall("testcase") if tc.find("failure") is not None]
    assert failed == ["PCD01-OBX-063", "PCD01-OBX-018"]
    assert suites[0].get("failures") == "0"


def test_directory_run_and_assertions_listing(files):
    r = interop("conformance", "run", str(files), "--profile", "hl7v2", "--report", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["summary"]["inputs"] == 3
    r = interop("conformance", "assertions", "--profile", "ihe-pcd-01", "--json")
    assert r.returncode == 0
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    ids = {row["id"] for row in rows}
    assert {"PCD01-OBX-018", "HL7V2-STR-003"} <= ids  # PCD-01 includes the HL7 v2 structure rules
    assert all(row["reference"] for row in rows)
