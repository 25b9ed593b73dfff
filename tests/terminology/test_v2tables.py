"""HL7 v2 tables 0078/0085/0001/0004/0203 -> FHIR, exact rows of the HL7 v2-to-FHIR IG concept maps.

Source of every expected value: HL7/v2-to-fhir @8c9b414 mappings/codesystems/
"HL7 Concept Map_ <InterpretationCodes|ObservationResultStatusCodesInterpretation|AdministrativeSex|
PatientClass[EncounterClass]|IdentifierType> - Sheet1.csv".
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interop.terminology import v2tables as v2

INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


@pytest.mark.parametrize(
    ("flag", "code", "display"),
    [("H", "H", "High"), ("HH", "HH", "Critical high"), ("L", "L", "Low"), ("LL", "LL", "Critical low"),
     ("N", "N", "Normal"), ("A", "A", "Abnormal"), ("AA", "AA", "Critical abnormal"),
     ("<", "<", "Off scale low"), (">", ">", "Off scale high"), ("ND", "ND", "Not detected")],
)
def test_interpretation(flag: str, code: str, display: str) -> None:
    assert v2.interpretation_for(flag) == (INTERP, code, display)


def test_interpretation_unmapped() -> None:
    for flag in ("AC", "HM", "OBX", "QCF", "TOX", "", "ZZ", "QUES"):  # inactive in v3 or not table 0078
        assert v2.interpretation_for(flag) is None
    assert v2.interpretation_for(" H ") == (INTERP, "H", "High")
    assert v2.display("0078", "AC") == "Anti-complementary substances present"


@pytest.mark.parametrize(
    ("obx11", "status"),
    [("F", "final"), ("P", "preliminary"), ("C", "corrected"), ("A", "amended"), ("D", "entered-in-error"),
     ("W", "entered-in-error"), ("X", "cancelled")],
)
def test_observation_status(obx11: str, status: str) -> None:
    assert v2.observation_status(obx11) == status


def test_observation_status_unmapped_gives_default() -> None:
    for code in ("R", "V", "I", "N", "O", "S", "U", "B", "", "?"):
        assert v2.observation_status(code) == "unknown"
    assert v2.observation_status("R", default="preliminary") == "preliminary"


@pytest.mark.parametrize(
    ("sex", "fhir"),
    [("F", "female"), ("M", "male"), ("O", "other"), ("U", "unknown"), ("A", "other"), ("N", "other"),
     ("", "unknown"), ("X", "unknown")],
)
def test_gender(sex: str, fhir: str) -> None:
    assert v2.gender(sex) == fhir


@pytest.mark.parametrize(
    ("pv1_2", "coding"),
    [("E", (ACT, "EMER", "emergency")), ("I", (ACT, "IMP", "inpatient encounter")),
     ("O", (ACT, "AMB", "ambulatory")), ("P", (ACT, "PRENC", "pre-admission")),
     ("R", ("http://terminology.hl7.org/CodeSystem/v2-0004", "R", "Recurring patient"))],
)
def test_patient_class(pv1_2: str, coding: tuple[str, str, str]) -> None:
    assert v2.patient_class(pv1_2) == coding


def test_identifier_type() -> None:
    sys_ = "http://terminology.hl7.org/CodeSystem/v2-0203"
    assert v2.identifier_type("MR") == (sys_, "MR", "Medical record number")
    assert v2.identifier_type("PI") == (sys_, "PI", "Patient internal identifier")
    assert v2.identifier_type("NPI") == (sys_, "NPI", "National provider identifier")
    assert v2.identifier_type("XX") == (sys_, "XX", "Organization identifier")
    assert v2.identifier_type("ZZZ") is None


@given(st.one_of(st.text(max_size=6), st.none(), st.integers()))
def test_never_raises(x: object) -> None:
    v2.interpretation_for(x)  # type: ignore[arg-type]
    assert isinstance(v2.observation_status(x), str)  # type: ignore[arg-type]
    assert v2.gender(x) in {"male", "female", "other", "unknown"}  # type: ignore[arg-type]
    v2.identifier_type(x)  # type: ignore[arg-type]
    v2.patient_class(x)  # type: ignore[arg-type]
