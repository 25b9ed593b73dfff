"""The HL7 PHD IG's own example instances (tests/golden/ig/phd-*.json, HL7/phd @ 5af8412), element by element.

Each reading is built as a real 20601 association: the project's agent simulator (codecs.ieee11073.agent)
writes the APDUs (AARQ with the example's system id, an extended configuration report where the
standard configuration differs from the example, the MDS attributes with the device clock, the scan
reports), the manager replays them exactly as `interop serve x73` does (interop.transport.x73.manager:
the PHG identity ECDE3D4E58532D31 of the IG's PhgDevice example, `--patient patientExample-1`, the gateway
in the IG's zone -05:00), and the Bundle's Observation is compared with the IG's.

Allowed differences (ALLOWED): `id`, `text`, and references (the IG's server ids `Device/phd-...`, ours
this Bundle's `urn:uuid:` fullUrls; we check each points at the right entry). Every other element of the IG
example is compared; the deviations that remain are named in DEVIATIONS and in the README (IG conformance).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from interop.codecs.ieee11073 import agent, configurations
from interop.codecs.ieee11073.gateway import gateway_device

from interop import to_fhir

GOLDEN = Path(__file__).parent / "ig"
ZONE = timezone(timedelta(hours=-5))
PHG = bytes.fromhex("ECDE3D4E58532D31")  # phg-ecde3d4e58532d31.000000000000
PHD = bytes.fromhex("74E8FFFEFF051C00")  # phd-74E8FFFEFF051C00.001C05FFE874
PATIENT = "patientExample-1"
ACCURACY_0_1 = 0xFF000001  # MDER FLOAT-Type 0.1: exponent -1, mantissa 1 (20601 MDC_ATTR_NU_ACCUR_MSMT)
ALLOWED = {"id", "text"}  # never compared; references are checked for their target, not their spelling
REFERENCES = {"subject", "device", "performer"}
EXTENSIONS_REFERENCING = {"http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice",
                          "http://hl7.org/fhir/uv/phd/StructureDefinition/CoincidentTimeStampReference"}

# element -> why ours differs (also in README.md, "IG conformance")
DEVIATIONS = {
    "spo2": {
        "extension:SimpleAlerting": "the 20601 pulse oximeter configuration (10404) has no alert objects; "
                                    "limits and alert state are not in the association",
        "interpretation": "'in-alarm' (PoCD measurement-status) comes with the alert above, not from 20601",
        "identifier": "the IG example uses the old identifier form (patient id with its system, yyyymmddhhmmss.ff); "
                      "ours is the current IG rule (seconds since 2000-01-01, logical patient id)",
        "performer": "not stated by a PHD: the IG example asserts the patient measured themself; we do not guess",
        "component.code.text": "free text of the example ('Supplemental information'); codings are equal",
        "component.valueCodeableConcept.text": "free text of the example ('Stable mean'); codings are equal",
        "category[0].text": "free text of the example ('Vital Signs'); codings are equal",
    },
    "pulse": {
        "identifier": "see spo2",
        "performer": "see spo2",
        "valueQuantity.unit": "the example's unit text '{beat}/min}' is malformed; ours is the UCUM code '/min'",
        "category[0].text": "see spo2",
    },
    "glucose": {
        "extension:Confidence95": "20601 glucose (10417) has no confidence interval attribute",
        "code.text": "free text of the example ('Glucose measurement'); codings are equal",
        "+identifier": "the IG example has none; a timed reading gets the IG's conditional-create identifier "
                       "(PhdBaseObservation identifier rule)",
    },
    "temperature": {
        "extension:Confidence95": "20601 thermometer (10408) has no confidence interval attribute",
        "valueQuantity.unit": "display text of the unit: the example writes 'C', we write the UCUM code 'Cel' "
                              "(the unit as printed by the device is not in a 20601 association)",
        "code.text": "free text of the example ('Body temperature'); codings are equal",
        "+identifier": "see glucose",
    },
}


def _entry_with(base: int, handle: int, **attributes: Any) -> dict[str, Any]:
    entry = copy.deepcopy(configurations.standard_entry(base))
    entry["dev_config_id"] = agent.EXTENDED_CONFIG_ID
    obj = next(o for o in entry["objects"] if o["obj_handle"] == handle)
    obj["attributes"].update(attributes)
    return entry


def _association(base: int, entry: dict[str, Any] | None, reports: list[tuple[dict[int, tuple[str, ...]], datetime]],
                 received: datetime, specialization: int):
    """The agent's APDUs (project simulator), replayed by the manager as `serve x73` does; the Message."""
    from interop.codecs.ieee11073.configurations import ConfigStore

    from interop.transport.x73.manager import replay_association

    profile = agent.Profile("ig", base, PHD, "Nonin_Medical_Inc.", "Model 3230", (), serial="501900083",
                            specialization=specialization)
    config_id = agent.EXTENDED_CONFIG_ID if entry else base
    apdus = [agent.aarq(PHD, config_id)]
    if entry:
        apdus.append(agent.config_report(1, config_id, base, entry))
    apdus.append(agent.mds_attributes(2, profile, config_id, received.replace(tzinfo=None)))
    for n, (readings, when) in enumerate(reports):
        apdus.append(agent.scan_report_fixed(3 + n, config_id, readings, when.replace(tzinfo=None), n,
                                             objects_of=base))
    apdus.append(agent.rlrq())
    assoc = replay_association(apdus, ConfigStore(), PHG, local_tz=ZONE, clock=lambda: received)
    assert not assoc.lost_data
    return assoc.message(source="ig", gateway=gateway_device(PHG), association_id="ig-example")


def _bundle(message) -> dict[str, Any]:
    b = to_fhir(message, "R4", bundle_type="transaction", assume_tz=ZONE, patient=PATIENT)
    b.to_model()  # valid R4 (fhir.resources)
    return json.loads(b.json())


def _observation(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                and e["resource"]["code"]["coding"][0]["code"] == code)


def _entry(bundle: dict[str, Any], url: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == url)


def _ext_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def compare(ours: dict[str, Any], ig: dict[str, Any], bundle: dict[str, Any], deviations: dict[str, str]) -> None:
    """Every element of the IG example: equal in ours, or a listed deviation (and then really different)."""
    seen: set[str] = set()

    def deviation(name: str) -> bool:
        if name in deviations:
            seen.add(name)
            return True
        return False

    for element, theirs in ig.items():
        if element in ALLOWED or element == "resourceType":
            continue
        if deviation(element):
            assert ours.get(element) != theirs, f"{element} is listed as a deviation but is equal"
            continue
        mine = ours.get(element)
        assert mine is not None, f"{element} missing"
        if element in REFERENCES:
            targets = mine if isinstance(mine, list) else [mine]
            kinds = [t["reference"].split("/")[0] for t in (theirs if isinstance(theirs, list) else [theirs])]
            assert [_entry(bundle, t["reference"])["resourceType"] if t["reference"].startswith("urn:")
                    else t["reference"].split("/")[0] for t in targets] == kinds, element
        elif element == "extension":
            by_url = {_ext_name(e["url"]): e for e in mine}
            for ext in theirs:
                name = _ext_name(ext["url"])
                if deviation(f"extension:{name}"):
                    assert name not in by_url
                    continue
                assert name in by_url, f"extension {name} missing"
                if ext["url"] in EXTENSIONS_REFERENCING:
                    target = _entry(bundle, by_url[name]["valueReference"]["reference"])
                    assert target["resourceType"] == ext["valueReference"]["reference"].split("/")[0]
                else:
                    assert by_url[name] == ext, name
        elif element == "category":
            for i, (m, t) in enumerate(zip(mine, theirs, strict=True)):
                assert [(c["system"], c["code"]) for c in m["coding"]] == [(c["system"], c["code"]) for c in
                                                                         t["coding"]], element
                if "text" in t and not deviation(f"category[{i}].text"):
                    assert m.get("text") == t["text"]
        elif element == "code":
            assert [(c["system"], c["code"]) for c in mine["coding"]] == \
                [(c["system"], c["code"]) for c in theirs["coding"]]
            if "text" in theirs and not deviation("code.text"):
                assert mine.get("text") == theirs["text"]
        elif element == "component":
            for m, t in zip(mine, theirs, strict=True):
                assert m["code"]["coding"] == t["code"]["coding"]
                assert m["valueCodeableConcept"]["coding"] == t["valueCodeableConcept"]["coding"]
                for part in ("code", "valueCodeableConcept"):
                    if "text" in t[part] and not deviation(f"component.{part}.text"):
                        assert m[part].get("text") == t[part]["text"]
        elif element == "valueQuantity":
            for key, value in theirs.items():
                if not deviation(f"valueQuantity.{key}"):
                    assert mine.get(key) == value, f"valueQuantity.{key}"
        else:
            assert mine == theirs, element
    for element in set(ours) - set(ig) - ALLOWED:  # what we add: each one named with its reason
        assert deviation(f"+{element}"), f"{element} is in ours, not in the IG example"
    assert seen == set(deviations), f"deviations listed but not met: {set(deviations) - seen}"


@pytest.fixture(scope="module")
def oximeter() -> dict[str, Any]:
    """IG numeric-spo2-alarm (79 % at 17:59:02) and numeric-spotnumeric (48 /min at 17:59:03), spot checks."""
    spot = [{"partition": 2, "code": 19516}]  # MDC_MODALITY_SPOT (150588) as Supplemental-Types
    entry = _entry_with(400, 1, MDC_ATTR_SUPPLEMENTAL_TYPES=spot)
    pulse = next(o for o in entry["objects"] if o["obj_handle"] == 10)["attributes"]
    pulse["MDC_ATTR_SUPPLEMENTAL_TYPES"] = spot
    pulse["MDC_ATTR_NU_ACCUR_MSMT"] = ACCURACY_0_1  # the example's Accuracy 0.1 /min
    at = datetime(2018, 11, 13, 17, 59, 2, tzinfo=ZONE)
    message = _association(400, entry, [({1: ("79",)}, at), ({10: ("48",)}, at + timedelta(seconds=1))],
                           at + timedelta(seconds=10), 4100)
    return _bundle(message)


def test_pulse_oximeter_spo2(oximeter: dict[str, Any]) -> None:
    ig = json.loads((GOLDEN / "phd-numeric-spo2-alarm.json").read_text())
    compare(_observation(oximeter, "150456"), ig, oximeter, DEVIATIONS["spo2"])


def test_pulse_oximeter_pulse_rate(oximeter: dict[str, Any]) -> None:
    ig = json.loads((GOLDEN / "phd-numeric-spotnumeric.json").read_text())
    compare(_observation(oximeter, "149530"), ig, oximeter, DEVIATIONS["pulse"])


def test_glucose() -> None:
    """IG glucose-observation: 99 mg/dL MDC_CONC_GLU_UNDETERMINED_PLASMA at 2025-01-08T19:07:48-05:00."""
    ig = json.loads((GOLDEN / "phd-glucose-observation.json").read_text())
    at = datetime(2025, 1, 8, 19, 7, 48, tzinfo=ZONE)
    entry = _entry_with(1700, 1, MDC_ATTR_ID_TYPE=[2, 29296])  # 160368 MDC_CONC_GLU_UNDETERMINED_PLASMA
    bundle = _bundle(_association(1700, entry, [({1: ("99",)}, at)], at + timedelta(minutes=1), 4113))
    compare(_observation(bundle, "160368"), ig, bundle, DEVIATIONS["glucose"])


def test_thermometer() -> None:
    """IG temperature-observation: 36.5 Cel MDC_TEMP_BODY at 2025-01-08T19:07:48-05:00 (0x0320's objects, with
    the Accuracy attribute)."""
    ig = json.loads((GOLDEN / "phd-temperature-observation.json").read_text())
    at = datetime(2025, 1, 8, 19, 7, 48, tzinfo=ZONE)
    entry = _entry_with(800, 1, MDC_ATTR_NU_ACCUR_MSMT=ACCURACY_0_1)  # the example's Accuracy 0.1 Cel
    bundle = _bundle(_association(800, entry, [({1: ("36.5",)}, at)], at + timedelta(minutes=1), 4104))
    compare(_observation(bundle, "150364"), ig, bundle, DEVIATIONS["temperature"])


def test_weighing_scale_against_core_body_weight_example() -> None:
    """The PHD IG has no weighing-scale example; the FHIR core body weight example (observation-example,
    185 [lb_av], LOINC 29463-7) is the reference: same value, unit, LOINC code and vital-signs category, plus
    the PHD IG's own elements (PhdNumericObservation profile, MDC code first, phd category)."""
    ig = json.loads((GOLDEN / "fhir-observation-example-body-weight.json").read_text())
    at = datetime(2016, 3, 28, 9, 30, 0, tzinfo=ZONE)
    entry = _entry_with(1500, 1, MDC_ATTR_UNIT_CODE=1760)  # MDC_DIM_LB: a scale set to pounds
    bundle = _bundle(_association(1500, entry, [({1: ("185",)}, at)], at + timedelta(minutes=1), 4111))
    ours = _observation(bundle, "188736")
    assert ours["status"] == ig["status"]
    assert ours["valueQuantity"] == {**ig["valueQuantity"], "unit": "[lb_av]"}  # unit text: see README
    assert ours["code"]["coding"][1] == {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}
    assert (ig["code"]["coding"][0]["system"], ig["code"]["coding"][0]["code"]) == ("http://loinc.org", "29463-7")
    assert ours["category"][0]["coding"][0]["code"] == ig["category"][0]["coding"][0]["code"] == "vital-signs"
    assert ours["effectiveDateTime"] == "2016-03-28T09:30:00-05:00"  # the example gives the day only
    assert ours["meta"]["profile"][:1] == ["http://hl7.org/fhir/uv/phd/StructureDefinition/PhdNumericObservation"]
    assert ours["subject"] == {"reference": f"Patient/{PATIENT}"}


def test_phd_device_matches_the_ig_device_example(oximeter: dict[str, Any]) -> None:
    """PhdDevice phd-74E8FFFEFF051C00: identifier (SYSID, dashed), type, specialization with its version
    (System-Type-Spec-List), manufacturer, model, serial, profile."""
    ig = json.loads((GOLDEN / "phd-device-74E8FFFEFF051C00.json").read_text())
    ours = next(e["resource"] for e in oximeter["entry"] if e["resource"]["resourceType"] == "Device"
                and e["resource"]["identifier"][0]["value"] == "74-E8-FF-FE-FF-05-1C-00")
    assert ours["meta"] == ig["meta"]
    assert ours["identifier"][0] == ig["identifier"][0]  # the BTMAC one is not in a 20601 association
    for element in ("manufacturer", "serialNumber", "modelNumber"):
        assert ours[element] == ig[element], element
    assert ours["type"]["coding"] == ig["type"]["coding"]
    assert [(s["systemType"]["coding"], s["version"]) for s in ours["specialization"]] == \
        [(s["systemType"]["coding"], s["version"]) for s in ig["specialization"]]


def test_phg_device_matches_the_ig_gateway_example(oximeter: dict[str, Any]) -> None:
    ig = json.loads((GOLDEN / "phd-phg-ecde3d4e58532d31.json").read_text())
    ours = next(e["resource"] for e in oximeter["entry"] if e["resource"]["resourceType"] == "Device"
                and e["resource"]["identifier"][0]["value"] == "EC-DE-3D-4E-58-53-2D-31")
    assert ours["meta"] == ig["meta"]
    assert ours["type"]["coding"] == ig["type"]["coding"]
    mine, theirs = ours["identifier"][0], ig["identifier"][0]
    assert (mine["system"], mine["type"]["coding"][0]["code"]) == (theirs["system"], theirs["type"]["coding"][0]["code"])
    # the IG example spells this one lower-case; its PhdDevice examples and the IG's rule are upper-case
    assert mine["value"] == theirs["value"].upper()


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_specialization_version_kept(oximeter: dict[str, Any], version: str) -> None:
    at = datetime(2025, 1, 8, 19, 7, 48, tzinfo=ZONE)
    message = _association(800, None, [({1: ("36.5",)}, at)], at, 4104)
    assert message.devices[0].specialization_versions == ("1",)
    b = json.loads(to_fhir(message, version, assume_tz=ZONE).json())
    device = next(e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Device"
                  and e["resource"]["identifier"][0]["value"].startswith("74-E8"))
    thermo = {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": "528392",
                          "display": "MDC_DEV_SPEC_PROFILE_TEMP"}]}
    if version == "R4":
        assert device["specialization"] == [{"systemType": thermo, "version": "1"}]
    else:
        assert device["conformsTo"] == [{"specification": thermo, "version": "1"}]
