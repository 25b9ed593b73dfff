"""HL7 v2 decoder: exact values from the bundled PCD-01 examples and public corpus messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode
from interop.errors import DecodeError
from interop.model import EUI64_SYSTEM, LOINC_SYSTEM, MDC_SYSTEM

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "hl7v2"
DATA = Path(__file__).parent / "data"


def by_code(msg, code):
    return [m for m in msg.metrics if m.code.code_in(MDC_SYSTEM) == code]


@pytest.fixture(scope="module")
def vitals():
    return decode(EXAMPLES / "pcd01-vitals.hl7")


def test_envelope(vitals):
    assert vitals.standard == "hl7v2"
    assert vitals.version == "2.6"
    assert vitals.message_type == "ORU^R01^ORU_R01"
    assert vitals.control_id == "MSG00001"
    assert vitals.profiles == ("IHE_PCD_001",)
    assert vitals.sent.raw == "20240315101530+0100"
    assert vitals.sent.value.utcoffset() == timedelta(hours=1)
    assert vitals.gateway.identifiers[0].value == "ACDE48FFFE012345"
    assert vitals.gateway.identifiers[0].system == EUI64_SYSTEM


def test_patient_and_location(vitals):
    p = vitals.patient
    assert p.identifiers[0].value == "HOSP0001"
    assert p.identifiers[0].system == "urn:oid:1.2.3.4.5"
    assert p.identifiers[0].type == "MR"
    assert p.names[0].family == "Doe" and p.names[0].given == ("Jane",)
    assert p.birth_date.precision == "day" and p.birth_date.value.year == 1980
    assert p.sex == "F"
    assert vitals.encounter.location.bed == "1" and vitals.encounter.location.room == "101"


def test_device_tree(vitals):
    (mds,) = vitals.devices
    assert mds.key == "1" and mds.level == "mds"
    assert mds.type.code_in(MDC_SYSTEM) == "69965"
    assert mds.identifiers[0].value == "0123456789ABCDEF"
    assert mds.identifiers[0].type == "EUI-64"
    assert [(c.key, c.type.code_in(MDC_SYSTEM)) for c in mds.children] == [
        ("1.1", "69642"), ("1.2", "70686"), ("1.3", "69902"), ("1.4", "70666")]


# device: the channel OBX-4 x.y.z.n names (PoCD IG hierarchy: a Channel Device made from OBX-4)
@pytest.mark.parametrize("code,value,ucum,loinc,device,low,high", [
    ("150456", "97", "%", "2708-6", "1.1.1", "90", "100"),
    ("149530", "72", "/min", "8867-4", "1.1.1", "50", "120"),
    ("150021", "120", "mm[Hg]", "8480-6", "1.2.1", "90", "160"),
    ("150022", "80", "mm[Hg]", "8462-4", "1.2.1", "50", "90"),
    ("150023", "93", "mm[Hg]", "8478-0", "1.2.1", None, None),
    ("150364", "37.20", "Cel", "8310-5", "1.3.1", "36.0", "38.5"),
    ("151562", "16", "/min", "9279-1", "1.4.1", "8", "30"),
])
def test_vital_metrics(vitals, code, value, ucum, loinc, device, low, high):
    (m,) = by_code(vitals, code)
    q = m.value.quantity
    assert str(q.value) == value  # precision kept: 37.20 stays 37.20
    assert q.unit == ucum
    assert m.code.code_in(LOINC_SYSTEM) == loinc
    assert m.device_key == device
    assert m.result_status == "F"
    if low is None:
        assert m.alarm_limits is None
    else:
        # IHE PCD-01 OBX-7 carries alarm limits, not a normal range
        assert m.reference_range is None
        assert str(m.alarm_limits.low.value) == low and str(m.alarm_limits.high.value) == high


def test_metric_times_and_flags(vitals):
    (sys_,) = by_code(vitals, "150021")
    assert sys_.effective.raw == "20240315101200+0100"
    assert sys_.effective.value.utcoffset() == timedelta(hours=1)
    (resp,) = by_code(vitals, "151562")
    assert [c.code for c in resp.interpretation] == ["N"]
    assert resp.source.location == "OBX[12]"


def test_custom_delimiters_escapes_and_value_types():
    msg = decode(EXAMPLES / "pcd01-custom-delimiters.hl7")
    assert msg.sent.precision == "microsecond" and msg.sent.value.microsecond == 123400
    assert msg.patient.identifiers[0].system == "urn:oid:2.16.840.1.113883.2.1.4.1"
    assert msg.patient.names[0].given == ("Ann", "Marie") and msg.patient.names[0].prefix == "Dr"
    spo2_nan, spo2_sn = by_code(msg, "150456")
    assert spo2_nan.value is None and spo2_nan.data_absent_reason == "not-a-number"
    assert spo2_nan.measurement_status == ("not-available",)
    assert spo2_sn.value.quantity.comparator == "<" and spo2_sn.value.quantity.value == Decimal("85")
    (pr,) = by_code(msg, "149530")
    assert pr.measurement_status == ("questionable",)
    assert [c.code for c in pr.interpretation] == ["H"]
    assert pr.reference_range is None and pr.alarm_limits.text == "50-100"
    (label,) = by_code(msg, "68162")
    assert label.value.text == "Lead II # 0.5:40 Hz! Notch"  # !F! !S! !E! !X4E! resolved
    assert label.notes == ("probe repositioned at 08:29",)
    (rhythm,) = by_code(msg, "184327")
    assert rhythm.value.concept.codings[0].display == "MDC_ECG_SINUS_RHY"
    assert rhythm.result_status == "P"
    (wave,) = by_code(msg, "131329")
    assert wave.value.samples == tuple(Decimal(x) for x in ("-10", "-5", "0", "5", "10", "15"))
    assert wave.value.origin.unit == "mV"


def test_philips_intellivue_sample_tolerated():
    """The published PoCD IG sample is malformed; the tolerant decoder reads all of it."""
    msg = decode(DATA / "pocd-philips-intellivue-pcd01.hl7")
    assert msg.sending.application == "SendingApplication"  # leading space trimmed
    assert msg.patient.identifiers[0].value == "12345" and msg.patient.identifiers[1].type == "VN"
    assert msg.patient.names[0].given == ("FirstName",)  # '""' middle name is an explicit null
    (mds,) = msg.devices
    vmd = next(c for c in mds.children if c.key == "1.2")
    assert vmd.identifiers[0].value == "XW25200213"
    assert vmd.children[0].type.code_in(MDC_SYSTEM) == "70739"
    # PoCD hierarchy from OBX-4 alone: the waveform's 1.1.1.2 names VMD 1.1 and channel 1.1.1, the rhythm's
    # 1.2.4.20 channel 1.2.4; none has a device row, so they have no type
    assert [(c.key, [g.key for g in c.children]) for c in mds.children] == [("1.1", ["1.1.1"]),
                                                                           ("1.2", ["1.2.1", "1.2.4"])]
    (hr,) = by_code(msg, "147842")
    assert hr.value.quantity.value == Decimal("60") and hr.value.quantity.unit == "/min"
    assert hr.device_key == "1.2.1"
    assert hr.effective.raw == "20210425230331.496-0400"  # OBR-7 is the default OBX time
    (wave,) = by_code(msg, "131329")
    assert len(wave.value.samples) == 22
    codes = {i.code for i in msg.issues}
    assert {"hl7v2.line-ends", "hl7v2.pcd-facet", "hl7v2.bad-sample"} <= codes
    assert any(i.location == "OBX[7]-6" for i in msg.issues)  # spilled waveform data, not a unit


@pytest.mark.parametrize("name", ["msfc-ADT-A01-01.hl7", "msfc-ORU-R01-01.hl7", "msfc-LAB-ORU-1.hl7",
                                  "lfh-ORU-multiline-short.hl7", "msfc-LRI_2.0-NG_CBC_Typ_Message.hl7"])
def test_public_messages_decode(name):
    msg = decode(DATA / name)
    assert msg.patient is not None and msg.patient.identifiers


def test_lab_oru_values():
    msg = decode(DATA / "msfc-ORU-R01-01.hl7")
    assert msg.version == "2.5.1"
    assert msg.patient.names[0].family == "Finn"
    assert msg.sent.value.utcoffset() == -timedelta(hours=2, minutes=15)


def test_strict_mode_raises_on_tolerated_deviation():
    data = (EXAMPLES / "pcd01-vitals.hl7").read_bytes().replace(b"\r", b"\n")
    with pytest.raises(DecodeError) as exc:
        decode(data, "hl7v2", strict=True)
    assert exc.value.standard == "hl7v2"
    ok = decode(data, "hl7v2")
    assert any(i.code == "hl7v2.line-ends" for i in ok.issues)


def test_bad_nm_recorded_with_position():
    data = (EXAMPLES / "pcd01-vitals.hl7").read_bytes().replace(b"|97|", b"|9x7|")
    msg = decode(data)
    (spo2,) = by_code(msg, "150456")
    assert spo2.value.text == "9x7" and spo2.data_absent_reason == "error"
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.bad-value"]
    assert issue.location == "OBX[3]-5"
    with pytest.raises(DecodeError) as exc:
        decode(data, strict=True)
    assert exc.value.position == "OBX[3]-5"


@pytest.mark.parametrize("data,position", [
    (b"", "byte 0"),
    (b"MSH|^~", "MSH-2"),
    (b"MSH|^~^&|A|B\r", "MSH-2"),
    (b"MSHA^~\\&|A\r", "MSH-1"),
    (b"PID|1||123\r", "MSH-0 (segment id)"),
])
def test_malformed_headers(data, position):
    with pytest.raises(DecodeError) as exc:
        decode(data, "hl7v2")
    assert exc.value.position == position


def test_mllp_framing_and_latin1():
    body = (EXAMPLES / "pcd01-vitals.hl7").read_bytes().replace(b"UNICODE UTF-8", b"8859/1")
    body = body.replace(b"Doe^Jane", "Doé^Jane".encode("latin-1"))
    msg = decode(b"\x0b" + body + b"\x1c\r")
    assert msg.patient.names[0].family == "Doé"


def test_patient_values_masked_in_findings_and_errors():
    data = (EXAMPLES / "pcd01-vitals.hl7").read_bytes().replace(b"||19800101|F", b"||1980x0101|F")
    msg = decode(data)
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.bad-dtm"]
    assert issue.location == "PID[1]-7" and "1980x0101" not in issue.message and "'***'" in issue.message
    with pytest.raises(DecodeError) as exc:
        decode(data, strict=True)
    assert exc.value.position == "PID[1]-7" and "1980x0101" not in str(exc.value)
