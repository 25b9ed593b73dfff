"""`interop explain`: field-level lineage from source positions to FHIR elements."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from interop import decode, to_fhir
from interop.lineage import lineage

ROOT = Path(__file__).resolve().parents[2]


def test_hl7v2_fields_to_observation_elements():
    msg = decode(ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7")
    links = lineage(msg, to_fhir(msg, "R4").resources)
    hr = {(link.source, link.element) for link in links if link.source.startswith("OBX[4]")}
    # the heart-rate row (OBX[4]) has no OBX-14: its time is OBR[1]-7's
    assert hr == {("OBX[4]-3", "code"), ("OBX[4]-5", "valueQuantity"), ("OBX[4]-6", "valueQuantity.unit"),
                  ("OBX[4]-7", "referenceRange"), ("OBX[4]-11", "status"), ("OBX[4]-4", "device"),
                  ("OBX[4]-14 or OBR[1]-7", "effectiveDateTime")}
    assert {link.offset for link in links if link.source.startswith("OBX[4]")} == {760}


def test_cli_json_lines_for_x73():
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "explain", str(ROOT / "examples" / "x73" /
                        "bp-0x02BC.x73"), "--json"], capture_output=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    links = [json.loads(line) for line in r.stdout.splitlines()]
    first = links[0]
    assert first["source"].startswith("APDU 3 handle 1 attr 0x0A75") and first["element"] == "code"
    assert {link["element"] for link in links} >= {"code", "component", "valueQuantity", "effectiveDateTime"}


def test_lineage_of_specimen_and_attachments():
    """OUL^R22 (tests/data/hl7v2): SPM fields → Specimen elements, SPM → Observation.specimen, ED OBX-5 →
    R5 valueAttachment and R4 DocumentReference.content."""
    msg = decode(ROOT / "tests" / "data" / "hl7v2" / "msfc-OUL-R22-01.hl7")
    r5 = lineage(msg, to_fhir(msg, "R5").resources)
    spm = {(link.source, link.element) for link in r5 if link.resource.startswith("Specimen/")}
    assert spm == {("SPM[1]-2", "identifier"), ("SPM[1]-3", "parent"), ("SPM[1]-4", "type"), ("SPM[1]-11", "role")}
    assert ("SPM[1]", "specimen") in {(link.source, link.element) for link in r5 if link.source == "SPM[1]"}
    assert ("OBX[5]-5", "valueAttachment") in {(link.source, link.element) for link in r5}
    r4 = lineage(msg, to_fhir(msg, "R4").resources)
    doc = {(link.source, link.element) for link in r4 if link.resource.startswith("DocumentReference/")}
    assert {("OBX[5]-5", "content"), ("OBX[5]-3", "type"), ("OBX[4]-5", "content")} <= doc
    assert ("SPM[1]-11", "extension") in {(link.source, link.element) for link in r4}


def test_lineage_of_adt_and_lab_envelopes():
    """ADT A03 (PID → Patient, PV1 → Encounter, MSH-9 trigger → status) and a lab ELR (OBR → ServiceRequest
    and DiagnosticReport): explain covers every message type, not only device metrics."""
    adt = decode(ROOT / "tests" / "data" / "hl7v2" / "msfc-ADT-A03-01.hl7")
    links = {(re.sub(r"\[\d+\]", "", link.source), link.resource.split("/")[0], link.element)
             for link in lineage(adt, to_fhir(adt, "R4").resources)}
    assert {("PID-3", "Patient", "identifier"), ("PID-5", "Patient", "name"), ("PV1-19", "Encounter", "identifier"),
            ("MSH-9.2 (trigger event)", "Encounter", "status")} <= links
    elr = decode(ROOT / "tests" / "data" / "hl7v2" / "cdc-reportstream-elr-covid-ag.hl7")  # a batch of one
    links = {(link.source, link.resource.split("/")[0], link.element)
             for link in lineage(elr, to_fhir(elr, "R5").resources)}
    assert {("OBR[1]-2", "DiagnosticReport", "identifier"), ("OBR[1]-3", "ServiceRequest", "identifier"),
            ("OBR[1]-25", "DiagnosticReport", "status"), ("OBR[1]-7", "DiagnosticReport", "effectiveDateTime"),
            ("SPM[1]-17", "Specimen", "collection.collectedDateTime")} <= links
