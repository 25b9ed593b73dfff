"""Defects the real device messages of tests/data/hl7v2 (SOURCES.md) exposed, pinned on small messages built
here: an OBX-7 whose 'low' is above its 'high' (a timestamp one field early, Smiths Medical MEMDMC) is no
alarm range; a waveform sent under a numeric's MDC code (SLL waveform, 150456 with NA) gets no vital-signs
LOINC coding."""

from __future__ import annotations

import json

import pytest

from interop import decode, to_fhir
from interop.errors import DecodeError

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
