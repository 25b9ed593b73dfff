"""PCD-01 → FHIR R4/R5: golden bundles, exact elements, and validation by the fhir.resources models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from interop import decode, to_fhir

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "hl7v2"
INPUTS = {
    "pcd01-vitals": ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7",
    "pocd-philips-intellivue-pcd01": ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7",
}
MDC = "urn:iso:std:iso:11073:10101"


def bundle_json(name: str, version: str) -> dict:
    return json.loads(to_fhir(decode(INPUTS[name]), version).json())


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_golden(name, version):
    """Whole-bundle comparison with a reviewed expected file (INTEROP_REGEN_GOLDEN=1 rewrites them)."""
    got = to_fhir(decode(INPUTS[name]), version).json(indent=True) + b"\n"
    path = GOLDEN / f"{name}.{version.lower()}.json"
    if os.environ.get("INTEROP_REGEN_GOLDEN"):
        path.write_bytes(got)
    assert got.decode() == path.read_text()


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_validates_against_fhir_models(name, version):
    model = to_fhir(decode(INPUTS[name]), version).to_model()
    assert model.type == "collection"
    assert len(model.entry) == len(bundle_json(name, version)["entry"])


def _observations(b: dict) -> dict[str, dict]:
    out = {}
    for e in b["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Observation":
            mdc = next(c["code"] for c in r["code"]["coding"] if c["system"] == MDC)
            out[mdc] = r
    return out


def _by_fullurl(b: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in b["entry"]}


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_vital_sign_observations(version):
    b = bundle_json("pcd01-vitals", version)
    obs = _observations(b)
    resources = _by_fullurl(b)
    expected = {
        # MDC code: (LOINC, value, UCUM, effective, low, high)
        "150456": ("2708-6", 97, "%", "2024-03-15T10:15:00+01:00", 90, 100),
        "149530": ("8867-4", 72, "/min", "2024-03-15T10:15:00+01:00", 50, 120),
        "150021": ("8480-6", 120, "mm[Hg]", "2024-03-15T10:12:00+01:00", 90, 160),
        "150022": ("8462-4", 80, "mm[Hg]", "2024-03-15T10:12:00+01:00", 50, 90),
        "150364": ("8310-5", 37.2, "Cel", "2024-03-15T10:14:00+01:00", 36.0, 38.5),
        "151562": ("9279-1", 16, "/min", "2024-03-15T10:15:00+01:00", 8, 30),
    }
    for mdc, (loinc, value, unit, when, low, high) in expected.items():
        o = obs[mdc]
        assert {"system": "http://loinc.org", "code": loinc} in [
            {k: c[k] for k in ("system", "code")} for c in o["code"]["coding"]]
        assert o["category"][0]["coding"][0]["code"] == "vital-signs"
        assert o["valueQuantity"]["value"] == value
        assert o["valueQuantity"]["code"] == unit and o["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert o["effectiveDateTime"] == when
        assert o["status"] == "final"
        rr = o["referenceRange"][0]
        assert (rr["low"]["value"], rr["high"]["value"]) == (low, high)
        assert rr["type"]["coding"] == [{"system": "http://hl7.org/fhir/uv/pocd/CodeSystem/reference-range-type",
                                        "code": "alarm-limits", "display": "Alarm limits"}]
        subject = resources[o["subject"]["reference"]]
        assert subject["resourceType"] == "Patient" and subject["identifier"][0]["value"] == "HOSP0001"
        metric = resources[o["device"]["reference"]]
        assert metric["resourceType"] == "DeviceMetric"
        # PoCD IG: the channel OBX-4 x.y.z.n names (a Device made from OBX-4), its VMD, its MDS
        channel = resources[metric["device" if version == "R5" else "parent"]["reference"]]
        vmd = resources[channel["parent"]["reference"]]
        assert "type" not in channel and vmd["type"]  # no device row declares the channel: no type
        mds = resources[vmd["parent"]["reference"]]
        if version == "R4":  # source = the MDS, parent = the channel
            assert metric["source"]["reference"] == vmd["parent"]["reference"]
        assert mds["identifier"][0]["value"] == "01-23-45-67-89-AB-CD-EF"  # the IGs' dashed spelling
        assert mds["identifier"][0]["system"] == "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"


def test_decimal_precision_kept_in_json():
    text = to_fhir(decode(INPUTS["pcd01-vitals"]), "R4").json()
    assert b'"value":37.20,' in text and b'"value":36.0,' in text


def test_r4_r5_device_differences():
    r4 = _by_fullurl(bundle_json("pcd01-vitals", "R4"))
    r5 = _by_fullurl(bundle_json("pcd01-vitals", "R5"))
    r4_mds = next(r for r in r4.values() if r["resourceType"] == "Device" and "type" in r
                  and r["type"]["coding"][0]["code"] == "69965")
    r5_mds = next(r for r in r5.values() if r["resourceType"] == "Device" and "type" in r
                  and r["type"][0]["coding"][0]["code"] == "69965")
    assert "patient" in r4_mds and "patient" not in r5_mds
    r4_gw = next(r for r in r4.values() if r["resourceType"] == "Device" and "deviceName" in r)
    r5_gw = next(r for r in r5.values() if r["resourceType"] == "Device" and "displayName" in r)
    assert r4_gw["deviceName"][0]["name"] == r5_gw["displayName"] == "ACME_GW"


def test_provenance_names_source_gateway_and_translator():
    b = bundle_json("pcd01-vitals", "R4")
    (prov,) = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert len(prov["target"]) == len(b["entry"]) - 1
    assert prov["recorded"] == "2024-03-15T10:15:30+01:00"
    assert prov["entity"][0]["what"]["display"] == "HL7 v2 ORU^R01^ORU_R01 MSG00001"
    assert prov["entity"][0]["what"]["identifier"]["value"].startswith("urn:sha256:")
    assert prov["agent"][0]["who"]["display"].startswith("iomt-interop ")
    gateway = _by_fullurl(b)[prov["agent"][1]["who"]["reference"]]
    assert gateway["identifier"][0]["value"] == "AC-DE-48-FF-FE-01-23-45"


def test_deterministic_ids():
    a = to_fhir(decode(INPUTS["pcd01-vitals"]), "R4").json()
    b = to_fhir(decode(INPUTS["pcd01-vitals"]), "R4").json()
    assert a == b


def test_transaction_bundle_uses_conditional_create():
    b = json.loads(to_fhir(decode(INPUTS["pcd01-vitals"]), "R4", bundle_type="transaction").json())
    assert b["type"] == "transaction"
    patient = next(e for e in b["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient["request"] == {"method": "POST", "url": "Patient",
                                  "ifNoneExist": "identifier=urn:oid:1.2.3.4.5|HOSP0001"}
    mds = next(e for e in b["entry"] if e["resource"]["resourceType"] == "Device"
               and e["resource"].get("type", {}).get("coding", [{}])[0].get("code") == "69965")
    assert mds["request"]["ifNoneExist"] == \
        "identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|01-23-45-67-89-AB-CD-EF"
    obs = next(e for e in b["entry"] if e["resource"]["resourceType"] == "Observation")
    assert obs["request"]["method"] == "PUT"
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(b)


def test_waveform_sampled_data_r4_r5():
    # the ECG lead is the component of one MDC_ECG_ELEC_POTL Observation (FHIR core ECG example, PoCD IG)
    r4 = _observations(bundle_json("pocd-philips-intellivue-pcd01", "R4"))["131328"]["component"][0]
    r5 = _observations(bundle_json("pocd-philips-intellivue-pcd01", "R5"))["131328"]["component"][0]
    assert r4["code"]["coding"][0]["code"] == r5["code"]["coding"][0]["code"] == "131329"
    r4, r5 = r4["valueSampledData"], r5["valueSampledData"]
    assert r4["period"] == 0 and "interval" not in r4
    assert r5["interval"] == 0 and r5["intervalUnit"] == "ms"
    assert r4["data"].split()[:4] == ["-10", "-10", "-5", "1"]


def test_absent_value_and_flags():
    msg = decode(ROOT / "examples" / "hl7v2" / "pcd01-custom-delimiters.hl7")
    b = json.loads(to_fhir(msg, "R5").json())
    spo2, pulse = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation"][:2]
    assert spo2["dataAbsentReason"]["coding"][0]["code"] == "not-a-number"
    assert "valueQuantity" not in spo2 and "note" not in spo2
    # QUES (questionable) per the PoCD IG measurement-status table: UNCERTREL + interpretation
    assert pulse["meta"]["security"] == [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                                          "code": "UNCERTREL"}]
    assert [i["coding"][0]["code"] for i in pulse["interpretation"]] == ["H", "questionable"]
    assert pulse["interpretation"][1]["coding"][0]["system"] == "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"
    to_fhir(msg, "R5").to_model()
    to_fhir(msg, "R4").to_model()
