"""HL7 PHD IG rules on GATT input, validated with fhir.resources (R5 and R4B) and pinned to the IG's values."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073.gatt.characteristics import CHARACTERISTICS
from interop.codecs.ieee11073.gatt.codec import GattCodec
from interop.mappings.fhir import bundle as fhir_bundle
from interop.mappings.fhir import phd

from interop.errors import DecodeError
from interop.model import Message, Timestamp, replace

ROOT = Path(__file__).resolve().parents[2]
GATT = ROOT / "tests" / "gatt" / "data"
EXAMPLES = ROOT / "examples" / "gatt"


@pytest.fixture(autouse=True)
def phd_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `phd.build` where it belongs: after the observation builder, before provenance."""
    builders = list(fhir_bundle.BUILDERS)
    if "phd" not in builders:
        builders.insert(builders.index("observation") + 1, "phd")
    monkeypatch.setattr(fhir_bundle, "BUILDERS", tuple(builders))


def bundle(msg: Message, version: str = "R4", bundle_type: str = "collection") -> fhir_bundle.Bundle:
    b = fhir_bundle.to_bundle(msg, version, bundle_type)
    b.to_model()  # validates every resource (R4: fhir.resources.R4B, R5: fhir.resources)
    return b


def decode(path: Path) -> Message:
    from interop.pipeline import raw_ref

    data = path.read_bytes()
    return replace(GattCodec().decode(data, strict=True), raw=raw_ref(data, path.name))


def of_type(b: fhir_bundle.Bundle, rtype: str) -> list[dict]:
    return [r for r in b.as_dict()["entry"] if r["resource"]["resourceType"] == rtype]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_blood_pressure_bundle(version: str) -> None:
    b = bundle(decode(EXAMPLES / "blood_pressure.gatt"), version)
    device = of_type(b, "Device")[0]["resource"]
    # PhdDevice notes: BTMAC transport address, dashed capital hex, ContinuaDeviceIdentifiers type
    assert device["identifier"] == [{
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers",
                             "code": "BTMAC", "display": "Bluetooth MAC address"}]},
        "system": "http://hl7.org/fhir/sid/eui-48/bluetooth", "value": "00-1C-05-FF-E8-74"}]
    mds = {"system": "urn:iso:std:iso:11073:10101", "code": "65573", "display": "MDC_MOC_VMS_MDS_SIMP"}
    bpm = {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": "528391",
                       "display": "MDC_DEV_SPEC_PROFILE_BPM"}]}
    fw = {"type": {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": "531976",
                               "display": "MDC_ID_PROD_SPEC_FW"}]}, "value": "1.0.2"}
    assert device["version"] == [fw]
    if version == "R4":
        assert device["meta"]["profile"] == ["http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"]
        assert device["type"] == {"coding": [mds]} and device["specialization"] == [{"systemType": bpm}]
    else:
        assert device["type"] == [{"coding": [mds]}] and device["conformsTo"] == [{"specification": bpm}]
    obs = [e["resource"] for e in of_type(b, "Observation")]
    bp = obs[0]
    assert bp["code"]["coding"][0]["code"] == "150020"
    assert bp["code"]["coding"][1]["system"] == "http://loinc.org" and bp["code"]["coding"][1]["code"] == "85354-9"
    assert [c["code"]["coding"][-1]["code"] for c in bp["component"]][:2] == ["8480-6", "8462-4"]
    assert bp["category"][0]["coding"][0]["code"] == "vital-signs"
    assert bp["category"][-1]["coding"][0] == {"system": "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories",
                                               "code": "phd", "display": "PHD generated Observation"}
    # conditional-create identifier: device (12 hex) - type - seconds since 2000-01-01 (2024-11-29T23:08:57)
    assert bp["identifier"] == [{"system": "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdBaseObservation",
                                 "value": "001C05FFE874-150020-786236937"}]
    if version == "R4":
        assert bp["meta"]["profile"] == [
            "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdCompoundNumericObservation"]
    status = obs[2]
    assert status["code"]["coding"][0]["code"] == "8410608" and "valueString" not in status
    assert status["component"] == [
        {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ASN1ToHL7", "code": "8410608.2",
                              "display": "irregular-pulse"}]}, "valueBoolean": True},
        {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ASN1ToHL7", "code": "8410608.3",
                              "display": "pulse-over-range-limit"}]}, "valueBoolean": True}]
    kpa = obs[3]  # second BP value: MAP is NaN → component dataAbsentReason
    assert kpa["component"][2]["dataAbsentReason"]["coding"][0]["code"] == "not-a-number"


def test_plx_spot_check_supplemental_type_and_interpretation() -> None:
    b = bundle(decode(GATT / "gatt_plx_spotcheck_full.hex"))
    spo2, pr, pai, dev = (e["resource"] for e in of_type(b, "Observation"))
    assert spo2["code"]["coding"][1]["code"] == "2708-6"  # MDC 150456 -> LOINC via the terminology module
    # PhdBaseObservation: MDC_MODALITY_SPOT as a Supplemental-Types component (code 68193), as in the IG example
    assert spo2["component"] == [{"code": {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": "68193",
                                                        "display": "MDC_ATTR_SUPPLEMENTAL_TYPES"}]},
                                  "valueCodeableConcept": {"coding": [{"system": "urn:iso:std:iso:11073:10101",
                                                                       "code": "150588",
                                                                       "display": "MDC_MODALITY_SPOT"}]}}]
    assert "method" not in spo2
    # Measurement Status "questionable" -> interpretation PoCD measurement-status#questionable
    assert {"coding": [{"system": "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status",
                        "code": "questionable"}]} in spo2["interpretation"]
    # no device identifier in the file: no conditional-create identifier can be formed
    assert "identifier" not in spo2
    assert [c["code"]["coding"][0]["code"] for c in dev["component"]] == ["150604.10", "150604.14"]


def test_transaction_conditional_create_and_eui64() -> None:
    text = b"# characteristic: 2A5E\n# device: 00-1C-05-FF-FE-FF-E8-74\n# manufacturer: Nonin\n# model: 3230\n" \
           b"03 ac f3 be f5 e8 07 0b 1d 17 08 39 00 01\n"  # status 0x0100 fully qualified
    from interop.pipeline import raw_ref

    msg = replace(GattCodec().decode(text, strict=True), raw=raw_ref(text, None))
    b = bundle(msg, "R4", "transaction")
    entries = of_type(b, "Observation")
    value = "001C05FFFEFFE874-150456-786236937-150588"
    assert entries[0]["resource"]["identifier"][0]["value"] == value
    assert entries[0]["request"] == {
        "method": "POST", "url": "Observation",
        "ifNoneExist": f"identifier=http://hl7.org/fhir/uv/phd/StructureDefinition/PhdBaseObservation|{value}"}
    device = of_type(b, "Device")[0]["resource"]
    assert device["identifier"][0]["type"]["coding"][0]["code"] == "SYSID"
    assert device["identifier"][0]["system"] == "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
    assert device["identifier"][0]["value"] == "00-1C-05-FF-FE-FF-E8-74"


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_gateway_is_phg_device_and_referenced(version: str) -> None:
    text = (b"# characteristic: 2A5F\n# device: 00:1C:05:FF:E8:74\n# gateway: ec-de-3d-4e-58-53-2d-31\n"
            b"# gateway-manufacturer: ACME\n# gateway-model: PHG app\n00 64 00 5a 00\n")
    b = bundle(GattCodec().decode(text, strict=True), version)
    gateway = next(d["resource"] for d in of_type(b, "Device") if d["resource"]["identifier"][0]["value"].startswith("EC"))
    assert gateway["identifier"][0]["value"] == "EC-DE-3D-4E-58-53-2D-31"
    assert gateway["identifier"][0]["type"]["coding"][0]["code"] == "SYSID"
    ahd = {"system": "urn:iso:std:iso:11073:10101", "code": "531981", "display": "MDC_MOC_VMS_MDS_AHD"}
    assert gateway["type"] == ({"coding": [ahd]} if version == "R4" else [{"coding": [ahd]}])
    if version == "R4":
        assert gateway["meta"]["profile"] == ["http://hl7.org/fhir/uv/phd/StructureDefinition/PhgDevice"]
    gateway_url = next(d["fullUrl"] for d in of_type(b, "Device") if d["resource"] is gateway or d["resource"] == gateway)
    spo2 = of_type(b, "Observation")[0]["resource"]
    assert spo2["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice",
                                  "valueReference": {"reference": gateway_url}}]


def test_provided_patient_logical_id_per_user() -> None:
    # PhdBaseObservation notes: with a provider-given logical id the PHG creates no Patient and uses that id,
    # also as the patient entry of the conditional-create identifier. User 1 -> "p-1"; user 2 unmapped.
    # The third reading (flags 0x06) is timed (2024-11-29 23:08:57, device-local: no zone).
    text = (b"# characteristic: 2A9D\n# device: 00:11:22:33:44:55\n04 b0 36 01\n04 b0 36 02\n"
            b"06 b0 36 e8 07 0b 1d 17 08 39 01\n")
    msg = GattCodec().decode(text, strict=True)
    b = fhir_bundle.to_bundle(msg, "R4", patient={1: "p-1"})
    b.to_model()
    first, second, third = (e["resource"] for e in of_type(b, "Observation"))
    assert first["subject"] == third["subject"] == {"reference": "Patient/p-1"}
    assert "subject" not in second
    # untimed readings have no identity (two of them are two readings); the timed one has the patient part
    assert "identifier" not in first and "identifier" not in second
    assert third["identifier"][0]["value"] == f"001122334455-p-1-188736-{786236937}"
    assert [i.code for i in b.issues].count("phd.no-subject") == 1


def test_invalid_and_not_available_status() -> None:
    # PLX continuous, status 0x8000 (invalid) then 0x2000 (measurement unavailable)
    msg = GattCodec().decode(b"# characteristic: 2A5F\n04 64 00 5a 00 00 80\n04 64 00 5a 00 00 20\n")
    obs = [e["resource"] for e in of_type(bundle(msg), "Observation")]
    assert obs[0]["status"] == "entered-in-error" and "valueQuantity" not in obs[0]
    assert obs[0]["dataAbsentReason"]["coding"][0]["code"] == "error"
    assert obs[2]["dataAbsentReason"]["coding"][0]["code"] == "not-performed"


def test_timestamp_part_rules() -> None:
    # GeneratingtheTimeStampPartIdentifier.md: seconds since 2000-01-01 at the clock resolution, offset in 15 min
    from datetime import datetime, timedelta, timezone

    assert phd.timestamp_part(Timestamp(value=datetime(2021, 11, 22, 11, 56, 0, 567000),
                                        precision="millisecond")) == "690897360.567"
    aware = datetime(2021, 11, 22, 11, 56, 0, 567000, tzinfo=timezone(timedelta(hours=1)))
    assert phd.timestamp_part(Timestamp(value=aware, precision="millisecond")) == "690897360.567+4"
    end = Timestamp(value=aware + timedelta(seconds=1), precision="millisecond")
    assert phd.timestamp_part(Timestamp(value=aware, precision="millisecond"), end) == "690897360.567+4..1.000"
    assert phd.conditional_identifier("74E8FFFEFF051C00", None, "149530", "690897360", ("150588",)) == \
        "74E8FFFEFF051C00-149530-690897360-150588"


def test_other_standards_untouched() -> None:
    msg = replace(GattCodec().decode(b"# characteristic: 2A5F\n00 64 00 5a 00\n"), standard="hl7v2")
    b = fhir_bundle.to_bundle(msg, "R4")
    assert all("meta" not in r or "profile" not in r["meta"] for r in b.resources)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(CHARACTERISTICS)), st.binary(min_size=1, max_size=30), st.sampled_from(["R4", "R5"]))
def test_phd_output_always_valid(uuid: int, value: bytes, version: str) -> None:
    """Any decodable GATT value gives PHD-shaped FHIR that fhir.resources accepts."""
    text = f"# characteristic: {uuid:04X}\n# device: 00-1C-05-FF-FE-FF-E8-74\n# manufacturer: M\n# model: X\n"
    try:
        msg = GattCodec().decode((text + value.hex() + "\n").encode())
    except DecodeError:  # no decodable value at all: the codec refuses it (tested in tests/gatt)
        return
    bundle(msg, version, "transaction")


def _codes(concept: dict) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept["coding"]]


def test_matches_ig_examples_bp_without_mean_and_bpm_status() -> None:
    """GATT bytes carrying the values of two IG examples give the same codes, values and absent reasons."""
    import json

    data = Path(__file__).parent / "data"
    bp_ig = json.loads((data / "compound-numeric-blood-pressure-no-mean.json").read_text())
    status_ig = json.loads((data / "bpm-status.json").read_text())
    # 116/71 mmHg, MAP NaN (07FF); status bits 0 (body movement) and 5 (improper position) = 0x0021
    text = b"# characteristic: 2A35\n# device: 00:11:22:33:44:55\n10 74 00 47 00 ff 07 21 00\n"
    obs = [e["resource"] for e in of_type(bundle(GattCodec().decode(text, strict=True)), "Observation")]
    bp, status = obs
    assert _codes(bp["code"]) == _codes(bp_ig["code"])
    for ours, theirs in zip(bp["component"], bp_ig["component"], strict=True):  # we add LOINC 8478-0 for the mean
        assert set(_codes(theirs["code"])) <= set(_codes(ours["code"]))
    assert [c.get("valueQuantity", {}).get("value") for c in bp["component"]] == [116, 71, None]
    assert [c["valueQuantity"]["code"] for c in bp["component"][:2]] == ["mm[Hg]", "mm[Hg]"]
    assert _codes(bp["component"][2]["dataAbsentReason"]) == _codes(bp_ig["component"][2]["dataAbsentReason"])
    assert [c["coding"][0]["code"] for c in bp["category"]] == [c["coding"][0]["code"] for c in bp_ig["category"]]
    assert bp["meta"]["profile"][0] == bp_ig["meta"]["profile"][0]
    assert _codes(status["code"]) == _codes(status_ig["code"])
    assert status["component"] == status_ig["component"]
    assert status["category"] == [{"coding": [{**status_ig["category"][0]["coding"][0],
                                                "display": "PHD generated Observation"}]}]


def test_meal_context_matches_ig_example() -> None:
    import json

    ig = json.loads((Path(__file__).parent / "data" / "meal-context-observation.json").read_text())
    text = (b"# characteristic: 2A18\n# device: 00-60-19-00-01-0E-92-34\n12 07 00 e1 07 06 02 0f 02 1b 5c b0 11\n"
            b"# characteristic: 2A34\n02 07 00 02\n")  # meal 2 = postprandial
    obs = [e["resource"] for e in of_type(bundle(GattCodec().decode(text, strict=True)), "Observation")]
    meal = obs[1]
    assert _codes(meal["code"]) == _codes(ig["code"])
    assert _codes(meal["valueCodeableConcept"]) == _codes(ig["valueCodeableConcept"])
    # identifier as the IG builds it, with the current IG's timestamp part (seconds since 2000-01-01)
    assert meal["identifier"][0]["value"] == "00601900010E9234-8417864-549730947"


def test_reception_time_when_no_phd_timestamp() -> None:
    # PLX continuous has no timestamp: the PHG uses the time of reception; and no identifier
    text = b"# characteristic: 2A5F\n# device: 00:1C:05:FF:E8:74\n# received: 2024-11-29T23:09:05+01:00\n00 64 00 5a 00\n"
    b = bundle(GattCodec().decode(text, strict=True))
    spo2 = of_type(b, "Observation")[0]["resource"]
    assert spo2["effectiveDateTime"] == "2024-11-29T23:09:05+01:00"
    assert "identifier" not in spo2  # untimed: no identity, so a later untimed reading is not dropped
    again = bundle(GattCodec().decode(text, strict=True))
    assert again.json() == b.json()  # deterministic: Provenance.recorded is the reception time, not "now"


def test_bits_display_from_asn1_table_when_codec_gives_no_names() -> None:
    # the 20601 path sends BitsValue without names: displays come from the IG's ASN1ToHL7 CodeSystem
    from interop.model import BitsValue, CodeableConcept, Coding, Metric

    m = Metric(code=CodeableConcept(codings=(Coding(system="urn:iso:std:iso:11073:10101", code="150604"),)),
               value=BitsValue(value=0x2000 | 0x0010, width=16))  # MDER bits 2 and 11
    assert [c["code"]["coding"][0] for c in phd._bits_components(m)] == [
        {"system": "http://terminology.hl7.org/CodeSystem/ASN1ToHL7", "code": "150604.2", "display": "sensor-displaced"},
        {"system": "http://terminology.hl7.org/CodeSystem/ASN1ToHL7", "code": "150604.11", "display": "signal-poor"}]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_20601_association_gets_the_same_phd_shape(version: str) -> None:
    """The 20601 path (examples/x73, system id 0A1B2C3D4E5F0702) through the same PHD rules."""
    path = ROOT / "examples" / "x73" / "bp-0x02BC.x73"
    if not path.exists():
        pytest.skip("20601 example not present")
    from interop import decode as pipeline_decode

    b = bundle(pipeline_decode(path), version)
    device = of_type(b, "Device")[0]["resource"]
    assert device["identifier"][0]["value"] == "0A-1B-2C-3D-4E-5F-07-02"
    assert device["identifier"][0]["type"]["coding"][0]["code"] == "SYSID"
    bp = of_type(b, "Observation")[0]["resource"]
    assert bp["code"]["coding"][1]["code"] == "85354-9"
    assert bp["identifier"][0]["value"].startswith("0A1B2C3D4E5F0702-150020-")


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_coincident_timestamp(version: str) -> None:
    # Current Time 0x2A2B read at reception: device clock 23:09:00 while the gateway says 23:09:05+01:00
    text = (b"# characteristic: 2A2B\n# device: 00:1C:05:FF:E8:74\n# gateway: EC-DE-3D-4E-58-53-2D-31\n"
            b"# received: 2024-11-29T23:09:05+01:00\ne8 07 0b 1d 17 09 00 05 00 00\n"
            b"# characteristic: 2A5E\n01 ac f3 be f5 e8 07 0b 1d 17 08 39\n")
    b = fhir_bundle.to_bundle(GattCodec().decode(text, strict=True), version, assume_tz="+01:00")
    b.to_model()
    obs = [e for e in of_type(b, "Observation")]
    coin = next(e for e in obs if e["resource"]["code"]["coding"][0]["code"] == "67975")
    assert coin["resource"]["effectiveDateTime"] == "2024-11-29T23:09:05+01:00"
    assert coin["resource"]["valueDateTime"] == "2024-11-29T23:09:00+01:00"
    spo2 = next(e["resource"] for e in obs if e["resource"]["code"]["coding"][0]["code"] == "150456")
    assert {"url": "http://hl7.org/fhir/uv/phd/StructureDefinition/CoincidentTimeStampReference",
            "valueReference": {"reference": coin["fullUrl"]}} in spo2["extension"]
    phd_device = next(d for d in of_type(b, "Device") if d["resource"]["identifier"][0]["value"] == "00-1C-05-FF-E8-74")
    assert coin["resource"]["subject"]["reference"] == phd_device["fullUrl"]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_clock_information_as_device_properties(version: str) -> None:
    """PhdDevice notes, Clock information: 68220 sync protocol, 68221 accuracy (us), ASN1ToHL7 68219.x flags."""
    from interop.model import TimeInfo

    msg = GattCodec().decode(b"# characteristic: 2A5F\n# device: 00:1C:05:FF:E8:74\n00 64 00 5a 00\n", strict=True)
    device = replace(msg.devices[0], time=TimeInfo(
        sync_protocol="MDC_TIME_SYNC_NONE", accuracy_us=1000000,
        capabilities=("mds-time-capab-real-time-clock", "mds-time-capab-set-clock")))
    b = bundle(replace(msg, devices=(device,)), version)
    props = of_type(b, "Device")[0]["resource"]["property"]
    assert [p["type"]["coding"][0]["code"] for p in props] == ["68220", "68221", "68219.0", "68219.1"]
    sync = props[0]["valueCodeableConcept" if version == "R5" else "valueCode"]
    sync = sync if version == "R5" else sync[0]
    assert sync["coding"][0]["code"] == "532224"  # MDC_TIME_SYNC_NONE (8::7936)
    accuracy = props[1]["valueQuantity"] if version == "R5" else props[1]["valueQuantity"][0]
    assert accuracy == {"value": 1000000, "system": "http://unitsofmeasure.org", "code": "us"}
    flag = props[2]["valueBoolean"] if version == "R5" else props[2]["valueCode"][0]["coding"][0]["code"]
    assert flag in (True, "Y")


def test_conditional_keys_match_what_is_stored_and_untimed_readings_stay_distinct() -> None:
    # Measured on a real FHIR server (Medplum's FHIR engine): with the search value undashed and the stored
    # value dashed every re-delivery created one more Device; untimed readings of two messages shared one id.
    from interop import decode

    def bundle_of(received: str) -> dict:
        text = (b"# characteristic: 2A5F\n# device: 00:1C:05:FF:E8:74\n# received: " + received.encode() +
                b"\n00 64 00 5a 00\n")
        return bundle(decode(text), "R4", "transaction")  # decode keeps the input's digest (Message.raw)

    first, again, later = bundle_of("2024-11-29T23:09:05+01:00"), bundle_of("2024-11-29T23:09:05+01:00"), \
        bundle_of("2024-11-29T23:19:05+01:00")
    device = of_type(first, "Device")[0]
    value = device["resource"]["identifier"][0]["value"]
    assert value == "00-1C-05-FF-E8-74"
    assert device["request"]["ifNoneExist"] == f"identifier=http://hl7.org/fhir/sid/eui-48/bluetooth|{value}"
    ids = [[e["resource"]["id"] for e in of_type(b, "Observation")] for b in (first, again, later)]
    assert ids[0] == ids[1]  # the same message re-delivered: the same Observations (PUT by id)
    assert not set(ids[0]) & set(ids[2])  # another message's untimed reading: other Observations
    assert all(e["request"]["method"] == "PUT" for e in of_type(later, "Observation"))
