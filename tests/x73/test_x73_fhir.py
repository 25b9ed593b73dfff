"""20601 traces → FHIR R4/R5 (issue 4 acceptance): exact MDC + LOINC codes, values, UCUM units, EUI-64, absent data.

Traces: examples/x73 (written by `agent.trace()` from the standard configurations of 20601 / 10407, 10404,
10408, 10415, 10417 and the Annex H extended configuration), the real Nonin dump (0x0191, data/SOURCES.md).
LOINC: vital-signs codes of the HL7 PHD IG / FHIR vital-signs profile.
"""

from __future__ import annotations

import pytest
from interop.codecs.ieee11073.decode import decode_trace

from interop import decode, to_fhir

from .test_x73_traces import _special_trace
from .vectors import EXAMPLES, trace

MDC = "urn:iso:std:iso:11073:10101"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BP = ("150020", "85354-9")
SYS, DIA, MEAN = ("150021", "8480-6"), ("150022", "8462-4"), ("150023", "8478-0")


def _codes(concept: dict) -> tuple[str, str | None]:
    """(MDC code, LOINC code or None) of a CodeableConcept."""
    by_system = {c["system"]: c["code"] for c in concept["coding"]}
    return by_system[MDC], by_system.get(LOINC)


def _quantity(q: dict) -> tuple[float, str]:
    assert q["system"] == UCUM and q["unit"] == q["code"]
    return q["value"], q["code"]


def observations(bundle: dict) -> list[tuple]:
    """(codes, value) per Observation: value is (number, UCUM), a list of component (codes, value), or absent."""
    out = []
    for entry in bundle["entry"]:
        o = entry["resource"]
        if o["resourceType"] != "Observation":
            continue
        if "component" in o:
            value = [(_codes(c["code"]), _quantity(c["valueQuantity"]) if "valueQuantity" in c
                      else c["dataAbsentReason"]["coding"][0]["code"]) for c in o["component"]]
        elif "valueQuantity" in o:
            value = _quantity(o["valueQuantity"])
        else:
            value = o["dataAbsentReason"]["coding"][0]["code"]
        out.append((_codes(o["code"]), value))
    return out


def device_ids(bundle: dict) -> list[str]:
    return [i["value"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Device"
            for i in e["resource"].get("identifier", [])]


def _bp(sys: int, dia: int, mean: int) -> tuple:
    return (BP, [(SYS, (sys, "mm[Hg]")), (DIA, (dia, "mm[Hg]")), (MEAN, (mean, "mm[Hg]"))])


EXPECTED = {
    "bp-0x02BC.x73": ("0A-1B-2C-3D-4E-5F-07-02", [
        _bp(120, 80, 100), (("149546", "8867-4"), (60.0, "/min")),
        _bp(118, 76, 90), (("149546", "8867-4"), (72, "/min"))]),
    "bp-extended-0x4000.x73": ("0A-1B-2C-3D-4E-5F-07-02", [
        _bp(120, 80, 100), (("149546", "8867-4"), (60.0, "/min")),
        _bp(118, 76, 90), (("149546", "8867-4"), (72, "/min"))]),
    "pulseox-0x0190.x73": ("0A-1B-2C-3D-4E-5F-04-01", [
        (("150456", "2708-6"), (98, "%")), (("149530", "8867-4"), (72, "/min")),
        (("150456", "2708-6"), (97, "%")), (("149530", "8867-4"), (75, "/min"))]),
    "thermometer-0x0320.x73": ("0A-1B-2C-3D-4E-5F-08-01", [
        (("150364", "8310-5"), (36.6, "Cel")), (("150364", "8310-5"), (37.2, "Cel"))]),
    "scale-0x05DC.x73": ("0A-1B-2C-3D-4E-5F-15-01", [
        (("188736", "29463-7"), (76.2, "kg")), (("188736", "29463-7"), (76.0, "kg"))]),
    "glucose-0x06A4.x73": ("0A-1B-2C-3D-4E-5F-17-01", [
        (("160184", None), (95, "mg/dL")), (("160184", None), (102, "mg/dL"))]),
    # 20601 Annex H: extended configuration 0x4000 learnt from MDC_NOTI_CONFIG (weight 62.4 kg, body fat 25.6 %)
    "annexH-scale-extended-0x4000.x73": ("88-77-66-55-44-33-22-11", [
        (("188736", "29463-7"), (62.4, "kg")), (("188748", None), (25.6, "%"))]),
}


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_example_trace_to_fhir(file: str, version: str) -> None:
    b = to_fhir(decode(EXAMPLES / file), version)
    b.to_model()  # every resource validates (R4: fhir.resources.R4B, R5: fhir.resources)
    doc = b.as_dict()
    eui, expected = EXPECTED[file]
    assert device_ids(doc)[0] == eui
    assert observations(doc) == expected


def test_precision_travels_into_the_json() -> None:
    # 60.0 /min and 76.0 kg keep their decimal places (SFLOAT/FLOAT exponent -1), 120 stays 120
    assert b'"value":60.0,' in to_fhir(decode(EXAMPLES / "bp-0x02BC.x73")).json()
    assert b'"value":76.0,' in to_fhir(decode(EXAMPLES / "scale-0x05DC.x73")).json()
    assert b'"value":120,' in to_fhir(decode(EXAMPLES / "bp-0x02BC.x73")).json()


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_real_nonin_0x0191_to_fhir(version: str) -> None:
    # a real Nonin pulse oximeter (AARQ 0x0191, unconfirmed fixed scan report): SpO2 98 %, pulse 105 /min
    b = to_fhir(decode_trace(trace("nonin_oximeter_real_aarq", "nonin_oximeter_real_scan_report")), version)
    b.to_model()
    doc = b.as_dict()
    assert device_ids(doc)[0] == "00-1C-05-01-00-00-28-85"
    assert observations(doc) == [(("150456", "2708-6"), (98, "%")), (("149530", "8867-4"), (105, "/min"))]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_special_values_become_data_absent_reasons(version: str) -> None:
    # MDER SFLOAT NaN 0x07FF, NRes 0x0800, +INF 0x07FE, -INF 0x0802 (20601 F.6) → FHIR data-absent-reason codes
    b = to_fhir(decode_trace(_special_trace()), version)
    b.to_model()
    assert observations(b.as_dict()) == [
        (BP, [(SYS, "not-a-number"), (DIA, "error"), (MEAN, "positive-infinity")]),
        (("149546", "8867-4"), "negative-infinity")]
