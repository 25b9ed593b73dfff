"""Real device messages from public sources (tests/data/hl7v2/SOURCES.md) → FHIR R4/R5, golden Bundles plus
exact values: Observation codes, values, UCUM units, times with their zones, Device identifiers and the
MDS → VMD → channel hierarchy, and the findings for what is not placed (nothing dropped silently).

INTEROP_REGEN_GOLDEN=1 rewrites the expected files (tests/golden/hl7v2/<name>.<r4|r5>.json); review the diff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode, to_fhir
from interop.model import EUI64_SYSTEM

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "hl7v2"
GOLDEN = ROOT / "tests" / "golden" / "hl7v2"
MDC = "urn:iso:std:iso:11073:10101"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NAMES = ["pcd01-ihe-pulseox-nist", "pcd01-sll-waveform-facets", "pcd01-philips-picix-mx500",
         "memdmc-smiths-medfusion4000"]


def bundle(name: str, version: str = "R4") -> dict:
    return json.loads(to_fhir(decode(DATA / f"{name}.hl7"), version).json())


def of(b: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]


def by_url(b: dict) -> dict[str, dict]:
    return {e["fullUrl"]: e["resource"] for e in b["entry"]}


def mdc_code(r: dict) -> str | None:
    return next((c["code"] for c in r["code"]["coding"] if c.get("system") == MDC), None)


def issues(name: str) -> set[tuple[str, str]]:
    return {(i.code, i.location) for i in decode(DATA / f"{name}.hl7").issues}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_golden(name, version):
    got = to_fhir(decode(DATA / f"{name}.hl7"), version).json(indent=True) + b"\n"
    path = GOLDEN / f"{name}.{version.lower()}.json"
    if os.environ.get("INTEROP_REGEN_GOLDEN"):
        path.write_bytes(got)
    assert got.decode() == path.read_text()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_validates_against_fhir_models(name, version):
    b = to_fhir(decode(DATA / f"{name}.hl7"), version)
    assert len(b.to_model().entry) == len(b.data["entry"])


# -- IHE PCD TF-2 / NIST pulse oximeter example ------------------------------------------------------------


def test_ihe_nist_pulse_oximeter():
    """LOINC primary with the MDC code as alternate (both kept), the '{beats}/min' UCUM unit, OBX-7 as the
    alarm limits, OBX-17 method, OBX-18 EUI-64 with its vendor namespace, OBX-20 body site, NTE after the OBX."""
    b = bundle("pcd01-ihe-pulseox-nist")
    (obs,) = of(b, "Observation")
    assert [(c["system"], c["code"]) for c in obs["code"]["coding"]] == [(LOINC, "8889-8"), (MDC, "149530")]
    assert obs["valueQuantity"] == {"value": 55, "unit": "{beats}/min", "system": UCUM, "code": "{beats}/min"}
    assert obs["status"] == "preliminary"  # OBX-11 R
    assert obs["effectiveDateTime"] == "2012-05-30T11:23:40Z"  # no offset anywhere: UTC, with a finding
    (rng,) = obs["referenceRange"]
    assert (rng["low"]["value"], rng["high"]["value"], rng["type"]["coding"][0]["code"]) == (35, 125, "alarm-limits")
    assert obs["method"]["coding"][0]["code"] == "AMEAS"
    assert obs["bodySite"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "49521004",
                                            "display": "left ear structure"}
    assert obs["note"] == [{"text": "This is a comment about pulse"}]
    (dev,) = of(b, "Device")
    assert dev["identifier"] == [{"type": {"text": "EUI-64"}, "system": EUI64_SYSTEM, "value": "01-23-45-67-89-AB-CD-EF",
                                  "assigner": {"display": "Pulse_Oximeter_Vendor_X"}}]
    assert by_url(b)[obs["device"]["reference"]] is dev
    (pat,) = of(b, "Patient")
    assert pat["identifier"][0]["value"] == "HO2009001" and pat["gender"] == "male" and pat["birthDate"] == "1961-01-01"
    (enc,) = of(b, "Encounter")
    assert enc["class"]["code"] == "IMP" and enc["location"][0]["location"]["display"] == "ICU / 2 / 23"
    found = issues("pcd01-ihe-pulseox-nist")
    for where in ("PID[1]-6", "PID[1]-11", "OBR[1]-44", "OBR[1]-45", "OBX[1]-9", "MSH-17"):
        assert ("hl7v2.field-not-placed", where) in found, where
    assert ("hl7v2.note-not-placed", "NTE[1]-3") in found  # the order's NTE


# -- SLL MDI lab (Stockholm) waveform message with sampling-rate and data-range facets -------------------


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_waveform_facets(version):
    """MDC_ATTR_SAMP_RATE (5-part sub-id) becomes SampledData.period (1000/150 ms, 1000/125 ms) and
    MDC_ATTR_DATA_RANGE (NR) lowerLimit/upperLimit; leads I and II are one ECG Observation."""
    b = bundle("pcd01-sll-waveform-facets", version)
    obs = {mdc_code(o): o for o in of(b, "Observation")}
    assert set(obs) == {"131328", "150456"}
    ecg = obs["131328"]
    leads = {c["code"]["coding"][0]["code"]: c["valueSampledData"] for c in ecg["component"]}
    assert leads["131329"]["data"] == "-0.53714565 -0.54203324 -0.53128055"
    assert (leads["131329"]["lowerLimit"], leads["131329"]["upperLimit"]) == (-5.0, 10.0)
    assert leads["131330"]["data"] == "1.04980469 1.0546875 1.04003906"
    assert (leads["131330"]["lowerLimit"], leads["131330"]["upperLimit"]) == (0.39013672, 1.4296875)
    period = "period" if version == "R4" else "interval"  # R5: interval + intervalUnit
    for sd in leads.values():
        assert sd[period] == pytest.approx(1000 / 150) and sd["origin"]["code"] == "mV"
        assert version == "R4" or sd["intervalUnit"] == "ms"
    pleth = obs["150456"]["valueSampledData"]
    assert pleth[period] == 8 and pleth["origin"]["code"] == "%" and pleth["data"] == "1.18 1.17595308 1.17008798"
    assert (pleth["lowerLimit"], pleth["upperLimit"]) == (0.98924731, 3.30107527)


def test_waveform_under_a_numeric_code_is_no_vital_sign():
    """'150456^MDC_PULS_OXIM_SAT_O2_WAVEFORM^MDC' with an NA value: a SampledData, so no vital-signs
    category and no LOINC 2708-6 (the R4 vital-signs profile would demand a Quantity)."""
    msg = decode(DATA / "pcd01-sll-waveform-facets.hl7")
    pleth = next(m for m in msg.metrics if m.code.codings[0].code == "150456")
    assert [c.system for c in pleth.code.codings] == [MDC]
    assert pleth.value.period_ms == Decimal(8)
    o = next(o for o in of(bundle("pcd01-sll-waveform-facets"), "Observation") if mdc_code(o) == "150456")
    assert "category" not in o and [c["system"] for c in o["code"]["coding"]] == [MDC]


def test_waveform_device_tree_and_findings():
    msg = decode(DATA / "pcd01-sll-waveform-facets.hl7")
    (mds,) = msg.devices
    assert (mds.key, mds.level, mds.type.codings[0].code, mds.identifiers[0].value) == ("1", "mds", "69965", "ABC123")
    assert [(c.key, c.level) for c in mds.children] == [("1.1", "vmd")]
    assert {m.device_key for m in msg.metrics} == {"1.1.1"}
    assert [o.set_id for o in msg.orders] == [2, 3] and {o.filler_id for o in msg.orders} == {"XXX"}
    found = {(i.code, i.location) for i in msg.issues}
    assert ("hl7v2.duplicate-device", "OBX[8]-4") in found  # the MDS sent again in the second OBR group
    assert {("hl7v2.field-not-placed", "OBX[1]-6"), ("hl7v2.field-not-placed", "OBX[1]-8")} <= found


# -- Philips IntelliVue MX500 through PIC iX (Philips' PoCD mapping draft) -----------------------------------


def test_philips_picix_mx500():
    b = bundle("pcd01-philips-picix-mx500")
    obs = {mdc_code(o): o for o in of(b, "Observation")}
    hr = obs["147842"]
    assert [(c["system"], c["code"]) for c in hr["code"]["coding"]] == [(MDC, "147842"), (LOINC, "8867-4")]
    assert hr["category"][0]["coding"][0]["code"] == "vital-signs"
    assert hr["valueQuantity"] == {"value": 60, "unit": "/min", "system": UCUM, "code": "/min"}
    assert hr["effectiveDateTime"] == "2021-04-25T23:03:31.496-04:00"  # OBR-7 with its zone
    assert (hr["referenceRange"][0]["low"]["value"], hr["referenceRange"][0]["high"]["value"]) == (50, 120)
    assert obs["184327"]["valueString"] == "MDC_ECG_PACED_RHY" and "category" not in obs["184327"]
    urls = by_url(b)
    metric = urls[hr["device"]["reference"]]  # PoCD: Observation.device → DeviceMetric → channel → VMD → MDS
    assert metric["resourceType"] == "DeviceMetric" and metric["unit"]["coding"][0]["code"] == "264864"
    chan = urls[metric["parent"]["reference"]]
    vmd = urls[chan["parent"]["reference"]]
    mds = urls[vmd["parent"]["reference"]]
    assert (chan["type"]["coding"][0]["code"], vmd["type"]["coding"][0]["code"], mds["type"]["coding"][0]["code"]) == (
        "70739", "70666", "69965")
    assert vmd["identifier"] == [{"value": "XW25200213"}]
    assert mds["identifier"] == [{"value": "7f2586c7-0506-46cd-a612-d8e75b838faa-IntelliVue MX500 - 866064"}]
    assert urls[metric["source"]["reference"]] is mds
    (pat,) = of(b, "Patient")
    assert [(i["type"]["coding"][0]["code"], i["value"]) for i in pat["identifier"]] == [("MR", "12345"), ("VN", "6789")]
    assert pat["name"] == [{"use": "official", "family": "LastName", "given": ["FirstName"]}]  # '""' middle: null
    (enc,) = of(b, "Encounter")
    assert enc["identifier"] == [{"value": "23456"}]
    assert enc["location"][0]["location"]["display"] == "Institution / My Unit / Bed1"
    msg = decode(DATA / "pcd01-philips-picix-mx500.hl7")
    assert msg.orders[0].filler_id == "0009fbFFFF9b42b3"
    assert [(i.code, i.location) for i in msg.issues] == [("hl7v2.field-not-placed", "MSH-19")]


# -- Smiths Medical Medfusion 4000 (IHE PCD MEMDMC) with GuardRFID location rows (MEMLS) --------------------


def test_smiths_medfusion_memdmc():
    msg = decode(DATA / "memdmc-smiths-medfusion4000.hl7")
    (mds,) = msg.devices  # MSH-3's EUI-64 is the pump's own: one Device (bdl-7)
    assert mds.type.codings[0].code == "69985"
    assert [(i.value, i.system, i.assigner) for i in mds.identifiers] == [
        ("001A010000000001", EUI64_SYSTEM, "Medfusion 4000")]
    assert msg.gateway is None and msg.sent.raw == "20150119221713-0000"
    # OBX-7 '20150119221713-0000' (the time one field early) is no alarm range
    model = next(m for m in msg.metrics if m.code.codings[0].code == "67880")
    assert model.alarm_limits is None and model.reference_range is None
    found = {(i.code, i.location) for i in msg.issues}
    assert {("hl7v2.bad-range", f"OBX[{n}]-7") for n in (2, 3, 4)} <= found
    assert ("hl7v2.unsupported-value-type", "OBX[6]-2") in found  # PL (MEMLS location)
    assert ("hl7v2.bad-dtm", "OBX[6]-14") in found  # '20150127110822.229- 0800' as published
    assert {("hl7v2.equipment-not-placed", f"OBX[{n}]-18") for n in (6, 7, 8, 9)} <= found  # the RFID tag
    assert ("hl7v2.field-not-placed", "OBR[1]-6") in found  # the event time sent in OBR-6
    b = bundle("memdmc-smiths-medfusion4000")
    (dev,) = of(b, "Device")
    assert dev["identifier"][0]["value"] == "00-1A-01-00-00-00-00-01"
    obs = {o["code"]["coding"][0]["display"]: o for o in of(b, "Observation")}
    assert "referenceRange" not in obs["MDC_ATTR_ID_MODEL"]
    assert obs["MDCX_DMC_ATTR_POWER_STATE"]["valueCodeableConcept"] == {"text": "OFF"}
    x = obs["MDCX_LS_ATTR_COORD_X"]
    assert x["valueQuantity"] == {"value": 406, "unit": "cm", "system": UCUM, "code": "cm"}
    assert x["effectiveDateTime"] == "2015-01-27T11:08:22.229-08:00"
    assert obs["MDCX_LS_ATTR_NAME"]["valueString"] == "IV Pump 2012078"


def test_translate_report_names_what_is_not_placed():
    run = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate",
                          str(DATA / "memdmc-smiths-medfusion4000.hl7"), "--report", "-o", os.devnull],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "OBX[2]-7: OBX-7 '20150119221713-0000' is no range" in run.stderr
    assert "OBR[1]-6: OBR-6 is not mapped" in run.stderr
