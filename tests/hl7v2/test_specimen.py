"""SPM → Specimen (v2-to-FHIR IG SPM → Specimen map), linked from Observation.specimen, DiagnosticReport.specimen
and ServiceRequest.specimen, in ORU^R01 (SPM after its OBR) and OUL^R22 (SPM before its OBRs); golden
Bundles of public lab messages."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode, decode_all, to_fhir

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data" / "hl7v2"
GOLDEN = TESTS / "golden" / "hl7v2"
CDC = DATA / "cdc-reportstream-elr-covid-ag.hl7"
NIST = TESTS / "hl7v2" / "data" / "msfc-LRI_2.0-NG_CBC_Typ_Message.hl7"
OUL = DATA / "msfc-OUL-R22-01.hl7"
SCT = "http://snomed.info/sct"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"

FULL = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|S1|P|2.5.1\r"
        "PID|||1^^^H^MR\r"
        "OBR|1|P1|F1|2345-7^Glucose^LN|||20240102030000+0100\r"
        "OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^mmol/L^UCUM|||||F\r"
        "SPM|1|SP-1&PLACER^SP-1F&FILLER||119297000^Blood specimen^SCT|||"
        "28520004^Venipuncture^SCT|49852007^Structure of median cubital vein^SCT|7771000^Left^SCT||"
        "P^Patient^HL70369|5^mL&milliliter&UCUM||Fasting sample|||"
        "202401020200+0100^202401020215+0100|202401020250+0100||N|RB^Broken container^HL70490|||"
        "HEM^Hemolyzed^HL70493|||SST^Serum separator tube^HL70785\r"
        "OBX|2|CWE|33882-2^Collection date^LN||Y^Yes^HL70136||||||F\r")


def _cdc():
    (msg,) = list(decode_all(CDC))
    return msg


def _resources(bundle, kind):
    return [r for r in bundle.resources if r["resourceType"] == kind]


def test_full_spm_canonical():
    msg = decode(FULL.encode())
    (s,) = msg.specimens
    assert [(i.type, i.value, i.assigner) for i in s.identifiers] == [("PLAC", "SP-1", "PLACER"),
                                                                       ("FILL", "SP-1F", "FILLER")]
    assert s.type.codings[0].code == "119297000" and s.method.codings[0].code == "28520004"
    assert s.body_site.codings[0].code == "49852007" and s.body_site_modifiers[0].codings[0].code == "7771000"
    assert (s.quantity.value, s.quantity.unit) == (Decimal(5), "mL")
    assert s.description == "Fasting sample"
    plus1 = timezone(timedelta(hours=1))
    assert (s.collected.value, s.collected_end.value, s.received.value) == (
        datetime(2024, 1, 2, 2, 0, tzinfo=plus1), datetime(2024, 1, 2, 2, 15, tzinfo=plus1),
        datetime(2024, 1, 2, 2, 50, tzinfo=plus1))
    assert s.available is False and s.reject_reasons[0].codings[0].code == "RB"
    assert s.conditions[0].codings[0].code == "HEM" and s.container_type.codings[0].code == "SST"
    assert s.orders == ("F1",)
    assert [m.specimen for m in msg.metrics] == ["1", "1"]  # the OBR's result and the specimen's own OBX


def test_full_spm_r4():
    bundle = to_fhir(decode(FULL.encode()), "R4")
    (spec,) = _resources(bundle, "Specimen")
    assert spec["extension"] == [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Specimen.role",
                                  "valueCodeableConcept": {"coding": [{
                                      "system": "http://terminology.hl7.org/CodeSystem/v2-0369", "code": "P",
                                      "display": "Patient"}]}}]
    assert spec["identifier"] == [
        {"type": {"coding": [{"system": V2_0203, "code": "PLAC", "display": "Placer Identifier"}]}, "value": "SP-1",
         "assigner": {"display": "PLACER"}},
        {"type": {"coding": [{"system": V2_0203, "code": "FILL", "display": "Filler Identifier"}]}, "value": "SP-1F",
         "assigner": {"display": "FILLER"}}]
    assert spec["status"] == "unsatisfactory"  # SPM-21 reject reason
    assert spec["collection"] == {
        "collectedPeriod": {"start": "2024-01-02T02:00:00+01:00", "end": "2024-01-02T02:15:00+01:00"},
        "quantity": {"value": Decimal(5), "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"},
        "method": {"coding": [{"system": SCT, "code": "28520004", "display": "Venipuncture"}]},
        "bodySite": {"coding": [{"system": SCT, "code": "49852007", "display": "Structure of median cubital vein"}]}}
    assert spec["receivedTime"] == "2024-01-02T02:50:00+01:00"
    assert spec["container"] == [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0785",
                                                       "code": "SST", "display": "Serum separator tube"}]}}]
    assert spec["condition"][0]["coding"][0]["code"] == "HEM"
    assert spec["note"] == [{"text": "Fasting sample"}, {"text": "rejected: Broken container"}]
    url = next(e["fullUrl"] for e in bundle.data["entry"] if e["resource"] is spec)
    assert [o["specimen"] for o in _resources(bundle, "Observation")] == [{"reference": url}] * 2
    (report,) = _resources(bundle, "DiagnosticReport")
    (request,) = _resources(bundle, "ServiceRequest")
    assert report["specimen"] == [{"reference": url}] and request["specimen"] == [{"reference": url}]
    assert any(i.location == "SPM[1]-9" for i in bundle.issues)  # the site modifier: not expressible
    bundle.to_model()


def test_full_spm_r5():
    bundle = to_fhir(decode(FULL.encode()), "R5")
    (spec,) = _resources(bundle, "Specimen")
    assert spec["role"] == [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0369", "code": "P",
                                         "display": "Patient"}]}]
    assert "extension" not in spec and "container" not in spec
    assert spec["collection"]["bodySite"] == {"concept": {"coding": [
        {"system": SCT, "code": "49852007", "display": "Structure of median cubital vein"}]}}
    assert any(i.location == "SPM[1]-6/27" for i in bundle.issues)
    bundle.to_model()


def test_availability_maps_to_status():
    for flag, status in (("Y", "available"), ("N", "unavailable")):
        text = FULL.replace("|N|RB^Broken container^HL70490|", f"|{flag}||")
        (spec,) = _resources(to_fhir(decode(text.encode()), "R4"), "Specimen")
        assert spec["status"] == status


def test_cdc_elr_specimen():
    """CDC ReportStream public ELR sample (COVID-19 antigen, FHS/BHS batch of one ORU^R01)."""
    msg = _cdc()
    (s,) = msg.specimens
    assert [(i.type, i.value) for i in s.identifiers] == [("PLAC", "1234d1d1-95fe-462c-8ac6-46728dba581c"),
                                                          ("FILL", "1234d1d1-95fe-462c-8ac6-46728dba581c")]
    assert (s.type.codings[0].system, s.type.codings[0].code, s.type.codings[0].display) == (
        SCT, "445297001", "Swab of internal nose")
    assert s.body_site.codings[0].code == "53342003"
    assert s.collected.raw == "202108020000-0500" and s.received.raw == "20210802000006.0000-0500"
    assert s.orders == ("1234d1d1-95fe-462c-8ac6-46728dba581c",)
    assert [m.specimen for m in msg.metrics] == ["1"] * 5  # the SPM follows the OBR's five OBXs
    r4 = to_fhir(msg, "R4")
    (spec,) = _resources(r4, "Specimen")
    assert spec["collection"]["collectedDateTime"] == "2021-08-02T00:00:00-05:00"
    assert spec["receivedTime"] == "2021-08-02T00:00:06.000000-05:00"


def test_nist_lri_cbc_specimen_on_every_result():
    """NIST LRI CBC test message (as kept by microsoft/FHIR-Converter): one SPM after 28 OBXs."""
    msg = decode(NIST)
    (s,) = msg.specimens
    assert (s.type.codings[0].code, s.type.codings[0].display, s.type.text) == ("119297000", "BLD", "Blood")
    assert s.collected.value == datetime(2011, 1, 3, 14, 34, 28, tzinfo=timezone(timedelta(hours=-8)))
    assert s.orders == ("R-991133",)
    assert len(msg.metrics) == 28 and {m.specimen for m in msg.metrics} == {"1"}
    bundle = to_fhir(msg, "R4")
    (report,) = _resources(bundle, "DiagnosticReport")
    assert len(report["specimen"]) == 1 and len(report["result"]) == 28
    bundle.to_model()


def test_oul_r22_specimen_before_its_orders():
    """microsoft/FHIR-Converter OUL^R22: SPM, its own OBX, then the OBR it serves (specimen first)."""
    msg = decode(OUL)
    (s,) = msg.specimens
    assert [(p.value, p.assigner) for p in s.parents] == [("2017-PAT-123456", "L"), ("2017-PAT", "L"), ("2017", "L")]
    assert s.roles[0].codings[0].code == "P" and s.type.codings[0].code == "SKBP"
    assert s.orders == ("40bcbe96bcbf8cda8b07403263b92cb4",)
    by = {m.source.location: (m.specimen, m.group) for m in msg.metrics}
    assert by["OBX[1]"] == (None, None)  # before the SPM
    assert by["OBX[2]"] == ("1", None)  # the specimen's own observation
    assert by["OBX[5]"] == ("1", "40bcbe96bcbf8cda8b07403263b92cb4")


def test_oul_r22_two_specimen_groups():
    text = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||OUL^R22^OUL_R22|S2|P|2.5.1\rPID|||1^^^H^MR\r"
            "SPM|1|A&L||119297000^Blood^SCT\rOBR|1||FA|2345-7^Glucose^LN\rOBX|1|NM|2345-7^Glucose^LN||5.4|||||F\r"
            "SPM|2|B&L||122575003^Urine^SCT\rOBX|1|ST|5778-6^Color^LN||yellow|||||F\r"
            "OBR|2||FB|5767-9^Appearance^LN\rOBX|1|ST|5767-9^Appearance^LN||clear|||||F\r")
    msg = decode(text.encode())
    assert [(s.key, s.orders) for s in msg.specimens] == [("1", ("FA",)), ("2", ("FB",))]
    assert [(m.specimen, m.group) for m in msg.metrics] == [("1", "FA"), ("2", None), ("2", "FB")]
    bundle = to_fhir(msg, "R5")
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle.data["entry"]}
    specs = _resources(bundle, "Specimen")
    reports = _resources(bundle, "DiagnosticReport")
    assert [r["specimen"] for r in reports] == [[{"reference": urls[s["id"]]}] for s in specs]
    bundle.to_model()


INPUTS = {"cdc-reportstream-elr-covid-ag": _cdc, "msfc-OUL-R22-01": lambda: decode(OUL)}


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_golden(name, version):
    """Whole-bundle comparison with a reviewed expected file (INTEROP_REGEN_GOLDEN=1 rewrites them)."""
    bundle = to_fhir(INPUTS[name](), version)
    got = bundle.json(indent=True) + b"\n"
    path = GOLDEN / f"{name}.{version.lower()}.json"
    if os.environ.get("INTEROP_REGEN_GOLDEN"):
        path.write_bytes(got)
    assert got.decode() == path.read_text()
    bundle.to_model()


@pytest.mark.parametrize("make", [_cdc, lambda: decode(OUL), lambda: decode(NIST), lambda: decode(FULL.encode())])
def test_canonical_json_round_trip_is_exact(make):
    """Specimens and attachments (bytes as base64 in JSON) come back from `--to canonical` JSON unchanged."""
    from interop.model import Message, from_json, to_json

    msg = make()
    assert from_json(to_json(msg), Message) == msg


@pytest.mark.parametrize("make", [_cdc, lambda: decode(FULL.encode())])
def test_encoder_writes_spm_and_reads_it_back(make):
    """`--to hl7v2`: the SPECIMEN group after the order's observations; decoding it gives the same specimen."""
    from interop.mappings.hl7v2.encode import encode

    from interop.model import replace

    first = make()
    second = decode(encode(first))

    def comparable(s):  # code versions (CWE.7) are not written; source positions differ
        return replace(s, source=None, orders=(), type=s.type.codings[0].code if s.type else None,
                       body_site=s.body_site.codings[0].code if s.body_site else None)

    assert [comparable(s) for s in second.specimens] == [comparable(s) for s in first.specimens]
    assert {m.specimen for m in second.metrics} == {"1"}
