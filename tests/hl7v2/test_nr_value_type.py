"""OBX-2 NR (numeric range, HL7 v2 data type NR: <low (NM)>^<high (NM)>, an empty side unbounded): IHE PCD
devices send MDC_ATTR_DATA_RANGE so. Read as a range in OBX-6's unit → FHIR Observation.valueRange; it was
kept as text with an 'unsupported value type' warning."""

from __future__ import annotations

import json

import pytest

from interop import decode, to_fhir

MSG = ("MSH|^~\\&|A|B|C|D|20240101120000+0000||ORU^R01^ORU_R01|1|P|2.6|||NE|AL|||||"
       "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
       "OBR|1|||182777000^monitoring of patient^SCT|||20240101120000+0000\r"
       "OBX|1|NR|0^MDC_ATTR_DATA_RANGE^MDC|1.1.1.1|{value}|266418^MDC_DIM_MILLI_VOLT^MDC|||||F|||20240101120000+0000\r")
MV = {"unit": "mV", "system": "http://unitsofmeasure.org", "code": "mV"}


@pytest.mark.parametrize(("value", "expected"), [
    ("-5.0^10.0", {"low": {"value": -5.0, **MV}, "high": {"value": 10.0, **MV}}),
    ("^1.4296875", {"high": {"value": 1.4296875, **MV}}),  # unbounded below
    ("0.39013672^", {"low": {"value": 0.39013672, **MV}}),
])
def test_nr_is_a_range_in_the_units_of_obx6(value, expected):
    msg = decode(MSG.format(value=value).encode(), "hl7v2")
    assert not [i for i in msg.issues if i.severity != "info"]
    (m,) = msg.metrics
    assert m.value.kind == "range"
    for version in ("R4", "R5"):
        (obs,) = [e["resource"] for e in json.loads(to_fhir(msg, version).json())["entry"]
                  if e["resource"]["resourceType"] == "Observation"]
        assert obs["valueRange"] == expected


@pytest.mark.parametrize("value", ["abc^1", "^", "1^2^3"])
def test_bad_nr_is_a_finding_and_kept_as_text(value):
    msg = decode(MSG.format(value=value).encode(), "hl7v2")
    (m,) = msg.metrics
    assert m.value.kind == "string" and m.data_absent_reason == "error"
    assert any(i.code == "hl7v2.bad-value" and i.location == "OBX[1]-5" for i in msg.issues)
