"""`--profile FILE`: predicates, conformance statements and co-constraints bound to a GROUP, evaluated in each
instance of the group (the profile's own groups, else hl7apy's message structure of the message's version)."""

from __future__ import annotations

import re
from pathlib import Path

from interop.conformance.runner import run

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ROOT / "tests" / "data" / "conformance" / "profiles" / "oru-groups" / "site-oru-groups.xml"
PCD01 = (ROOT / "conformance" / "cases" / "hl7v2" / "pcd01-vitals.hl7").read_bytes().decode()
OBS = "PATIENT_RESULT[1].ORDER_OBSERVATION[1].OBSERVATION"


def findings(tmp_path: Path, text: str, profile: Path = GROUPS) -> list[tuple[str, str, str]]:
    msg = tmp_path / "m.hl7"
    msg.write_bytes(text.encode())
    return [(f.assertion, f.location, f.message) for f in run([msg], profile).results[0].findings
            if f.assertion.startswith("PRF-")]


def test_group_predicate_in_each_observation_group(tmp_path: Path):
    """'OBX-2 is valued if OBX-5 is valued' (C(R/X)) in ORU_R01 ... OBSERVATION: per OBX group instance."""
    assert findings(tmp_path, PCD01) == []
    # the third OBSERVATION (SpO2, OBX-5 97) loses OBX-2: usage R there
    assert findings(tmp_path, PCD01.replace("OBX|3|NM|", "OBX|3||", 1)) == [(
        "PRF-CU-001", f"{OBS}[3].OBX.2",
        f"OBX-2 has usage C(R/X) in {OBS}[3] and its predicate holds (If OBX-5 (Observation Value) is "
        "valued.): usage R, but it is empty")]
    # the second (a VMD row, no OBX-5) gets an OBX-2: usage X there
    assert findings(tmp_path, PCD01.replace("OBX|2||", "OBX|2|ST|", 1)) == [(
        "PRF-CU-002", f"{OBS}[2].OBX.2",
        f"OBX-2 has usage C(R/X) in {OBS}[2] and its predicate does not hold (If OBX-5 (Observation Value) is "
        "valued.): usage X, but it is valued")]


def test_group_statements_in_each_order_observation(tmp_path: Path):
    """Statements on ORDER_OBSERVATION hold in each instance: a second OBR without OBR-7 and without any OBX."""
    second = "OBR|2|ACDE48FFFE012345-2^ACME_GW|ACDE48FFFE012345-2^ACME_GW|182777000^monitoring of patient^SCT\r"
    got = findings(tmp_path, PCD01 + second)
    assert [(a, loc) for a, loc, _ in got] == [
        ("PRF-CS-001", "PATIENT_RESULT[1].ORDER_OBSERVATION[2]"),
        ("PRF-CS-001", "PATIENT_RESULT[1].ORDER_OBSERVATION[2].OBR.7")]
    assert got[0][2] == ("conformance statement SITE-OO-001 fails in PATIENT_RESULT[1].ORDER_OBSERVATION[2]: Each "
                         "ORDER_OBSERVATION SHALL contain at least one OBSERVATION. (found '')")
    assert "SITE-OO-002" in got[1][2]
    # with OBR-7 and one OBX the second order conforms
    ok = second.replace("^SCT\r", "^SCT|||20240315101600+0100\r") + \
        "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|96|262688^MDC_DIM_PERCENT^MDC|||||F\r"
    assert findings(tmp_path, PCD01 + ok) == []


FLAT = """<ConformanceProfile HL7Version="2.6"><MetaData Name="Flat ORU" Version="1"/>
<Messages><Message Type="ORU" Event="R01" StructID="ORU_R01">
<Segment Ref="MSH" Usage="R" Min="1" Max="1"/><Segment Ref="PID" Usage="R" Min="1" Max="1"/>
<Segment Ref="PV1" Usage="O" Min="0" Max="1"/><Segment Ref="OBR" Usage="R" Min="1" Max="1"/>
<Segment Ref="OBX" Usage="R" Min="1" Max="*"/></Message></Messages>
<Segments><Segment ID="MSH" Name="MSH"/><Segment ID="PID" Name="PID"/><Segment ID="PV1" Name="PV1"/>
<Segment ID="OBR" Name="OBR"/><Segment ID="OBX" Name="OBX"/></Segments></ConformanceProfile>"""


def test_group_of_the_hl7_structure_when_the_profile_has_no_groups(tmp_path: Path):
    """A profile whose structure is flat still binds rules to HL7's groups: hl7apy's ORU_R01 (v2.6) gives them."""
    prof_dir = tmp_path / "flat"
    prof_dir.mkdir()
    (prof_dir / "flat.xml").write_text(FLAT)
    constraints = re.sub(r"<Constraints>.*</Constraints>", "",  # the predicate alone: OBX is child 1 in both
                         (GROUPS.parent / "site-oru-groups.constraints.xml").read_text(), flags=re.S)
    (prof_dir / "flat.constraints.xml").write_text(constraints.replace("ORU_R01.PATIENT_RESULT.ORDER_OBSERVATION.",
                                                                       "ORU_R01."))
    assert findings(tmp_path, PCD01, prof_dir / "flat.xml") == []
    assert [(a, loc) for a, loc, _ in findings(tmp_path, PCD01.replace("OBX|4|NM|", "OBX|4||", 1),
                                               prof_dir / "flat.xml")] == [("PRF-CU-001", f"{OBS}[4].OBX.2")]
    # a group no structure defines is said, never guessed
    (prof_dir / "flat.constraints.xml").write_text(constraints.replace("ORU_R01.PATIENT_RESULT.ORDER_OBSERVATION.",
                                                                       "ORU_R01.NOSUCH_"))
    got = findings(tmp_path, PCD01, prof_dir / "flat.xml")
    assert [(a, loc) for a, loc, _ in got] == [("PRF-NEV-001", "MSH[1]")]
    assert "group ORU_R01.NOSUCH_OBSERVATION is in neither the profile's message structure nor HL7 v2.6's ORU_R01" \
        in got[0][2]


SITE = ROOT / "conformance" / "cases" / "xml" / "acme-pcd01-site.xml"


def test_coconstraint_row_with_usage_r_in_each_order_observation(tmp_path: Path):
    """The site's MDS row (OBX-3 69965, usage R, Min 1) is bound to ORDER_OBSERVATION (Context Path 4[*]): each
    instance needs its own MDS OBX; before it was counted once per message and the second order passed."""
    mds = "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r"
    temp = "OBX|2|NM|150364^MDC_TEMP_BODY^MDC|1.3.1.1|37.1|268192^MDC_DIM_DEGC^MDC|36.0-38.5||||F|||20240315101600+0100\r"
    second = "OBR|2|ACDE48FFFE012345-2^ACME_GW^ACDE48FFFE012345^EUI-64|ACDE48FFFE012345-2^ACME_GW^ACDE48FFFE012345^" \
             "EUI-64|182777000^monitoring of patient^SCT|||20240315101600+0100\r"
    assert findings(tmp_path, PCD01 + second + mds + temp, SITE) == []
    got = findings(tmp_path, PCD01 + second + temp, SITE)
    assert got == [("PRF-CC-001", "ORDER_OBSERVATION[2]", "co-constraint row OBX-3=69965 has usage R: at least 1 "
                    "OBX expected in ORDER_OBSERVATION[2], 0 found")]
    # a constraint broken in the second order is located in it
    got = findings(tmp_path, PCD01 + second + mds + temp.replace("268192^MDC_DIM_DEGC", "266016^MDC_DIM_MMHG"), SITE)
    assert [(a, loc) for a, loc, _ in got] == [("PRF-CC-001", "ORDER_OBSERVATION[2].OBSERVATION[2].OBX.6")]


def test_group_predicate_targets_name_their_segment():
    """A conditional field whose predicate is bound to a group is covered (no 'the profile gives none' info):
    the group-relative target is followed to its segment, in the profile's groups or hl7apy's (v2.5.1 VXU_V04)."""
    from interop.conformance.hl7v2.groups import segment_target
    from interop.conformance.hl7v2.reference import reference

    trees = [(reference("2.5.1").structures["VXU_V04"], "VXU_V04_")]
    assert segment_target(trees, "VXU_V04.ORDER", "1[1].12[1]") == ("ORC", "12[1]")
    assert segment_target(trees, "VXU_V04.ORDER", "5[1].1[1].3[1].1[1]") == ("OBX", "3[1].1[1]")
    assert segment_target(trees, "VXU_V04.ORDER", "9[1].1[1]") is None  # ORDER has 5 children
    assert segment_target(trees, "VXU_V04.NOSUCH", "1[1]") is None


VIS_TABLE = """<CoConstraintContext><ByMessage ID="z22"><Context Name="ORDER" Path="9[*]">
<Segment Name="OBX" Path="5[*].1[*]"><ConditionalTable>
  <CoConstraintGroupId><IdPath Priority="1" Path="4[1]" Name="OBX-4"/></CoConstraintGroupId>
  <Condition><Description>If new immunization</Description>
    <Assertion><PlainText Path="3[1].9[1].1[1]" Text="00"/></Assertion></Condition>
  <CoConstraintGroup Name="VIS" Usage="O" Min="0" Max="*">
    <Primary Usage="R" Min="1" Max="1">
      <Selectors><Code Path="3[1]" Name="OBX-3" Code="30956-7" CodeSystem="LN"/></Selectors>
      <Constraints><PlainText Path="2[1]" Name="OBX-2" Value="CE"/></Constraints></Primary>
    <CoConstraint Usage="R" Min="1" Max="1">
      <Selectors><Code Path="3[1]" Name="OBX-3" Code="29769-7" CodeSystem="LN"/></Selectors>
      <Constraints><PlainText Path="2[1]" Name="OBX-2" Value="TS"/></Constraints></CoConstraint>
  </CoConstraintGroup>
</ConditionalTable></Segment></Context></ByMessage></CoConstraintContext>"""
VXU_ORDER = ("MSH|^~\\&|MyEMR|DE-000001||DEST|20160701123030-0700||VXU^V04^VXU_V04|CA0001|P|2.5.1|||ER|AL|||||"
             "Z22^CDCPHINVS\rPID|1||PID001^^^MYEMR^MR||JonesTest^George^Q^III^^^L||20140227|M\r"
             "ORC|RE||197023^CMC\rRXA|0|1|20140730||08^HEPB-PEDIATRIC/ADOLESCENT^CVX|.5|mL^mL^UCUM||"
             "00^NEW IMMUNIZATION RECORD^NIP001||||||||||||CP|A\r"
             "OBX|1|CE|30956-7^vaccine type^LN|2|45^HepB^CVX||||||F\r"
             "OBX|2|TS|29769-7^VIS presented^LN|2|20140730||||||F\r")


def test_coconstraint_group_members_share_the_primary_sub_id(tmp_path: Path):
    """An IGAMT CoConstraintGroup (synthetic VIS group on the real Z22 profile excerpt): the OBX with the
    Primary's code opens a group instance, the OBX sharing its OBX-4 (the table's IdPath) are its members; a
    member row with usage R needs its OBX in each group instance."""
    prof = tmp_path / "z22" / "z22.xml"
    prof.parent.mkdir()
    prof.write_bytes((ROOT / "tests" / "data" / "conformance" / "profiles" / "nist-z22-excerpt.xml").read_bytes())
    (prof.parent / "z22.coconstraints.xml").write_text(VIS_TABLE)

    def cc(text: str) -> list[tuple[str, str, str]]:
        return [f for f in findings(tmp_path, text, prof) if f[0] in ("PRF-CC-001", "PRF-NEV-001")]

    assert cc(VXU_ORDER) == []
    # the VIS-presented OBX has another sub-id: the VIS group of OBX-4 '2' lacks it
    assert cc(VXU_ORDER.replace("VIS presented^LN|2|", "VIS presented^LN|3|")) == [(
        "PRF-CC-001", "ORDER[1].OBSERVATION[1].OBX.4",
        "co-constraint row OBX-3=29769-7 of group VIS has usage R: at least 1 OBX expected with OBX-3=30956-7 "
        "(4[1] '2') in ORDER[1], 0 found")]
    # a member's own constraint
    assert cc(VXU_ORDER.replace("OBX|2|TS|", "OBX|2|DT|")) == [(
        "PRF-CC-001", "ORDER[1].OBSERVATION[2].OBX.2", "co-constraint for OBX-3=29769-7: OBX-2 SHALL be TS (found 'DT')")]
    # a historical record (RXA-9.1 '01'): the table's condition does not hold in this ORDER
    assert cc(VXU_ORDER.replace("VIS presented^LN|2|", "VIS presented^LN|3|").replace("00^NEW", "01^HIST")) == []


def test_message_context_statement_paths_from_the_message(tmp_path: Path):
    """A statement in a Message context (`<Message><ByID>`): its path starts at the message's children
    (2[1].1[1].1[1].3[1].1[1]: PATIENT_RESULT, PATIENT, PID, PID-3.1)."""
    assert findings(tmp_path, PCD01) == []
    assert findings(tmp_path, PCD01.replace("PID|||HOSP0001^", "PID|||^", 1)) == [(
        "PRF-CS-001", "PATIENT_RESULT[1].PATIENT[1].PID.3.1",
        "conformance statement SITE-MSG-001 fails in the message: PID-3.1 (patient identifier) SHALL be valued. "
        "(found '')")]
