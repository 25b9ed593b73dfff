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
