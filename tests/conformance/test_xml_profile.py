"""`--profile FILE`: HL7 v2 conformance profiles in NIST IGAMT and HL7 Messaging Workbench XML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from interop.conformance.runner import run
from interop.conformance.xmlprofile import load

from interop.errors import ConformanceError

ROOT = Path(__file__).resolve().parents[2]
NIST = ROOT / "tests" / "data" / "conformance" / "profiles" / "nist-z22-excerpt.xml"
SITE = ROOT / "conformance" / "cases" / "xml" / "acme-pcd01-site.xml"
PCD01 = ROOT / "conformance" / "cases" / "hl7v2" / "pcd01-vitals.hl7"

VXU = ("MSH|^~\\&|MyEMR|DE-000001||DEST|20160701123030-0700||VXU^V04^VXU_V04|CA0001|P|2.5.1|||ER|AL|||||"
       "Z22^CDCPHINVS\rPID|1||PID001^^^MYEMR^MR||JonesTest^George^Q^III^^^L||20140227|M\r")


def test_nist_igamt_profile_is_read_as_published():
    p = load(NIST)
    assert (p.title, p.version, p.msg_type, p.event, p.struct) == ("Z22 Message profile", "2.5.1", "VXU", "V04",
                                                                   "VXU_V04")
    pid = p.segment_defs()["PID"]
    assert [(f.usage, f.min, f.max) for f in pid.fields[:3]] == [("R", 1, 1), ("X", 0, 0), ("R", 1, -1)]
    assert pid.fields[7].binding == "HL70001_IZ" and pid.fields[7].max_length == 1


def test_nist_profile_on_messages(tmp_path: Path):
    good = tmp_path / "vxu.hl7"
    good.write_text(VXU)
    assert run([good], NIST).results[0].findings == []
    bad = tmp_path / "vxu-bad.hl7"
    bad.write_text(VXU.replace("PID|1||PID001", "PID|||PID001").replace("||JonesTest", "|OLDID|JonesTest"))
    found = {(f.assertion, f.location) for f in run([bad], NIST).results[0].findings}
    assert found == {("PRF-FLD-001", "PID[1].1"), ("PRF-FLD-002", "PID[1].4")}


def test_messaging_workbench_profile_with_tables_and_statements():
    p = load(SITE)
    assert p.title == "ACME ICU gateway PCD-01 interface" and p.version == "2.6"
    assert p.value_sets["HL70085"] == {"F", "R", "X"}  # from the tables file beside it
    assert [s.id for s in p.statements] == ["ACME-MSH-010", "ACME-MSH-012", "ACME-PID-005", "ACME-OBX-003"]
    report = run([PCD01], SITE)
    assert report.results[0].findings == []
    assert {a.id for a in report.assertions} >= {"PRF-SEG-001", "PRF-CS-001", "HL7V2-MSG-001"}


def test_cli_profile_file(tmp_path: Path):
    msg = tmp_path / "m.hl7"
    msg.write_bytes(PCD01.read_bytes().replace(b"|F|||20240315101500+0100\r", b"|C|||20240315101500+0100\r", 1))
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "validate", str(msg), "--profile", str(SITE),
                        "--report", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    (f,) = json.loads(r.stdout)["results"][0]["findings"]
    assert (f["assertion"], f["location"]) == ("PRF-VS-001", "OBX[3].11")


def test_bad_profile_files_are_one_line_errors(tmp_path: Path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<HL7v2xConformanceProfile><oops></HL7v2xConformanceProfile>")
    with pytest.raises(ConformanceError, match=r"broken.xml:1: not well-formed XML"):
        load(broken)
    other = tmp_path / "other.xml"
    other.write_text("<Foo/>")
    with pytest.raises(ConformanceError, match="neither <ConformanceProfile>"):
        load(other)
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "validate", str(PCD01), "--profile", str(other)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
