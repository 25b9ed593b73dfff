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
    """Golden on the real NIST Z22 export (profile, constraints and co-constraints excerpts): predicates of the
    HD_IZ / CX_IZ data types and of PID, conformance statements, a co-constraint row, and what is not evaluated."""
    p = load(NIST)
    assert (len(p.predicates), len(p.statements), len(p.coconstraints), p.revision) == (7, 11, 3, "1.9.11 20200902")
    good = tmp_path / "vxu.hl7"
    good.write_text(VXU)
    found = [(f.assertion, f.severity, f.location) for f in run([good], NIST).results[0].findings]
    # the VXU_V04.ORDER group predicate (ORC-12 C(RE/O)) is evaluated per ORDER instance: none here, nothing said
    assert found == [("PRF-RE-001", "info", "MSH[1].5"), ("PRF-RE-001", "info", "PID[1].6")]
    bad = tmp_path / "vxu-bad.hl7"
    bad.write_text(VXU.replace("PID|1||PID001", "PID|||PID001").replace("||JonesTest", "|OLDID|JonesTest")
                   .replace("|MyEMR|", "|MyEMR^2.16.840.1.113883.3.72.5.20|").replace("|ER|AL|", "|AL|AL|")
                   .replace("|20140227|M\r", "|20140227|M" + "|" * 21 + "20200101\r")
                   + "ORC|RE||197023^CMC\rRXA|0|1|20140730||08^HEPB-PEDIATRIC/ADOLESCENT^CVX|.5|mL^mL^UCUM||"
                   "00^NEW IMMUNIZATION RECORD^NIP001||||||||||||CP|A\r"
                   + "OBX|1|CE|48767-8^Annotation comment^LN||text\r")
    found = [(f.assertion, f.location, f.message) for f in run([bad], NIST).results[0].findings
             if f.severity == "error"]
    # the excerpt's structure is MSH + PID, so ORC, RXA and OBX are outside it (PRF-SEG-003); the co-constraints are
    # bound to each VXU_V04.ORDER (Context Path 9[*], OBX at 5[*].1[*]): hl7apy's VXU_V04 gives that group
    assert [(a, loc) for a, loc, _ in found] == [
        ("PRF-SEG-003", "ORC[1]"), ("PRF-SEG-003", "RXA[1]"), ("PRF-SEG-003", "OBX[1]"), ("PRF-FLD-001", "PID[1].1"),
        ("PRF-FLD-002", "PID[1].4"), ("PRF-CS-001", "MSH[1].15"), ("PRF-CU-001", "MSH[1].3.3"),
        ("PRF-CU-002", "PID[1].29"), ("PRF-CC-001", "ORDER[1].OBSERVATION[1].OBX.2"), ("PRF-CC-001", "ORDER[1]")]
    messages = [m for _, _, m in found]
    assert "IZ-42" in messages[5] and "found 'AL'" in messages[5]
    assert "predicate holds (If HD.2 (Universal ID) is valued.): usage R, but it is empty" in messages[6]
    assert "C(RE/X)" in messages[7]
    assert messages[8] == "co-constraint for OBX-3=48767-8: OBX-2 SHALL be TX (found 'CE')"
    # the ConditionalTable 'If new immunization' (RXA-9.1 '00' in this ORDER) holds: its Eligibility row (usage R)
    # wants an OBX 64994-7 in the ORDER
    assert messages[9] == ("co-constraint row OBX-3=64994-7 has usage R: at least 1 OBX expected in ORDER[1], "
                           "0 found")
    historical = tmp_path / "vxu-historical.hl7"
    historical.write_bytes(bad.read_bytes().replace(b"00^NEW IMMUNIZATION RECORD", b"01^HISTORICAL"))
    assert [(f.assertion, f.location) for f in run([historical], NIST).results[0].findings
            if f.assertion == "PRF-CC-001"] == [("PRF-CC-001", "ORDER[1].OBSERVATION[1].OBX.2")]


def test_conditional_usage_text_predicates_and_re(tmp_path: Path):
    """Workbench text predicates (C(R/X) with 'If OBX-2 is valued' ...), a NIST predicate, a co-constraint
    table and RE, on the site profile: silent on the good message, each rule on its own edit."""
    from interop.conformance.xmlprofile import conditional, text_condition

    assert (conditional("C(R/X)"), conditional("C"), conditional("CE"), conditional("RE")) == (
        ("R", "X"), ("R", "X"), ("RE", "X"), None)
    assert text_condition("If the patient is a neonate", "PID") is None
    assert text_condition("If PV1-2 is valued.", "PID") is None  # another segment: not evaluated
    p = load(SITE)
    assert {(x.target, x.true_usage, x.false_usage, x.condition is not None) for x in p.predicates} == {
        ("14[1]", "R", "X", True), ("2[1]", "R", "X", True), ("5[1]", "R", "X", True), ("6[1]", "R", "X", True)}
    assert len(p.coconstraints) == 6
    text = PCD01.read_bytes().decode()

    def ids(t: str) -> list[tuple[str, str]]:
        path = tmp_path / "m.hl7"
        path.write_bytes(t.encode())
        return [(f.assertion, f.location) for f in run([path], SITE).results[0].findings]

    assert ids(text) == []
    # OBX 3 is NM: OBX-6 becomes R (text predicate "If the value of OBX-2 is 'NM'")
    assert ids(text.replace("|97|262688^MDC_DIM_PERCENT^MDC|", "|97||", 1)) == [
        ("PRF-CU-001", "OBX[3].6"),  # and the SpO2 co-constraint row (bound to ORDER_OBSERVATION) wants 262688
        ("PRF-CC-001", "ORDER_OBSERVATION[1].OBSERVATION[3].OBX.6")]
    # OBX 1 (MDS) has no OBX-2: OBX-14 becomes X (the NIST predicate of the constraints file)
    got = ids(text.replace("|||||||X|||||||0123456789ABCDEF", "|||||||X|||20240315101500+0100||||0123456789ABCDEF"))
    assert got == [("PRF-CU-002", "OBX[1].14")]
    # an IMPLY statement: OBX-2 'NM' ⇒ OBX-11 in F, R, C; and OBX-2 becomes X (text predicate on OBX-11)
    assert ids(text.replace("|90-100||||F|", "|90-100||||X|", 1)) == [("PRF-CS-001", "OBX[3].11"),
                                                                        ("PRF-CU-002", "OBX[3].2")]
    # the RE field PID-7 empty: info only
    assert ids(text.replace("||19800101|F", "|||F", 1)) == [("PRF-RE-001", "PID[1].7")]
def test_messaging_workbench_profile_with_tables_and_statements():
    p = load(SITE)
    assert p.title == "ACME ICU gateway PCD-01 interface" and p.version == "2.6"
    assert p.value_sets["HL70085"] == {"F", "R", "X"}  # from the tables file beside it
    assert [s.id for s in p.statements] == ["ACME-MSH-010", "ACME-MSH-012", "ACME-PID-005", "ACME-OBX-003",
                                              "ACME-OBX-011"]
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


def test_assertions_listing_of_a_site_profile_says_what_is_evaluated():
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "conformance", "assertions", "--profile", str(NIST)],
                       capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "COLUMNS": "400"})
    assert r.returncode == 0, r.stderr
    lines = {line.split("│")[1].strip(): line for line in r.stdout.splitlines() if line.count("│") > 5}
    assert "PRF-CU-001" in lines and "PRF-NEV-001" in lines  # the catalogue rows the profile runs
    assert lines["predicate [HD_IZ]3[1]"].rstrip("│ ").endswith("yes")
    assert lines["predicate [ORC_IZ 1_5]12[1]-Actual"].rstrip("│ ").endswith("yes")  # per ORDER instance
    (row,) = [line for line in r.stdout.splitlines() if "OBX-3=31044-1" in line]
    assert "no: value set 'PHVS_VaccinationReaction_IIS' is not in the profile's value set library" in row
    assert "Z22 Message profile (revision 1.9.11 20200902, HL7 v2.5.1, VXU^V04)" in r.stdout


def test_withdrawn_usage_w_is_not_sent(tmp_path: Path):
    """NIST profiles mark elements withdrawn from the base standard W: like X, they must not be sent."""
    prof = tmp_path / "w.xml"
    prof.write_text(
        '<HL7v2xConformanceProfile HL7Version="2.6"><MetaData Name="W test" Version="2"/>'
        '<HL7v2xStaticDef MsgType="ORU" EventType="R01" MsgStructID="ORU_R01">'
        '<Segment Name="MSH" Usage="R" Min="1" Max="1"><Field Name="Field Separator" Usage="R" Min="1" Max="1"/>'
        '</Segment><Segment Name="PID" Usage="R" Min="1" Max="1">'
        '<Field Name="Set ID - PID" Usage="O" Min="0" Max="1"/><Field Name="Patient ID" Usage="W" Min="0" Max="0"/>'
        '</Segment></HL7v2xStaticDef></HL7v2xConformanceProfile>')
    msg = tmp_path / "m.hl7"
    msg.write_bytes(PCD01.read_bytes().replace(b"PID|||HOSP0001", b"PID||OLD1|HOSP0001"))
    found = [(f.assertion, f.location, f.message) for f in run([msg], prof).results[0].findings
             if f.assertion == "PRF-FLD-002"]
    assert found == [("PRF-FLD-002", "PID[1].2", "PID-2 (Patient ID) has usage W (not to be sent) in the profile but "
                      "is valued")]
