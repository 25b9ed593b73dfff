"""Defects the real device messages of tests/data/hl7v2 (SOURCES.md) exposed, pinned on small messages built
here: an OBX-7 whose 'low' is above its 'high' (a timestamp one field early, Smiths Medical MEMDMC) is no
alarm range; a waveform sent under a numeric's MDC code (SLL waveform, 150456 with NA) gets no vital-signs
LOINC coding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop import decode, to_fhir
from interop.errors import DecodeError

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
MSH = ("MSH|^~\\&|DOR^0123456789ABCDEF^EUI-64||||20240101120000+0000||ORU^R01^ORU_R01|1|P|2.6|||AL|NE||||"
       "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO")
OBR = "OBR|1||1^DOR^0123456789ABCDEF^EUI-64|182777000^monitoring of patient^SCT|||20240101120000+0000"


def _msg(*obx: str) -> bytes:
    return "\r".join([MSH, "PID|||P1^^^H^MR", OBR, *obx]).encode() + b"\r"


@pytest.mark.parametrize("rng, low, high", [("50-120", 50, 120), ("120-120", 120, 120), ("-5-10", -5, 10)])
def test_a_range_keeps_its_ends(rng, low, high):
    msg = decode(_msg(f"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|60|264864^MDC_DIM_BEAT_PER_MIN^MDC|{rng}||||F"))
    (m,) = msg.metrics
    assert (m.alarm_limits.low.value, m.alarm_limits.high.value) == (low, high)
    assert not [i for i in msg.issues if i.code == "hl7v2.bad-range"]


def test_low_above_high_is_no_range():
    raw = _msg("OBX|1|ST|67880^MDC_ATTR_ID_MODEL^MDC|1.0.0.1|model=X||20150119221713-0000||||R",
               "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.2.1.1|60|264864^MDC_DIM_BEAT_PER_MIN^MDC|120-50||||F")
    msg = decode(raw)
    assert [(m.alarm_limits, m.reference_range) for m in msg.metrics] == [(None, None), (None, None)]
    bad = [(i.location, i.severity) for i in msg.issues if i.code == "hl7v2.bad-range"]
    assert bad == [("OBX[1]-7", "warning"), ("OBX[2]-7", "warning")]
    assert "referenceRange" not in json.dumps(json.loads(to_fhir(msg, "R4").json()))
    with pytest.raises(DecodeError):
        decode(raw, strict=True)


@pytest.mark.parametrize("vtype", ["NA", "MA"])
def test_waveform_under_numeric_code_gets_no_vital_sign_loinc(vtype):
    msg = decode(_msg(f"OBX|1|{vtype}|150456^MDC_PULS_OXIM_SAT_O2_WAVEFORM^MDC|1.1.1.1003|1.18^1.17^1.16|"
                      "262688^MDC_DIM_PERCENT^MDC|||||F",
                      "OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.1.1.1003.1|125|264608^MDC_DIM_PER_SEC|||||F",
                      "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||F"))
    wave, spo2 = msg.metrics
    assert [c.system for c in wave.code.codings] == ["urn:iso:std:iso:11073:10101"]
    assert [c.code for c in spo2.code.codings] == ["150456", "2708-6"]  # the numeric keeps its LOINC
    obs = [e["resource"] for e in json.loads(to_fhir(msg, "R4").json())["entry"]
           if e["resource"]["resourceType"] == "Observation"]
    by_value = {("valueSampledData" in o): o for o in obs}
    assert "category" not in by_value[True]
    assert by_value[False]["category"][0]["coding"][0]["code"] == "vital-signs"


def test_waveform_keeps_a_loinc_code_its_sender_gave():
    msg = decode(_msg("OBX|1|NA|2708-6^SpO2^LN^150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1003|1^2^3|"
                      "262688^MDC_DIM_PERCENT^MDC|||||F"))
    (wave,) = msg.metrics
    assert [(c.system, c.code) for c in wave.code.codings] == [
        ("http://loinc.org", "2708-6"), ("urn:iso:std:iso:11073:10101", "150456")]


# GE CARESCAPE/B40 shape (tests/data/hl7v2/pcd01-ge-b40-carescape.hl7): the monitor's own EUI-64 in MSH-3 and in
# OBX-18 of every metric row, rows under declared VMD/channel rows and under undeclared ones
GE_MSH = ("MSH|^~\\&|VSP^080019FFFE0B4020^EUI-64|GE Healthcare|||20121109160900+0100||ORU^R01^ORU_R01|1|P|2.6|||"
          "NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO")
GE_OBR = ("OBR|1|080019FFFE0B402020121109160900^VSP^080019FFFE0B4020^EUI-64|080019FFFE0B402020121109160900^VSP^"
          "080019FFFE0B4020^EUI-64|182777000^monitoring of patient^SCT|||20121109160900")
GE_ROWS = ["OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X",
           "OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.13.0.0|||||||X",
           "OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.13.1.0|||||||X",
           "OBX|4|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|1.13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R|||||||{eq}"]


def _ge(eq: str, *more: str) -> bytes:
    rows = [r.replace("{eq}", eq) for r in (*GE_ROWS, *more)]
    return "\r".join([GE_MSH, "PID|||HED12^^^PID^MR", "PV1||E|ICU^^79874", GE_OBR, *rows]).encode() + b"\r"


def _eui_devices(bundle: dict) -> list[str]:
    return [i["value"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Device"
            for i in e["resource"].get("identifier", ()) if i.get("system") == "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_monitor_eui64_on_channel_rows_is_the_mds_not_a_second_device(version):
    """MSH-3's EUI-64 repeated in OBX-18 of rows under a declared channel: one Device carries it (the MDS),
    not the gateway Device and the channel both (a conditional create would then match two Devices)."""
    msg = decode(_ge("080019FFFE0B4020^^080019FFFE0B4020^EUI-64"))
    (mds,) = msg.devices
    assert msg.gateway is None
    assert [i.value for i in mds.identifiers] == ["080019FFFE0B4020"]
    chan = mds.children[0].children[0]
    assert chan.key == "1.13.1" and chan.identifiers == ()
    assert _eui_devices(json.loads(to_fhir(msg, version).json())) == ["08-00-19-FF-FE-0B-40-20"]


def test_an_mds_identifier_repeated_on_its_channel_stays_on_the_mds_only():
    """OBX-18 of rows under a declared channel and under an undeclared one (reaching the MDS): the identifier
    lands once, on the MDS."""
    msg = decode(_ge("0123456789ABCDEF^^0123456789ABCDEF^EUI-64",
                     "OBX|11|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||"
                     "0123456789ABCDEF^^0123456789ABCDEF^EUI-64"))
    (mds,) = msg.devices
    holders = []

    def walk(d):
        if d.identifiers:
            holders.append((d.key, [i.value for i in d.identifiers]))
        for c in d.children:
            walk(c)

    walk(mds)
    assert holders == [("1", ["0123456789ABCDEF"])]


def test_first_metric_naming_the_mds_by_obx18_gets_the_same_channel_as_its_siblings():
    """Mindray VS-900 shape (tests/data/hl7v2/pcd01-mindray-vs900.hl7): no device rows, OBX-18 on the first
    metric only. Every metric under 1.3.1 hangs on channel 1.3.1 (PoCD: Observation → DeviceMetric → channel
    → VMD → MDS), the first one too, and the EUI-64 lands on the MDS."""
    raw = "\r".join([
        "MSH|^~\\&|MINDRAY_VS900^00A0370098007A80^EUI-64||||20191206113452||ORU^R01^ORU_R01|1914|P|2.6|||AL|NE||"
        "UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        "OBR|1|1914^MINDRAY_VS900^00A0370098007A80^EUI-64|1914^MINDRAY_VS900^00A0370098007A80^EUI-64|"
        "182777000^monitoring of patient^SCT|||20191206113452",
        "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|99|262688^MDC_DIM_PERCENT^MDC|||||R|||20191206113452||||"
        "00A0370098007A80^^00A0370098007A80^EUI-64",
        "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|94|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||"
        "20191206113452"]).encode() + b"\r"
    msg = decode(raw)
    assert [m.device_key for m in msg.metrics] == ["1.3.1", "1.3.1"]
    (mds,) = msg.devices
    assert [i.value for i in mds.identifiers] == ["00A0370098007A80"] and msg.gateway is None
    b = json.loads(to_fhir(msg, "R4").json())
    urls = {e["fullUrl"]: e["resource"] for e in b["entry"]}
    parents = set()
    for o in (r for r in urls.values() if r["resourceType"] == "Observation"):
        metric = urls[o["device"]["reference"]]
        assert metric["resourceType"] == "DeviceMetric"
        parents.add(metric["parent"]["reference"])
    assert len(parents) == 1


@pytest.mark.parametrize("version, element", [("R4", "period"), ("R5", "actualPeriod")])
def test_pv1_44_admit_time_of_a_device_message_is_the_encounter_start(version, element):
    """Mindray VS-900 sends PV1-44 (admit date) in its ORU^R01: v2-to-FHIR PV1-44 → Encounter.period.start
    (R5 actualPeriod), whatever the message type; the status stays as PV1 gives it (unknown)."""
    raw = (DATA_DIR / "pcd01-mindray-vs900-demo.hl7").read_bytes()
    b = json.loads(to_fhir(decode(raw), version).json())
    (enc,) = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Encounter"]
    assert enc[element] == {"start": "2020-02-12"} and enc["status"] == "unknown"


def test_pl_value_is_read_as_a_place():
    """IHE PCD MEMLS (Smiths Medical MEMDMC example): OBX-2 PL reads to the place's text, widest first, not to
    the raw components."""
    msg = decode(_msg("OBX|1|PL|0^MDCX_LS_ATTR_LOCATION^MDC|LOC|^^^Fraser Health^^^North Building^Main Floor^"
                      "Nurse Station||||||F|||20150127110822.229-0800"))
    (m,) = msg.metrics
    assert m.value.text == "Fraser Health / North Building / Main Floor / Nurse Station"
    assert not [i for i in msg.issues if i.code == "hl7v2.unsupported-value-type"]
