"""OBX-8 device flags and OBX-11 result status: one table each owns the meaning (the PoCD IG
mappingv2.md flag table in interop.terminology; the v2-to-FHIR IG table 0085 ConceptMap), and the
decoder and the FHIR mapping agree with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop.codecs.hl7v2 import pcd

from interop import decode, to_fhir
from interop.model import MDC_SYSTEM
from interop.terminology import status

VITALS = (Path(__file__).resolve().parents[2] / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
SPO2_ROW = b"OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|90-100||||F|"
MSTAT = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def spo2_with(value: bytes, flags: bytes, obx11: bytes = b"F"):
    """The vitals example with the SpO2 row's OBX-5, OBX-8 and OBX-11 replaced."""
    row = (b"OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|" + value + b"|262688^MDC_DIM_PERCENT^MDC|90-100|"
           + flags + b"|||" + obx11 + b"|")
    assert SPO2_ROW in VITALS
    msg = decode(VITALS.replace(SPO2_ROW, row))
    (metric,) = [m for m in msg.metrics if m.code.code_in(MDC_SYSTEM) == "150456"]
    (obs,) = [r for r in to_fhir(msg).resources if r["resourceType"] == "Observation"
              and r["code"]["coding"][0]["code"] == "150456"]
    return msg, metric, obs


def test_decoder_flag_tables_are_the_terminology_table() -> None:
    flags = status.pcd01_flags()
    assert pcd.MEASUREMENT_STATUS == {f: m.name for f, m in flags.items() if m.name}
    assert pcd.ABSENT_REASON == {"INV": "error", "NAV": "temp-unknown", "BUSY": "temp-unknown", "NI": "unknown",
                                 "OFF": "not-performed"}
    # every flag that is a MeasurementStatus bit records the bit's name, so the bit table maps it
    for flag in ("INV", "QUES", "NAV", "CAL", "TEST", "DEMO", "VAL", "EARLY", "BUSY", "ALACT", "ALINH"):
        assert status.by_name(pcd.MEASUREMENT_STATUS[flag]) is not None, flag


def test_busy_without_value_is_temporarily_unknown() -> None:
    """BUSY (msmt-ongoing(10)): a new measurement is being taken, OBX-11 X, no value yet."""
    msg, metric, obs = spo2_with(b"", b"BUSY", b"X")
    assert metric.value is None
    assert metric.measurement_status == ("msmt-ongoing",)
    assert metric.data_absent_reason == "temp-unknown"
    assert obs["dataAbsentReason"] == {"coding": [{"system": DAR, "code": "temp-unknown"}]}
    assert obs["interpretation"] == [{"coding": [{"system": MSTAT, "code": "msmt-ongoing"}], "text": "msmt-ongoing"}]
    assert obs["status"] == "cancelled"  # X: "results cannot be obtained" (v2-to-FHIR IG)
    assert "valueQuantity" not in obs


def test_alert_priority_flags_are_known() -> None:
    msg, metric, obs = spo2_with(b"97", b"PM~H")
    assert metric.measurement_status == ("alert-priority-medium",)
    assert [c.code for c in metric.interpretation] == ["H"]
    assert not [i for i in msg.issues if i.code == "hl7v2.unknown-flag"]
    assert obs["note"] == [{"text": "measurement status: alert-priority-medium"}]


def test_an_unknown_flag_is_kept_and_reported() -> None:
    msg, metric, _ = spo2_with(b"97", b"ZZZ")
    assert metric.measurement_status == ("ZZZ",)
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.unknown-flag"]
    assert issue.location == "OBX[3]-8" and issue.severity == "info"


@pytest.mark.parametrize("obx11,expected", [
    ("F", "final"), ("C", "corrected"), ("D", "entered-in-error"), ("W", "entered-in-error"), ("P", "preliminary"),
    ("A", "amended"), ("X", "cancelled"),  # the v2-to-FHIR IG ConceptMap (table 0085)
    ("R", "preliminary"),  # PCD-01: a raw device measurement, not reviewed nor validated
    ("S", "preliminary"), ("I", "registered"), ("O", "registered"), ("N", "cancelled"), ("U", "final"),
    ("V", "final"), ("B", "amended"),  # unmapped by the IG: read by their table 0085 meaning
    ("Q", "unknown"), ("", "final"),  # not in table 0085; not stated (a device value stands)
])
def test_result_status(obx11: str, expected: str) -> None:
    _, metric, obs = spo2_with(b"97", b"", obx11.encode())
    assert metric.result_status == (obx11 or None)
    assert obs["status"] == expected
