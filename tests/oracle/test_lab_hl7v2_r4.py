"""Lab HL7 v2 (SPM → Specimen, ED/RP → DocumentReference, lab ORU/OUL → ServiceRequest + DiagnosticReport)
translated to FHIR R4 passes the independent validator @medplum/core (collection and transaction Bundles)."""

from __future__ import annotations

from pathlib import Path

import pytest

import interop

from .medplum import brief, errors, validate

ROOT = Path(__file__).resolve().parents[2]
INPUTS = [ROOT / "tests" / "data" / "hl7v2" / "cdc-reportstream-elr-covid-ag.hl7",
          ROOT / "tests" / "data" / "hl7v2" / "msfc-OUL-R22-01.hl7",
          ROOT / "tests" / "hl7v2" / "data" / "msfc-LRI_2.0-NG_CBC_Typ_Message.hl7"]
FULL = (b"MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|S1|P|2.5.1\r"
        b"PID|||1^^^H^MR||Doe^Jane\r"
        b"OBR|1|P1|F1|11502-2^Laboratory report^LN|||20240102030000+0100\r"
        b"OBX|1|ED|18842-5^Discharge summary^LN||^application^pdf^Base64^JVBERi0xLjQK||||||F|||20240102030000+0100\r"
        b"OBX|2|RP|18842-5^Discharge summary^LN||http://example.org/r/1.pdf^^AP^PDF||||||F\r"
        b"SPM|1|SP-1&PLACER^SP-1F&FILLER|PARENT-1&PLACER|119297000^Blood specimen^SCT||"
        b"TUBE-GEL^Gel^L|28520004^Venipuncture^SCT|49852007^Structure of median cubital vein^SCT|||"
        b"P^Patient^HL70369|5^mL&milliliter&UCUM||Fasting sample|||"
        b"202401020200+0100^202401020215+0100|202401020250+0100||N|RB^Broken container^HL70490|||"
        b"HEM^Hemolyzed^HL70493|||SST^Serum separator tube^HL70785\r")


def _bundles(bundle_type: str) -> list[bytes]:
    out = []
    for path in INPUTS:
        (msg,) = [m for m in interop.decode_all(path)]
        out.append(interop.to_fhir(msg, "R4", bundle_type=bundle_type).json())
    out.append(interop.to_fhir(interop.decode(FULL), "R4", bundle_type=bundle_type).json())
    return out


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_lab_bundles_pass_medplum(bundle_type):
    import orjson

    bundles = _bundles(bundle_type)
    kinds = {e["resource"]["resourceType"] for b in bundles for e in orjson.loads(b)["entry"]}
    assert {"Specimen", "DocumentReference", "ServiceRequest", "DiagnosticReport"} <= kinds
    results = validate(bundles)
    assert [r["entries"] for r in results] == [len(orjson.loads(b)["entry"]) for b in bundles]
    for result in results:
        assert errors(result) == [], brief(errors(result))


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_lab_bundles_hold_the_r5_invariants(bundle_type):
    """The same inputs as FHIR R5 (valueAttachment, Specimen.role, collection.bodySite as CodeableReference):
    the invariants test_fhirpath_r5 evaluates with fhirpathpy (att-1, obs-6, per-1, ele-1 ...)."""
    import orjson

    from .test_fhirpath_r5 import _empty_elements, _failures

    bad: list[str] = []
    messages = [m for path in INPUTS for m in interop.decode_all(path)] + [interop.decode(FULL + ODD)]
    for msg in messages:
        data = orjson.loads(interop.to_fhir(msg, "R5", bundle_type=bundle_type).json())
        for entry in data["entry"]:
            bad += _failures(entry["resource"])
        bad += [f"ele-1 at {p}" for p in _empty_elements(data, "Bundle")]
    assert bad == []


ODD = b"OBX|3|ED|18842-5^Discharge summary^LN||^XX^YY^A^plain text||||||F\r"  # no MIME type named
