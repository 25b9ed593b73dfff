"""The rest of HL7 table 0125 (OBX-2, v2.5-v2.8) pinned with exact canonical and FHIR values.

tests/hl7v2/test_value_types.py pins NM ST TX FT CWE CE SN (>, ratio ':', range, <=) DT DTM TM NA ED;
tests/hl7v2/test_attachments.py pins RP. Here: AD CF CK CN CNE CP CX DR ID IS MA MO PN TN TS XAD XCN XON
XPN XTN, SN '<', '>=', '<>', '/', '+', TM -> valueTime, and unknown/invalid values -> an issue with its
position. Mappings follow the HL7 v2-to-FHIR IG OBX[Observation] map; where it is silent the choice is
documented in codecs/hl7v2/values.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.hl7v2.values import RARE_TYPES
from interop.mappings.hl7v2.encode import encode

from interop import decode, to_fhir
from interop.errors import DecodeError
from interop.model import PeriodValue, TimeValue

HEAD = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|V2|P|2.8\rPID|||1^^^H^MR\r"
        "OBR|1|P1|F1|24331-1^Lipid panel^LN|||20240102030000+0100\r")
ROWS = [  # (OBX-2, OBX-5, OBX-6) -> OBX-3 code is the row number
    ("XPN", "Smith^John^Q^Jr^Dr^MD", ""),
    ("XCN", "12345^Smith^John^^^Dr", ""),
    ("XON", "Good Health Hospital^L^^^^^^^^GHH01", ""),
    ("XAD", "1 Main St&Main St&1^Apt 2^Springfield^IL^62701^USA^H", ""),
    ("XTN", "^PRN^PH^^1^555^1234567^89", ""),
    ("XTN", "^NET^Internet^jo@example.org", ""),
    ("CX", "MRN123^^^HOSP&1.2.3&ISO^MR", ""),
    ("IS", "F", ""),
    ("ID", "Y", ""),
    ("DR", "20240101^20240131", ""),
    ("DR", "^202401311200+0100", ""),
    ("MA", "1^2^3~4^5^6", "mV^mV^UCUM"),
    ("MO", "12.50^USD", ""),
    ("CP", "100.00&EUR^UP", ""),
    ("TM", "123015+0100", ""),
    ("SN", "<>^5", "mg/dL^mg/dL^UCUM"),
    ("SN", "^2^+", ""),
    ("SN", "<^0.1", "ng/mL^ng/mL^UCUM"),
    ("SN", ">=^5", "mg/dL^mg/dL^UCUM"),
    ("SN", "^1^/^2", ""),
    ("TS", "20240102030405-0500", ""),
    ("CNE", "A^Alpha^HL70136", ""),
    ("CF", "POS^\\H\\Positive\\N\\^SCT", ""),
    ("AD", "2 Elm^^Town^CA^90000", ""),
    ("PN", "Doe^Jane", ""),
    ("CN", "99^Who^Doctor", ""),
    ("TN", "(555)555-1234X12", ""),
    ("CK", "12^3^M10^HOSP", ""),
]
MESSAGE = HEAD + "".join(f"OBX|{i}|{t}|{i}^row {i}^L||{v}|{u}|||||F\r" for i, (t, v, u) in enumerate(ROWS, 1))
STRINGS = {1: "Dr John Q Smith Jr MD", 2: "Dr John Smith (12345)", 3: "Good Health Hospital (GHH01)",
           4: "1 Main St, Apt 2, Springfield, IL 62701, USA", 5: "+1 (555) 1234567 ext. 89", 6: "jo@example.org",
           7: "MRN123 (HOSP, MR)", 16: "<> 5 mg/dL", 17: "2 +", 24: "2 Elm, Town, CA 90000", 25: "Jane Doe",
           26: "Doctor Who (99)", 27: "(555)555-1234X12", 28: "12 (HOSP)"}


def _decode():
    msg = decode(MESSAGE.encode())
    return msg, {int(m.code.codings[0].code): m for m in msg.metrics}


def _observations(version: str):
    msg, _ = _decode()
    bundle = to_fhir(msg, version)
    bundle.to_model()  # every value is valid FHIR of that version
    return {int(o["code"]["coding"][0]["code"]): o for o in bundle.resources if o["resourceType"] == "Observation"}


def test_every_row_read_without_findings():
    msg, by = _decode()
    assert sorted(by) == list(range(1, len(ROWS) + 1))
    # only CP.2 (price type "UP") is reported: it has no place in a Quantity
    assert [(i.code, i.location) for i in msg.issues if i.location.startswith("OBX")] == [
        ("hl7v2.value-part-unmapped", "OBX[14]-5")]


def test_canonical_values():
    _, by = _decode()
    for n, text in STRINGS.items():
        assert (by[n].value.kind, by[n].value.text) == ("string", text), n
    assert [(c.system, c.code) for c in by[8].value.concept.codings] == [(None, "F")]  # IS: a code, table unknown
    assert by[9].value.concept.codings[0].code == "Y"
    dr = by[10].value
    assert isinstance(dr, PeriodValue) and (dr.start.raw, dr.end.raw) == ("20240101", "20240131")
    assert by[11].value.start is None and by[11].value.end.raw == "202401311200+0100"
    ma = by[12].value
    assert (ma.dimensions, ma.samples, ma.origin.unit) == (3, tuple(Decimal(i) for i in range(1, 7)), "mV")
    mo = by[13].value.quantity
    assert (mo.value, str(mo.value), mo.unit_mdc.system, mo.unit_mdc.code) == (
        Decimal("12.50"), "12.50", "urn:iso:std:iso:4217", "USD")
    assert by[14].value.quantity.unit_mdc.code == "EUR" and str(by[14].value.quantity.value) == "100.00"
    assert by[15].value == TimeValue(text="12:30:15+01:00")
    assert (by[18].value.quantity.comparator, by[18].value.quantity.value, by[18].value.quantity.unit) == (
        "<", Decimal("0.1"), "ng/mL")
    assert (by[19].value.quantity.comparator, by[19].value.quantity.value) == (">=", Decimal(5))
    r = by[20].value
    assert (r.kind, r.numerator.value, r.denominator.value) == ("ratio", Decimal(1), Decimal(2))
    ts = by[21].value.timestamp
    assert (ts.precision, ts.value.utcoffset().total_seconds()) == ("second", -5 * 3600)
    assert by[22].value.concept.codings[0].system == "http://terminology.hl7.org/CodeSystem/v2-0136"
    cf = by[23].value.concept.codings[0]
    assert (cf.system, cf.code, cf.display) == ("http://snomed.info/sct", "POS", "Positive")


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_fhir_values(version):
    obs = _observations(version)
    for n, text in STRINGS.items():
        assert obs[n]["valueString"] == text, n
    assert obs[8]["valueCodeableConcept"] == {"coding": [{"code": "F"}]}
    assert obs[9]["valueCodeableConcept"] == {"coding": [{"code": "Y"}]}
    assert obs[10]["valuePeriod"] == {"start": "2024-01-01", "end": "2024-01-31"}
    assert obs[11]["valuePeriod"] == {"end": "2024-01-31T12:00:00+01:00"}
    sd = obs[12]["valueSampledData"]
    assert (sd["dimensions"], sd["data"], sd["origin"]["code"]) == (3, "1 2 3 4 5 6", "mV")
    assert obs[13]["valueQuantity"] == {"value": Decimal("12.50"), "unit": "USD",
                                        "system": "urn:iso:std:iso:4217", "code": "USD"}
    assert obs[14]["valueQuantity"]["code"] == "EUR"
    assert obs[15]["valueTime"] == "12:30:15"
    assert obs[18]["valueQuantity"] == {"value": Decimal("0.1"), "comparator": "<", "unit": "ng/mL",
                                        "system": "http://unitsofmeasure.org", "code": "ng/mL"}
    assert obs[19]["valueQuantity"]["comparator"] == ">="
    assert obs[20]["valueRatio"] == {"numerator": {"value": 1}, "denominator": {"value": 2}}
    assert obs[21]["valueDateTime"] == "2024-01-02T03:04:05-05:00"
    assert obs[22]["valueCodeableConcept"]["coding"][0]["code"] == "A"
    assert obs[23]["valueCodeableConcept"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "POS", "display": "Positive"}]


def test_tm_without_seconds_and_period_and_money_round_trip():
    msg = decode((HEAD + "OBX|1|TM|1^t^L||1230||||||F\rOBX|2|DR|2^d^L||20240101^20240131||||||F\r"
                  "OBX|3|MO|3^m^L||12.50^USD||||||F\r").encode())
    obs = [r for r in to_fhir(msg, "R4").resources if r["resourceType"] == "Observation"]
    assert obs[0]["valueTime"] == "12:30:00"
    written = encode(msg)  # DR, TM and MO are written back as DR, TM and MO
    obx = [line.split(b"|") for line in written.split(b"\r") if line.startswith(b"OBX|")]
    assert [(f[2], f[5], f[6]) for f in obx] == [(b"TM", b"1230", b""), (b"DR", b"20240101^20240131", b""),
                                                 (b"MO", b"12.50^USD", b"")]
    again = decode(written)
    assert [m.value for m in again.metrics] == [m.value for m in msg.metrics]


@pytest.mark.parametrize(("vtype", "value", "code"), [
    ("XX", "junk", "hl7v2.unsupported-value-type"),
    ("DR", "2024XX01", "hl7v2.bad-value"),
    ("MO", "12^DOLLARS", "hl7v2.bad-value"),
    ("MO", "abc^USD", "hl7v2.bad-value"),
    ("MA", "a^b~c", "hl7v2.bad-value"),
    ("SN", "!^5", "hl7v2.bad-value"),
])
def test_unknown_or_invalid_value_is_an_issue_with_position(vtype, value, code):
    msg = decode((HEAD + f"OBX|1|{vtype}|1^x^L||{value}||||||F\r").encode())
    (issue,) = [i for i in msg.issues if i.code == code]
    assert issue.location in ("OBX[1]-2", "OBX[1]-5") and issue.offset is not None
    assert msg.metrics[0].value.text == value  # kept as text, nothing dropped
    to_fhir(msg, "R4").to_model()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vtype=st.sampled_from(sorted(RARE_TYPES | {"SN", "TM", "NA"})),
       value=st.text(alphabet=st.sampled_from("0123456789²١٣.-+<>=:/^&~\\ABCDXZ USD"), max_size=30))
def test_rare_types_only_raise_decode_error(vtype, value):
    """Non-ASCII digits ('²', '١'), delimiters and escapes in any rare-type value: DecodeError or a value."""
    try:
        msg = decode((HEAD + f"OBX|1|{vtype}|1^x^L||{value}|mV^mV^UCUM|||||F\r").encode())
    except DecodeError:
        return
    to_fhir(msg, "R4").to_model()
    to_fhir(msg, "R5").to_model()


def test_explain_links_every_value_row_to_its_value_element():
    """`interop explain` lineage: OBX[n]-5 of every row feeds its value[x] (valuePeriod, valueTime included)."""
    from interop.lineage import lineage

    msg, _ = _decode()
    links = {(link.source, link.element) for link in lineage(msg, to_fhir(msg, "R4").resources)}
    assert {("OBX[10]-5", "valuePeriod"), ("OBX[15]-5", "valueTime"), ("OBX[13]-5", "valueQuantity"),
            ("OBX[12]-5", "valueSampledData"), ("OBX[8]-5", "valueCodeableConcept"),
            ("OBX[1]-5", "valueString")} <= links
    valued = {source for source, element in links if source.endswith("-5") and element.startswith("value")}
    assert valued == {f"OBX[{n}]-5" for n in range(1, len(ROWS) + 1)}
