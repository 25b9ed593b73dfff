"""IEEE 11073 MeasurementStatus bits and PCD-01 OBX-8 flags -> FHIR (HL7 PoCD IG @9be0922
mappingdim.md "Measurement Status" and mappingv2.md "OBX-8 FHIR Encoding")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from interop.terminology import status

OBSV = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
MSTAT = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"  # HL7/uv-pocd input/vocabulary/CodeSystem-measurement-status.xml url


def test_invalid_bit_is_msb() -> None:
    (m,) = status.measurement_status(0x8000)  # 20601: bit 0 is the most significant bit
    assert m.name == "invalid"
    assert m.security == (OBSV, "UNRELIABLE")
    assert m.data_absent_reason == "error"
    assert m.interpretation is None


def test_several_bits() -> None:
    ms = status.measurement_status(0x4000 | 0x0080)  # questionable(1) + validated-data(8)
    assert [m.name for m in ms] == ["questionable", "validated-data"]
    assert ms[1].interpretation == (MSTAT, "validated-data")
    assert status.measurement_status(0) == ()
    assert status.measurement_status_bit(4).security == ("http://terminology.hl7.org/CodeSystem/v3-ActReason", "HTEST")


def test_pcd01_flags() -> None:
    q = status.pcd01_flag("QUES")
    assert (q.security, q.interpretation, q.obx11) == ((OBSV, "UNCERTREL"), (MSTAT, "questionable"), "R")
    assert status.pcd01_flag("NAV").data_absent_reason == "temp-unknown"  # mappingv2.md; DIM page says not-performed
    assert status.measurement_status_bit(2).data_absent_reason == "not-performed"
    assert status.pcd01_flag("VAL").obx11 == "F"
    assert status.pcd01_flag(">").interpretation == (
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", ">")
    assert status.pcd01_flag("H") is None  # abnormality flags are table 0078, see v2tables


@given(st.integers())
def test_any_int(x: int) -> None:
    status.measurement_status(x)
    status.measurement_status_bit(x)
