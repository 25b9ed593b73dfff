"""OBX-2 value types per declared HL7 version (table 0125) and OBX-3's MDC coding in the identifier or
the alternate identifier (IHE PCD TF-2 Rev 9.0 App. A.1 / B.8), on the real public messages of
tests/data/hl7v2 (SOURCES.md there) and on edits of the catalogue's base message."""

from __future__ import annotations

from pathlib import Path

from interop.conformance.hl7v2.cases import build
from interop.conformance.hl7v2.reference import table_listing
from interop.conformance.runner import run

HL7 = Path(__file__).resolve().parent.parent / "data" / "hl7v2"
SLL_WAVEFORM = HL7 / "pcd01-sll-waveform-facets.hl7"  # MSH-12 2.6, three OBX-2 NR (MDC_ATTR_DATA_RANGE)
NIST_PULSEOX = HL7 / "pcd01-ihe-pulseox-nist.hl7"  # OBX-3 8889-8^...^LN^149530^MDC_PULS_OXIM_PULS_RATE^MDC


def findings(path: Path, profile: str) -> list[tuple[str, str, str, str]]:
    report = run([path], profile)
    return [(f.assertion, f.severity, f.location, f.message) for res in report.results for f in res.findings]


def of(rows, *ids: str):
    return [r for r in rows if r[0] in ids]


def test_table_0125_lists_nr_from_v2_8_2_and_withdrawn_ce_up_to_v2_6():
    assert table_listing("HL70125", "NR") == ("2.8.2",)
    assert table_listing("HL70125", "CE") == ("2.3.1", "2.4", "2.5", "2.5.1", "2.6")
    assert table_listing("HL70125", "NA")[0] == "2.3.1"  # TABLE_ADDITIONS (waveforms since v2.3)
    assert table_listing("HL70125", "XX") == ()


def test_nr_in_a_v2_6_message_is_a_warning_not_an_error(tmp_path):
    rows = findings(SLL_WAVEFORM, "hl7v2")
    assert of(rows, "HL7V2-OBX-002", "HL7V2-DT-ID") == []
    assert of(rows, "HL7V2-OBX-021") == [
        ("HL7V2-OBX-021", "warning", f"OBX[{n}].2", "value type 'NR' is in HL7 table 0125 from v2.8.2 on; MSH-12 "
         "declares 2.6 (a receiver holding to 2.6 may not know it)") for n in (4, 7, 11)]


def test_nr_in_a_v2_8_2_message_is_silent(tmp_path):
    msg = SLL_WAVEFORM.read_bytes().replace(b"|P|2.6|", b"|P|2.8.2|", 1)
    (tmp_path / "v282.hl7").write_bytes(msg)
    assert of(findings(tmp_path / "v282.hl7", "hl7v2"), "HL7V2-OBX-002", "HL7V2-OBX-021", "HL7V2-DT-ID") == []


def test_a_value_type_of_no_version_is_still_an_error(tmp_path):
    (tmp_path / "xx.hl7").write_bytes(build({"base": "pcd01-vitals", "set": {"OBX[3].2": "XX"}}))
    assert of(findings(tmp_path / "xx.hl7", "hl7v2"), "HL7V2-OBX-002", "HL7V2-OBX-021") == [
        ("HL7V2-OBX-002", "error", "OBX[3].2", "value type 'XX' is in no version of HL7 table 0125 (v2.3 to v2.8.2)")]


def test_a_withdrawn_value_type_is_a_warning(tmp_path):
    msg = build({"base": "pcd01-vitals", "set": {"MSH[1].12": "2.7", "OBX[3].2": "CE",
                                                  "OBX[3].5": "123^Sinus rhythm^99X"}})
    (tmp_path / "ce.hl7").write_bytes(msg)
    assert of(findings(tmp_path / "ce.hl7", "hl7v2"), "HL7V2-OBX-002", "HL7V2-OBX-021") == [
        ("HL7V2-OBX-021", "warning", "OBX[3].2", "value type 'CE' is in HL7 table 0125 of v2.3.1 to v2.6 only; "
         "MSH-12 declares 2.7 (withdrawn there)")]


def test_mdc_in_the_alternate_identifier_is_a_warning_not_an_error():
    rows = findings(NIST_PULSEOX, "ihe-pcd-01")
    assert of(rows, "PCD01-OBX-003", "PCD01-OBX-031", "PCD01-OBX-032", "PCD01-OBX-033") == []
    assert of(rows, "PCD01-OBX-034") == [
        ("PCD01-OBX-034", "warning", "OBX[1].3.3", "OBX-3 carries MDC 149530 in the alternate identifier (CWE-4..6) "
         "and 'LN' in CWE-1..3; IHE PCD TF-2 App. A.1 puts the MDC code, reference id and 'MDC' in CWE-1..3")]
    # {beats}/min is /min (a UCUM annotation has no meaning): valid for MDC_PULS_OXIM_PULS_RATE
    assert of(rows, "PCD01-OBX-063") == []
    errors = sorted({r[0] for r in rows if r[1] == "error"})
    assert errors == ["PCD01-OBR-003", "PCD01-OBR-007"]  # no filler order number; OBR-7 without time zone


def test_alternate_mdc_triplet_is_checked_like_a_primary_one(tmp_path):
    msg = build({"base": "pcd01-vitals", "set": {
        "OBX[3].3": "59408-5^Oxygen saturation^LN^150456^MDC_PULS_OXIM_PULS_RATE^MDC",
        "OBX[4].3": "8889-8^Heart rate by Oximetry^LN^999999^MDC_UNKNOWN^MDC"}})
    (tmp_path / "alt.hl7").write_bytes(msg)
    rows = findings(tmp_path / "alt.hl7", "ihe-pcd-01")
    assert of(rows, "PCD01-OBX-033", "PCD01-OBX-032") == [
        ("PCD01-OBX-032", "warning", "OBX[4].3.4", "MDC code 999999 is not in the terminology tables (IEEE "
         "11073-10101 / IHE PCD Rosetta rows this project carries)"),
        ("PCD01-OBX-033", "warning", "OBX[3].3.5", "OBX-3.5 MDC_PULS_OXIM_PULS_RATE does not name code 150456 "
         "(MDC_PULS_OXIM_SAT_O2)"),
    ]


def test_no_mdc_coding_anywhere_is_still_an_error(tmp_path):
    (tmp_path / "ln.hl7").write_bytes(build({"base": "pcd01-vitals", "set": {
        "OBX[3].3": "59408-5^Oxygen saturation^LN^2708-6^Oxygen saturation^LN"}}))
    assert of(findings(tmp_path / "ln.hl7", "ihe-pcd-01"), "PCD01-OBX-003", "PCD01-OBX-034") == [
        ("PCD01-OBX-003", "error", "OBX[3].3.3", "OBX-3 has no MDC (ISO/IEEE 11073-10101) coding: coding system "
         "'LN', alternate coding system 'LN'")]
