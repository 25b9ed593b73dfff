"""The HL7 PoCD IG's own example instances (tests/golden/ig/pocd-*.json, HL7/uv-pocd @ 9be0922), element by element.

tests/golden/data/pocd-monitor-pcd01.hl7 is the IHE PCD-01 message a monitor would send for the IG's examples:
the physiological monitor MDS (EUI-64 01-23-45-67-89-AB-CD-EF), ECG VMD with its heart-rate channel (HR 60
/min, alarm limits 40-180) and ECG channel (leads I, II, III as NA rows with an 8 ms sampling period), the
NBP VMD and channel (120/80/90 mmHg). Each IG resource is matched with ours and compared element by element:
codings by (system, code) (ours may add a coding: the LOINC of a vital sign, the UCUM of a unit), references by
the resource they point at (the IG's `Device/NBPChannelDevice` must be our NBP channel Device), every other
value exactly. ALLOWED elements are not compared; the deviations that remain are in DEVIATIONS (and the
README, "Implementation guides").
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from interop import decode, to_fhir

HERE = Path(__file__).parent
MESSAGE = HERE / "data" / "pocd-monitor-pcd01.hl7"
ALLOWED = {"id", "text", "meta"}  # meta.profile: PoCD profiles are not claimed (see DEVIATIONS of the README)
MDC = "urn:iso:std:iso:11073:10101"

# IG example -> how to find ours: (resourceType, MDC code of Device.type / DeviceMetric.type / Observation.code)
PAIRS = {
    "Device/PhysioMonitorMdsDevice": ("Device", "69965"),
    "Device/ECGVmdDevice": ("Device", "69798"),
    "Device/HeartRateChannelDevice": ("Device", "70739"),
    "Device/ECGChannelDevice": ("Device", "69799"),
    "Device/NBPVmdDevice": ("Device", "70686"),
    "Device/NBPChannelDevice": ("Device", "70687"),
    "DeviceMetric/HeartRateNumericDeviceMetric": ("DeviceMetric", "147842"),
    "DeviceMetric/ECGSampleArrayDeviceMetric": ("DeviceMetric", "131328"),
    "DeviceMetric/NBPNumericDeviceMetric": ("DeviceMetric", "150020"),
    "Observation/HeartRateNumericObservation": ("Observation", "147842"),
    "Observation/ECGSampleArrayObservation": ("Observation", "131328"),
    "Observation/NBPCompoundNumericObservation": ("Observation", "150020"),
    "Patient/SomePatient": ("Patient", None),
}
FILES = {ref: "pocd-" + ref.replace("/", "-") + ".json" for ref in PAIRS if not ref.startswith("Patient")}

# IG element path -> why ours differs (README, "Implementation guides")
DEVIATIONS = {
    "Device/PhysioMonitorMdsDevice": {
        "extension": "approved jurisdictions, operator, operating hours/cycles/mode and calibration are not in PCD-01",
        "udiCarrier": "no UDI in the message (PCD-01 carries it in OBX-18 only when the device sends one)",
        "status": "PCD-01 does not state the device's operational status; we write none rather than guess 'active'",
        "manufacturer": "not in PCD-01 device rows", "serialNumber": "not in PCD-01 device rows",
        "deviceName": "not in PCD-01 device rows", "modelNumber": "not in PCD-01 device rows",
        "identifier[0].type": "ours types the identifier ('EUI-64'); the example gives no type",
        "type.text": "free text of the example", "location": "PV1-3 absent from the message",
    },
    "Device/NBPVmdDevice": {"udiCarrier": "see the MDS", "status": "see the MDS", "manufacturer": "see the MDS",
                            "serialNumber": "see the MDS", "partNumber": "not in PCD-01 device rows"},
    "Device/ECGVmdDevice": {"status": "see the MDS"},
    "Device/HeartRateChannelDevice": {"status": "see the MDS"},
    "Device/ECGChannelDevice": {"status": "see the MDS"},
    "Device/NBPChannelDevice": {"status": "see the MDS"},
    "DeviceMetric/HeartRateNumericDeviceMetric": {
        "extension:relation": "the HR-to-ECG relation (DCE) is not in PCD-01",
        "extension:technical-range": "the technical range is not in PCD-01",
        "extension:reference-range.low/high": "ours in UCUM (/min), the example in MDC units (264864): same limits",
        "type.text": "free text of the example", "unit.text": "free text of the example",
        "operationalStatus": "not in PCD-01", "color": "not in PCD-01",
    },
    "DeviceMetric/ECGSampleArrayDeviceMetric": {
        "extension": "measurement resolution and sweep speed are not in PCD-01",
        "type.text": "free text of the example", "unit.text": "free text of the example",
        "operationalStatus": "not in PCD-01", "color": "not in PCD-01",
    },
    "DeviceMetric/NBPNumericDeviceMetric": {
        "extension": "metric availability (intermittent) is not in PCD-01",
        "unit": "the NBP panel row carries no unit (its three facets do)",
        "type.text": "free text of the example", "operationalStatus": "not in PCD-01", "color": "not in PCD-01",
        "measurementPeriod": "not in PCD-01",
    },
    "Observation/HeartRateNumericObservation": {
        "valueQuantity.unit": "ours writes the UCUM code '/min' as unit text, the example 'bpm'",
    },
    "Observation/ECGSampleArrayObservation": {
        "component.valueSampledData": "PCD-01 NA values are physical (mV): origin 0 and no factor; the example "
                                      "scales integers (origin -0.5, factor 0.001). The physical values are equal",
    },
    "Observation/NBPCompoundNumericObservation": {
        "component.valueQuantity.unit": "ours writes the UCUM code 'mm[Hg]' as unit text, the example 'mmHg'",
    },
}


@pytest.fixture(scope="module", params=["collection", "transaction"])
def bundle(request) -> dict[str, Any]:
    b = to_fhir(decode(MESSAGE), "R4", bundle_type=request.param)
    b.to_model()
    return json.loads(b.json())


def _ours(bundle: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """IG reference -> (our fullUrl, our resource)."""
    out = {}
    for ig_ref, (rtype, code) in PAIRS.items():
        for e in bundle["entry"]:
            r = e["resource"]
            if r["resourceType"] != rtype:
                continue
            concept = r.get("code") or r.get("type")
            if code is None or (concept and any(c.get("code") == code and c.get("system") == MDC
                                                for c in concept["coding"])):
                out[ig_ref] = (e["fullUrl"], r)
                break
    return out


class Comparison:
    def __init__(self, ours: dict[str, tuple[str, dict[str, Any]]], deviations: dict[str, str]) -> None:
        self.url_of = {ref: url for ref, (url, _) in ours.items()}
        self.deviations = deviations
        self.seen: set[str] = set()

    def deviation(self, path: str) -> bool:
        if path in self.deviations:
            self.seen.add(path)
            return True
        return False

    def value(self, path: str, theirs: Any, mine: Any) -> None:
        if self.deviation(path):
            return
        if isinstance(theirs, dict) and set(theirs) == {"reference"}:
            assert mine == {"reference": self.url_of[theirs["reference"]]}, path
        elif isinstance(theirs, dict) and "coding" in theirs:
            assert mine is not None, f"{path} missing"
            assert {(c["system"], c["code"]) for c in theirs["coding"]} <= \
                {(c.get("system"), c.get("code")) for c in mine["coding"]}, path
            if "text" in theirs and not self.deviation(f"{path}.text"):
                assert mine.get("text") == theirs["text"], f"{path}.text"
        elif isinstance(theirs, dict):
            assert isinstance(mine, dict), f"{path} missing"
            for key, sub in theirs.items():
                self.value(f"{path}.{key}" if path else key, sub, mine.get(key))
        elif isinstance(theirs, list) and path == "extension":
            mine_by = {e["url"].rsplit("/", 1)[-1]: e for e in mine or []}
            for ext in theirs:
                name = ext["url"].rsplit("/", 1)[-1]
                if self.deviation(f"extension:{name}"):
                    continue
                assert name in mine_by, f"extension {name} missing"
                parts = {p["url"]: p for p in mine_by[name]["extension"]}
                for part in ext["extension"]:
                    if part["url"] in ("low", "high") and self.deviation(f"extension:{name}.low/high"):
                        got = parts[part["url"]]["valueQuantity"]["value"]
                        assert got == part["valueQuantity"]["value"], f"{name}.{part['url']}"
                        continue
                    self.value(f"extension:{name}.{part['url']}", part, parts.get(part["url"]))
        elif isinstance(theirs, list):
            assert isinstance(mine, list) and len(mine) == len(theirs), f"{path}: {mine!r}"
            for n, (t, m) in enumerate(zip(theirs, mine, strict=True)):
                if not self.deviation(f"{path}[{n}]"):
                    self.value(path if isinstance(t, dict) else f"{path}[{n}]", t, m)
        else:
            assert mine == theirs, f"{path}: {mine!r} != {theirs!r}"


def _physical(sd: dict[str, Any]) -> list[Decimal]:
    origin, factor = Decimal(str(sd["origin"]["value"])), Decimal(str(sd.get("factor", 1)))
    return [origin + factor * Decimal(x) for x in sd["data"].split()]


@pytest.mark.parametrize("ig_ref", sorted(FILES))
def test_matches_pocd_example(bundle: dict[str, Any], ig_ref: str) -> None:
    ig = json.loads((HERE / "ig" / FILES[ig_ref]).read_text())
    ours = _ours(bundle)
    _, mine = ours[ig_ref]
    cmp = Comparison(ours, DEVIATIONS.get(ig_ref, {}))
    for element, theirs in ig.items():
        if element in ALLOWED or element == "resourceType":
            continue
        if element == "component" and ig_ref == "Observation/ECGSampleArrayObservation":
            assert [c["code"]["coding"] for c in mine["component"]] == [c["code"]["coding"] for c in theirs]
            for m, t in zip(mine["component"], theirs, strict=True):  # the same signal, sample by sample
                assert cmp.deviation("component.valueSampledData")
                ms, ts = m["valueSampledData"], t["valueSampledData"]
                assert (ms["period"], ms["dimensions"], ms["origin"]["code"]) == \
                    (ts["period"], ts["dimensions"], ts["origin"]["code"])
                assert _physical(ms) == _physical(ts)
            continue
        if element == "component":  # NBP: codings and values per component
            for n, (m, t) in enumerate(zip(mine["component"], theirs, strict=True)):
                cmp.value("component.code", t["code"], m["code"])
                for key, v in t["valueQuantity"].items():
                    if not cmp.deviation(f"component.valueQuantity.{key}"):
                        assert m["valueQuantity"][key] == v, f"component[{n}].valueQuantity.{key}"
            continue
        if element == "valueQuantity":
            for key, v in theirs.items():
                if not cmp.deviation(f"valueQuantity.{key}"):
                    assert mine["valueQuantity"][key] == v, f"valueQuantity.{key}"
            continue
        if element in cmp.deviations:
            cmp.seen.add(element)
            assert mine.get(element) != theirs, f"{element} is listed as a deviation but is equal"
            continue
        if element == "identifier":
            for n, (t, m) in enumerate(zip(theirs, mine["identifier"], strict=True)):
                for key, v in t.items():
                    assert m[key] == v, f"identifier[{n}].{key}"
                if "type" in m:
                    assert cmp.deviation(f"identifier[{n}].type")
            continue
        assert element in mine, f"{ig_ref}: {element} missing"
        cmp.value(element, theirs, mine[element])
    assert cmp.seen == set(cmp.deviations), f"listed but not met: {set(cmp.deviations) - cmp.seen}"


def test_every_pocd_device_and_metric_once(bundle: dict[str, Any]) -> None:
    """bdl-7: each fullUrl once; the hierarchy MDS → VMD → channel → DeviceMetric, as the IG draws it."""
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    ours = _ours(bundle)
    assert set(ours) == set(PAIRS)
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    for metric, channel, vmd in (("DeviceMetric/HeartRateNumericDeviceMetric", "Device/HeartRateChannelDevice",
                                  "Device/ECGVmdDevice"),
                                 ("DeviceMetric/ECGSampleArrayDeviceMetric", "Device/ECGChannelDevice",
                                  "Device/ECGVmdDevice"),
                                 ("DeviceMetric/NBPNumericDeviceMetric", "Device/NBPChannelDevice",
                                  "Device/NBPVmdDevice")):
        dm = ours[metric][1]
        assert dm["parent"]["reference"] == ours[channel][0]
        assert dm["source"]["reference"] == ours["Device/PhysioMonitorMdsDevice"][0]
        assert by_url[ours[channel][0]]["parent"]["reference"] == ours[vmd][0]
