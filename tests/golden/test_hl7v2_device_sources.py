"""Real device messages from public sources (tests/data/hl7v2/SOURCES.md) → FHIR R4/R5, golden Bundles plus
exact values: Observation codes, values, UCUM units, times with their zones, Device identifiers and the
MDS → VMD → channel hierarchy, and the findings for what is not placed (nothing dropped silently).

INTEROP_REGEN_GOLDEN=1 rewrites the expected files (tests/golden/hl7v2/<name>.<r4|r5>.json); review the diff."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from interop import decode, to_fhir
from interop.model import EUI64_SYSTEM

from .hl7v2_sources import DATA, LOINC, MDC, UCUM, assert_golden, bundle, by_url, code_of, of
from .hl7v2_sources import found as found_in

NAMES = ["pcd01-ihe-pulseox-nist", "pcd01-sll-waveform-facets", "memdmc-smiths-medfusion4000",
         "pcd01-ge-b40-carescape", "oru-philips-efficia-alarm", "pcd01-mindray-vs900", "pcd01-mindray-vs900-demo"]







@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_golden(name, version):
    assert_golden(to_fhir(decode(DATA / f"{name}.hl7"), version).json(indent=True) + b"\n", name, version)


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
    # OBX-4 1.11.2.3 with the EUI-64 in OBX-18 and no device rows: MDS 1 (the EUI-64) → VMD 1.11 → channel 1.11.2
    # → the DeviceMetric the Observation names (PoCD IG hierarchy)
    urls = by_url(b)
    metric = urls[obs["device"]["reference"]]
    assert metric["resourceType"] == "DeviceMetric" and metric["type"]["coding"][0]["code"] == "149530"
    chan = urls[metric["parent"]["reference"]]
    vmd = urls[chan["parent"]["reference"]]
    mds = urls[vmd["parent"]["reference"]]
    assert mds["identifier"] == [{"type": {"text": "EUI-64"}, "system": EUI64_SYSTEM, "value": "01-23-45-67-89-AB-CD-EF",
                                  "assigner": {"display": "Pulse_Oximeter_Vendor_X"}}]
    assert "identifier" not in chan and "identifier" not in vmd and "parent" not in mds
    assert len(of(b, "Device")) == 3
    (pat,) = of(b, "Patient")
    assert pat["identifier"][0]["value"] == "HO2009001" and pat["gender"] == "male" and pat["birthDate"] == "1961-01-01"
    (enc,) = of(b, "Encounter")
    assert enc["class"]["code"] == "IMP" and enc["location"][0]["location"]["display"] == "ICU / 2 / 23"
    found = found_in("pcd01-ihe-pulseox-nist")
    for where in ("OBR[1]-44", "OBR[1]-45", "OBX[1]-9", "MSH-17"):
        assert ("hl7v2.field-not-placed", where) in found, where
    # PID-6 and PID-11 are placed (v2-to-FHIR IG PID → Patient): mother's maiden name and address
    assert not {w for c, w in found if w in ("PID[1]-6", "PID[1]-11")}
    assert pat["address"] == [{"line": ["15 N Saguaro"], "city": "Tucson", "state": "AZ", "postalCode": "85701"}]
    assert pat["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
                                 "valueString": "Adams"}]
    assert ("hl7v2.note-not-placed", "NTE[1]-3") in found  # the order's NTE


# -- SLL MDI lab (Stockholm) waveform message with sampling-rate and data-range facets -------------------


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_waveform_facets(version):
    """MDC_ATTR_SAMP_RATE (5-part sub-id) becomes SampledData.period (1000/150 ms, 1000/125 ms) and
    MDC_ATTR_DATA_RANGE (NR) lowerLimit/upperLimit; leads I and II are one ECG Observation."""
    b = bundle("pcd01-sll-waveform-facets", version)
    obs = {code_of(o): o for o in of(b, "Observation")}
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
    o = next(o for o in of(bundle("pcd01-sll-waveform-facets"), "Observation") if code_of(o) == "150456")
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
    assert not [i for i in msg.issues if i.code == "hl7v2.unsupported-value-type"]  # PL (MEMLS location) is read
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
    assert obs["MDCX_LS_ATTR_LOCATION"]["valueString"] == "Fraser Health / North Building / Main Floor / Nurse Station"


def test_translate_report_names_what_is_not_placed():
    run = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate",
                          str(DATA / "memdmc-smiths-medfusion4000.hl7"), "--report", "-o", os.devnull],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "OBX[2]-7: OBX-7 '20150119221713-0000' is no range" in run.stderr
    assert "OBR[1]-6: OBR-6 is not mapped" in run.stderr


# -- GE Healthcare B40 (HL7 reference manual 2062665-001 G), profile ge-carescape ---------------------------


def test_ge_b40_device_tree_and_identities():
    """OBX-18 '080019FFFE0B4020^B40_GE' read as the monitor's EUI-64 (quirk eui64-in-entity-id of the detected
    profile ge-carescape) and kept on the MDS only, though rows under the declared IBP channel carry it too;
    MSH-3's EUI-64 (another unit in the manual's examples) stays the gateway."""
    msg = decode(DATA / "pcd01-ge-b40-carescape.hl7")
    (mds,) = msg.devices
    assert [(i.value, i.system, i.assigner) for i in mds.identifiers] == [("080019FFFE0B4020", EUI64_SYSTEM, "B40_GE")]
    assert [(i.value, i.system) for i in msg.gateway.identifiers] == [("080019FFFE134535", EUI64_SYSTEM)]
    vmds = {v.key: v for v in mds.children}
    assert sorted(vmds) == ["1.13", "1.20", "1.22", "1.26", "1.5", "1.6"]
    assert [(c.key, c.type.codings[0].code, c.identifiers) for c in vmds["1.13"].children] == [
        ("1.13.1", "69855", ()), ("1.13.2", "69855", ())]
    assert (vmds["1.20"].type.codings[0].code, vmds["1.6"].type.codings[0].code) == ("69682", "70666")
    quirked = [i.location for i in msg.issues if i.code == "hl7v2.quirk.eui64-in-entity-id"]
    assert quirked == [f"OBX[{n}]-18" for n in (4, 5, 6, 7, 9, 10, 11, 13, 15, 17, 18)]


def test_ge_b40_values():
    b = bundle("pcd01-ge-b40-carescape")
    rows = sorted((code_of(o), o["valueQuantity"]["value"], o["valueQuantity"]["code"],
                   [c["code"] for c in o["code"]["coding"] if c["system"] == LOINC]) for o in of(b, "Observation"))
    assert rows == [
        ("147842", 80, "/min", ["8867-4"]), ("148066", 0, "/min", []), ("149522", 80, "/min", ["8867-4"]),
        ("150033", 112, "mm[Hg]", ["8480-6"]), ("150034", 76, "mm[Hg]", ["8462-4"]), ("150035", 95, "mm[Hg]", ["8478-0"]),
        ("150344", 36.5, "Cel", []), ("150344", 37.1, "Cel", []), ("150456", 100, "%", ["2708-6"]),
        ("151562", 18, "/min", ["9279-1"]), ("151562", 30, "/min", ["9279-1"])]
    for o in of(b, "Observation"):
        assert o["effectiveDateTime"] == "2013-01-22T13:41:00Z" and o["status"] == "preliminary"  # OBR-7, OBX-11 R
    # the two respiration rates stay apart: airway (VMD 1.20) and ECG impedance (VMD 1.6)
    urls = by_url(b)
    vmd_of = {}
    for o in of(b, "Observation"):
        if code_of(o) == "151562":
            chan = urls[urls[o["device"]["reference"]]["parent"]["reference"]]
            vmd = urls[chan["parent"]["reference"]]
            vmd_of[o["valueQuantity"]["value"]] = vmd["type"]["coding"][0]["code"]
    assert vmd_of == {18: "69682", 30: "70666"}
    euis = [i["value"] for d in of(b, "Device") for i in d.get("identifier", ()) if i.get("system") == EUI64_SYSTEM]
    assert sorted(euis) == ["08-00-19-FF-FE-0B-40-20", "08-00-19-FF-FE-13-45-35"]  # monitor and MSH-3, once each


# -- Philips Efficia CM (Data Export Guide): an alarm in an ORU^R01 v2.4, MDIL-ALERT ------------------------


def test_philips_efficia_alarm_oru():
    msg = decode(DATA / "oru-philips-efficia-alarm.hl7")
    assert msg.version == "2.4" and msg.control_id == "MONITORABC000000002D"
    assert msg.sending.identifier == "EfficiaCM"
    (m,) = msg.metrics
    assert (m.code.codings[0].code, m.code.codings[0].display, m.code.codings[0].system) == ("2", "Yellow Alarm", None)
    assert m.value.text == "SpO2 High, SpO2=98 %" and m.result_status == "F"
    assert msg.encounter.location.bed == "LOCATION34" and msg.encounter.identifiers[0].value == "TRANSACTION1234"
    found = {(i.code, i.location) for i in msg.issues}
    assert {("hl7v2.unknown-coding-system", "OBX[1]-3"), ("hl7v2.segment-not-placed", "ORC[1]"),
            ("hl7v2.field-not-placed", "OBR[1]-10"), ("hl7v2.field-not-placed", "PV1[1]-18")} <= found
    b = bundle("oru-philips-efficia-alarm")
    (obs,) = of(b, "Observation")
    assert obs["code"] == {"coding": [{"code": "2", "display": "Yellow Alarm"}]}
    assert obs["valueString"] == "SpO2 High, SpO2=98 %" and obs["effectiveDateTime"] == "2012-05-13T11:18:01Z"
    (pat,) = of(b, "Patient")
    assert pat["name"] == [{"family": "JONES", "given": ["MARY", "A"]}] and pat["identifier"] == [{"value": "MRN1234"}]
    assert [r["resourceType"] for r in (e["resource"] for e in b["entry"])].count("Encounter") == 0  # no PV1-2


# -- Mindray VS-900 vital signs monitor ---------------------------------------------------------------------


@pytest.mark.parametrize("name, eui, demo", [("pcd01-mindray-vs900", "00A0370098007A80", False),
                                             ("pcd01-mindray-vs900-demo", "00A0370098006640", True)])
def test_mindray_vs900(name, eui, demo):
    """The 4th OBX-4 part is the metric's own MDC code (1.3.1.150456); OBX-18 only on the first row; NIBP as
    three cuff numerics at their own time (OBX-14) with OBX-17 '^APERIODIC'; OBX-8 DEMO (demo-data:
    meta.security HTEST); PV1-44 the admit date."""
    msg = decode(DATA / f"{name}.hl7")
    (mds,) = msg.devices
    assert [(i.value, i.system) for i in mds.identifiers] == [(eui, EUI64_SYSTEM)] and msg.gateway is None
    assert mds.name == "MINDRAY_VS900"
    assert {m.observation_id: m.device_key for m in msg.metrics}["1.3.1.150456"] == "1.3.1"
    b = bundle(name)
    obs = {code_of(o): o for o in of(b, "Observation")}
    sys_ = obs["150301"]
    assert sys_["valueQuantity"] == {"value": 166 if demo else 147, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}
    assert sys_["effectiveDateTime"] == ("2020-02-12T12:50:08Z" if demo else "2019-12-06T11:10:16Z")
    assert sys_["method"] == {"text": "APERIODIC"}
    # MDC_PRESS_CUFF_SYS/DIA/MEAN (Rosetta group CVS_HEMO_NBP): the vital-signs LOINC codes and category
    for mdc, loinc in (("150301", "8480-6"), ("150302", "8462-4"), ("150303", "8478-0")):
        assert [(c["system"], c["code"]) for c in obs[mdc]["code"]["coding"]] == [(MDC, mdc), ("http://loinc.org", loinc)]
        assert obs[mdc]["category"][0]["coding"][0]["code"] == "vital-signs"
    assert obs["150302"]["valueQuantity"]["value"] == (100 if demo else 90)
    assert obs["150456"]["valueQuantity"]["value"] == (100 if demo else 99)
    assert obs["150488"]["valueQuantity"] == {"value": 12.0 if demo else 0.94, "unit": "%", "system": UCUM, "code": "%"}
    for o in obs.values():
        assert o["status"] == "preliminary"
        assert ("meta" in o) is demo and (not demo or o["meta"]["security"][0]["code"] == "HTEST")
    if not demo:
        assert obs["188496"]["valueQuantity"] == {"value": 35.1, "unit": "Cel", "system": UCUM, "code": "Cel"}
    (enc,) = of(b, "Encounter")
    assert enc["period"] == {"start": "2020-02-12" if demo else "2019-12-01"}
    urls = by_url(b)
    for o in obs.values():  # every Observation → DeviceMetric → channel → VMD → the one MDS
        chan = urls[urls[o["device"]["reference"]]["parent"]["reference"]]
        mds_res = urls[urls[chan["parent"]["reference"]]["parent"]["reference"]]
        assert mds_res["identifier"][0]["system"] == EUI64_SYSTEM


# -- what we re-encode as PCD-01 decodes back to the same readings ------------------------------------------


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("pcd01-")])
def test_reencoded_pcd01_reads_back_the_same(name):
    """`interop translate X --to hl7v2` of each monitor message: the same codes, values, units and times."""
    from interop.mappings.hl7v2.encode import encode

    def readings(msg):
        out = []
        for m in msg.metrics:
            v = m.value
            if v.kind == "numeric":
                value = (str(v.quantity.value), v.quantity.unit)
            elif v.kind == "sample-array":
                value = (tuple(str(s) for s in v.samples), v.period_ms)
            else:
                value = (v.kind,)
            out.append((m.code.codings[0].code, value, m.effective.value if m.effective else None))
        return sorted(out, key=repr)

    first = decode(DATA / f"{name}.hl7")
    second = decode(encode(first), "hl7v2", strict=False)
    assert readings(second) == readings(first)
