"""PID-11 (XAD) → Patient.address and PID-6 (XPN) → extension patient-mothersMaidenName, as the HL7
v2-to-FHIR IG maps them (ConceptMaps PID → Patient, XAD → Address, SAD → Address, XPN → string,
AddressType[Use] / AddressType[Type]); the real NIST PCD-01 message and the CDC ReportStream ELR of
tests/data/hl7v2 (SOURCES.md there), and edits of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop import decode, to_fhir

HL7 = Path(__file__).resolve().parent.parent / "data" / "hl7v2"
MAIDEN = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"


def patient(raw: bytes, version: str = "R4") -> dict:
    bundle = json.loads(to_fhir(decode(raw), version).json())
    (p,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    return p


def with_pid(raw: bytes, n: int, value: str) -> bytes:
    segs = raw.split(b"\r")
    i = next(k for k, s in enumerate(segs) if s.startswith(b"PID|"))
    f = segs[i].split(b"|")
    f += [b""] * (n + 1 - len(f))
    f[n] = value.encode()
    segs[i] = b"|".join(f)
    return b"\r".join(segs)


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_nist_pulse_oximeter_address_and_mothers_maiden_name(version):
    p = patient((HL7 / "pcd01-ihe-pulseox-nist.hl7").read_bytes(), version)
    assert p["address"] == [{"line": ["15 N Saguaro"], "city": "Tucson", "state": "AZ", "postalCode": "85701"}]
    assert p["extension"] == [{"url": MAIDEN, "valueString": "Adams"}]  # PID-6 Adams^^^^^^L: XPN-1


def test_reportstream_county_is_the_district():
    p = patient((HL7 / "cdc-reportstream-elr-covid-ag.hl7").read_bytes())
    assert p["address"] == [{"line": ["12345 Main St"], "city": "San Jose", "district": "06085", "state": "CA",
                             "postalCode": "95125", "country": "USA"}]
    assert "extension" not in p  # no PID-6


def test_address_type_street_parts_repetitions_and_period():
    raw = with_pid((HL7 / "pcd01-ihe-pulseox-nist.hl7").read_bytes(), 11,
                   "15 N Saguaro&Saguaro&15^Apt 2^Tucson^AZ^85701^USA^H^^Pima^^^^20200101^20251231"
                   "~PO Box 7^^Tucson^AZ^85702^USA^M~Old St 1^^Phoenix^AZ^^^BA~Camp 3^^Flagstaff^AZ^^^V")
    p = patient(raw)
    assert p["address"] == [
        {"use": "home", "line": ["15 N Saguaro", "Saguaro", "15", "Apt 2"], "city": "Tucson", "district": "Pima",
         "state": "AZ", "postalCode": "85701", "country": "USA", "period": {"start": "2020-01-01", "end": "2025-12-31"}},
        {"type": "postal", "line": ["PO Box 7"], "city": "Tucson", "state": "AZ", "postalCode": "85702", "country": "USA"},
        {"use": "old", "line": ["Old St 1"], "city": "Phoenix", "state": "AZ"},
        {"line": ["Camp 3"], "city": "Flagstaff", "state": "AZ"},  # V (vacation): no FHIR use/type in the IG
    ]
    notes = [(i.code, i.location, i.severity) for i in to_fhir(decode(raw), "R4").issues if i.code.startswith("fhir.")]
    assert ("fhir.address-type", "PID-11[4].7", "info") in notes


def test_malformed_address_date_is_a_finding_not_a_drop():
    raw = with_pid((HL7 / "pcd01-ihe-pulseox-nist.hl7").read_bytes(), 11, "1 Main St^^Town^^^^^^^^^^2020-13-45")
    msg = decode(raw)
    assert [(a.lines, a.city, a.start) for a in msg.patient.addresses] == [(("1 Main St",), "Town", None)]
    assert [i.location for i in msg.issues if i.location.startswith("PID[1]-11")] == ["PID[1]-11"]


def test_mothers_maiden_name_first_repetition_only():
    raw = with_pid((HL7 / "pcd01-ihe-pulseox-nist.hl7").read_bytes(), 6, "Adams^^^^^^L~Smith^^^^^^M")
    msg = decode(raw)
    assert [n.family for n in msg.patient.mothers_maiden_names] == ["Adams", "Smith"]
    assert patient(raw)["extension"] == [{"url": MAIDEN, "valueString": "Adams"}]  # the extension is 0..1
    (note,) = [i for i in to_fhir(decode(raw), "R4").issues if i.code == "fhir.mothers-maiden-name"]
    assert (note.location, note.severity) == ("PID-6", "info") and note.message.startswith("1 further repetition")
