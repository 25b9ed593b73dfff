"""Issue 13 acceptance: a transaction Bundle posted twice to a real FHIR server creates nothing new the second
time, and an untimed reading sent twice is two Observations.

The server is Medplum's FHIR engine (@medplum/fhir-router, tests/fhirserver) on 127.0.0.1; Bundles go through
the project's own FHIR sink (interop.transport.sink.FhirServerSink: what `serve … --forward URL` uses, which
cuts a transaction Medplum refuses as too large into ones it accepts). Conditional creates (Device, Patient,
timed PHD Observations: `ifNoneExist` on the identifier spelled as stored) and PUT by deterministic id for the
rest make a re-delivery a no-op on the server. Counted by FHIR search, per resource type of the Bundle.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from interop import decode, to_fhir

ROOT = Path(__file__).resolve().parents[2]
INPUTS = {
    "x73 blood pressure (20601 association)": ROOT / "examples" / "x73" / "bp-0x02BC.x73",
    "GATT blood pressure": ROOT / "examples" / "gatt" / "blood_pressure.gatt",
    "PCD-01 vital signs": ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7",
    "DICOM CT radiation dose SR": ROOT / "examples" / "dicom" / "sr_ct_radiation_dose.dcm",
}


@pytest.fixture(scope="module")
def fhir():
    from fhirserver import FhirServer

    with FhirServer() as server:
        yield server


def _transaction(source: bytes | Path) -> bytes:
    return to_fhir(decode(source), "R4", bundle_type="transaction").json()


def _counts(fhir, types: set[str]) -> Counter:
    return Counter({t: fhir.count(t) for t in sorted(types)})


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_posted_twice_creates_nothing_new(fhir, name: str) -> None:
    from interop.transport.sink import FhirServerSink

    data = _transaction(INPUTS[name])
    types = {e["resource"]["resourceType"] for e in json.loads(data)["entry"]}
    sink = FhirServerSink(fhir.base)
    before = _counts(fhir, types)
    sink.emit(data, name)
    first = _counts(fhir, types)
    assert all(first[t] > before[t] for t in types), (name, before, first)  # each type was really written
    sink.emit(data, name)
    assert _counts(fhir, types) == first, name  # the re-delivery created nothing


def test_untimed_reading_twice_is_two_observations(fhir) -> None:
    """GATT PLX continuous measurement (0x2A5F) has no time stamp: the PHG stamps it with the reception time and
    gives it no identifier. The same value received twice, ten minutes apart, is two Observations; each
    message re-delivered is still one."""
    from interop.transport.sink import FhirServerSink

    def reading(received: str) -> bytes:
        return _transaction(b"# characteristic: 2A5F\n# device: 00:1C:05:FF:E8:76\n# received: "
                            + received.encode() + b"\n00 61 00 4b 00\n")  # SpO2 97 %, pulse 75 /min

    device = {"identifier": "http://hl7.org/fhir/sid/eui-48/bluetooth|00-1C-05-FF-E8-76"}
    sink = FhirServerSink(fhir.base)
    first, later = reading("2024-11-30T08:00:00+01:00"), reading("2024-11-30T08:10:00+01:00")
    for data in (first, first, later, later):
        sink.emit(data, "plx")
    (dev,) = fhir.search("Device", device)
    observations = fhir.search("Observation", {"device": f"Device/{dev['id']}"})
    spo2 = sorted(o["effectiveDateTime"] for o in observations if o["code"]["coding"][0]["code"] == "150456")
    assert spo2 == ["2024-11-30T08:00:00+01:00", "2024-11-30T08:10:00+01:00"]
    assert all("identifier" not in o for o in observations)
    assert len(observations) == 4  # SpO2 and pulse rate, twice each
