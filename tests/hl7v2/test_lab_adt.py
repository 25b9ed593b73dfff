"""Lab ORU/OUL → ServiceRequest + DiagnosticReport + Observations; ADT trigger → Encounter status."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop import decode, to_fhir

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
OLD = Path(__file__).resolve().parent / "data"


def _of(bundle, kind):
    return [r for r in bundle.resources if r["resourceType"] == kind]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_lri_cbc_report(version):
    msg = decode((OLD / "msfc-LRI_2.0-NG_CBC_Typ_Message.hl7").read_bytes())
    bundle = to_fhir(msg, version)
    (report,) = _of(bundle, "DiagnosticReport")
    (request,) = _of(bundle, "ServiceRequest")
    observations = _of(bundle, "Observation")
    assert report["status"] == "final" and request["status"] == "completed" and request["intent"] == "order"
    assert len(report["result"]) == len(observations) == 28
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle.data["entry"]}
    assert report["basedOn"] == [{"reference": urls[request["id"]]}]
    assert {r["reference"] for r in report["result"]} == {urls[o["id"]] for o in observations}
    bundle.to_model()


@pytest.mark.parametrize("name,r4,r5", [
    ("msfc-ADT-A03-01.hl7", "finished", "completed"),
    ("msfc-ADT-A08-01.hl7", "finished", "completed"),
    ("msfc-ADT-A11-01.hl7", "cancelled", "cancelled"),
])
def test_adt_encounter_status(name, r4, r5):
    msg = decode((DATA / name).read_bytes())
    for version, status in (("R4", r4), ("R5", r5)):
        bundle = to_fhir(msg, version)
        (enc,) = _of(bundle, "Encounter")
        assert enc["status"] == status
        bundle.to_model()


def test_device_messages_get_no_diagnostic_report():
    msg = decode((Path(__file__).resolve().parents[2] / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes())
    assert not _of(to_fhir(msg, "R4"), "DiagnosticReport")


A40 = (
    "MSH|^~\\&|ADT|HOSP|EHR|HOSP|20240102030405+0100||ADT^A40^ADT_A39|M1|P|2.5.1\r"
    "EVN|A40|20240102030405+0100\r"
    "PID|||MRN-2^^^HOSP^MR||Doe^Jane||19800101|F\r"
    "MRG|MRN-1^^^HOSP^MR\r"
)


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_a40_merge_links_the_records(version, bundle_type):
    msg = decode(A40.encode())
    assert [i.value for i in msg.patient.merged] == ["MRN-1"]
    assert not [i for i in msg.issues if i.code == "hl7v2.segment-not-placed" and i.location.startswith("MRG")]
    bundle = to_fhir(msg, version, bundle_type=bundle_type)
    survivor, merged = _of(bundle, "Patient")
    urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle.data["entry"]}
    assert survivor["identifier"][0]["value"] == "MRN-2" and merged["identifier"][0]["value"] == "MRN-1"
    assert survivor["link"] == [{"other": {"reference": urls[merged["id"]]}, "type": "replaces"}]
    assert merged["link"] == [{"other": {"reference": urls[survivor["id"]]}, "type": "replaced-by"}]
    assert merged["active"] is False
    # the merged record has the id an ordinary message about MRN-1 gives its Patient
    before = to_fhir(decode(A40.replace("MRN-2", "MRN-1").replace("MRG|MRN-1^^^HOSP^MR\r", "").encode()), version)
    assert _of(before, "Patient")[0]["id"] == merged["id"]
    bundle.to_model()


def test_unplaced_pid_pv1_obr_fields_are_reported():
    text = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|U1|P|2.5.1\r"
            "PID|||1^^^H^MR||Doe^Jane||19800101|F|||1 Main St^^Town\r"
            "PV1||I|W^1^2||||||||||||||||V1\r"
            "OBR|1|P1|F1|24331-1^Lipid panel^LN|||20240102030000+0100|||||||||DOC^Who\r")
    msg = decode(text.encode())
    found = {(i.code, i.location) for i in msg.issues}
    assert ("hl7v2.field-not-placed", "PID[1]-11") not in found  # placed: Patient.addresses
    assert [(a.lines, a.city) for a in msg.patient.addresses] == [(("1 Main St",), "Town")]
    assert ("hl7v2.field-not-placed", "OBR[1]-16") in found
    assert not [loc for code, loc in found if loc.startswith("PV1")]  # PV1-2/3/19 are placed
