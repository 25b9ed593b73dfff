"""PID-31 identity unknown indicator (HL7 v2 table 0136 'Y'): a device that does not know its patient sends
placeholder identifiers. B. Braun's SpaceStation sends `PID|||Unknown Patient^Unknown Patient|...|Y`
(tests/data/hl7v2/pcd01-bbraun-spacestation-perfusor.hl7, SOURCES.md there). Matched by that identifier,
every unidentified patient of every pump would be one Patient with everyone's infusions; so the Patient of
such a message is its own, and only an identified patient recurs."""

from __future__ import annotations

import json
from pathlib import Path

from interop import decode, to_fhir

BBRAUN = Path(__file__).resolve().parents[1] / "data" / "hl7v2" / "pcd01-bbraun-spacestation-perfusor.hl7"


def _message(control_id: str, *, identity_unknown: bool = True) -> bytes:
    segments = BBRAUN.read_bytes().split(b"\r")
    msh = segments[0].split(b"|")
    msh[9] = control_id.encode()
    segments[0] = b"|".join(msh)
    if not identity_unknown:
        segments[1] = segments[1].rstrip(b"Y")
    return b"\r".join(segments)


def _patients(raw: bytes, bundle_type: str = "collection") -> list[dict]:
    bundle = json.loads(to_fhir(decode(raw), "R4", bundle_type=bundle_type).json())
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]


def test_pid_31_is_read() -> None:
    assert decode(_message("A1")).patient.identity_unknown is True
    assert decode(_message("A1", identity_unknown=False)).patient.identity_unknown is False
    assert not [i for i in decode(_message("A1")).issues if i.location.startswith("PID[1]-31")]


def test_an_unknown_patient_is_one_per_message_and_never_matched_by_its_placeholder() -> None:
    (first,), (second,) = _patients(_message("A1")), _patients(_message("A2"))
    assert first["resource"]["identifier"] == [{"value": "Unknown Patient"}]  # PID-3 kept as sent
    assert second["resource"]["identifier"] == [{"value": "Unknown Patient"}]
    assert first["resource"]["id"] != second["resource"]["id"]
    (entry,) = _patients(_message("A1"), "transaction")
    assert "ifNoneExist" not in entry["request"]
    notes = [(i.code, i.location, i.severity) for i in to_fhir(decode(_message("A1")), "R4").issues]
    assert ("fhir.identity-unknown", "PID-31", "info") in notes


def test_observations_of_two_unknown_patients_do_not_share_a_subject() -> None:
    subjects = set()
    for control_id in ("A1", "A2"):
        bundle = json.loads(to_fhir(decode(_message(control_id)), "R4").json())
        patient = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
        assert observations and {o["subject"]["reference"] for o in observations} == {patient}
        subjects.add(patient)
    assert len(subjects) == 2


def test_without_pid_31_the_same_identifier_is_the_same_patient() -> None:
    (first,), (second,) = (_patients(_message(c, identity_unknown=False)) for c in ("A1", "A2"))
    assert first["resource"]["id"] == second["resource"]["id"]


def test_pid_31_survives_the_way_back_to_hl7v2() -> None:
    import interop

    out = interop.translate(decode(_message("A1")), "hl7v2")
    raw = out if isinstance(out, bytes) else out.json()
    (pid,) = [s for s in raw.split(b"\r") if s.startswith(b"PID|")]
    assert pid.split(b"|")[31] == b"Y"
    assert decode(raw).patient.identity_unknown is True
