"""FHIR-* assertions: the project's own Bundles, and @medplum/core validateResource as the oracle.

medplum (tests/oracle/validate.mjs, R4, offline) validates each entry against its resource type and
the vital signs profiles its LOINC code implies, and evaluates the R4 invariants. Where it overlaps
the fhir-r4 rules (structure, bdl-3, bdl-7, references in the Bundle, obs-6, obs-7, vital signs
category / subject / effective / blood pressure components), both must report the same assertions
on the same inputs, except the disagreements listed below with their reason.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import yaml
from interop.conformance.checks import fhir

from tests.oracle import medplum

from .corpus_inputs import ROOT, corpus_dir

CATALOGUE = ROOT / "conformance" / "assertions" / "fhir.yaml"
OVERLAP = {"FHIR-RES-001", "FHIR-BDL-001", "FHIR-BDL-002", "FHIR-BDL-004", "FHIR-OBS-001", "FHIR-OBS-002",
           "FHIR-VS-001", "FHIR-VS-002", "FHIR-VS-003", "FHIR-VS-005"}
# input -> (assertions only medplum reports, assertions only we report, why)
DISAGREEMENTS = {
    "FHIR-OBS-002": (set(), {"FHIR-OBS-002"}, "medplum does not report obs-7 for a component that repeats "
                     "Observation.code with an identical coding while valueQuantity is present"),
}
BP_SLICES = ("medplum counts 0 components in the SystolicBP / DiastolicBP slices of every blood pressure panel, "
             "even with LOINC-only component codes 8480-6 / 8462-4 (tried by hand); the components are there and "
             "FHIR-VS-005 finds them")


def medplum_ids(result: dict) -> set[str]:
    """Our assertion ids for the medplum error findings inside the overlap."""
    out = set()
    for f in result["findings"]:
        if f["severity"] not in ("error", "fatal"):
            continue
        details = f.get("details") or ""
        expr = " ".join(f.get("expression") or ()) if isinstance(f.get("expression"), list) else str(f.get("expression"))
        if "bdl-7" in details:
            out.add("FHIR-BDL-001")
        elif "bdl-3" in details:
            out.add("FHIR-BDL-004")
        elif "no entry fullUrl" in details:
            out.add("FHIR-BDL-002")
        elif "obs-6" in details:
            out.add("FHIR-OBS-001")
        elif "obs-7" in details:
            out.add("FHIR-OBS-002")
        elif "slice 'SystolicBP'" in details or "slice 'DiastolicBP'" in details:
            out.add("FHIR-VS-005")
        elif details == "Missing required property" and expr.endswith("Observation.subject"):
            out.add("FHIR-VS-002")
        elif details == "Missing required property" and expr.endswith("Observation.category"):
            out.add("FHIR-VS-001")
        elif details == "Missing required property" and "effective" in expr:
            out.add("FHIR-VS-003")
        elif f.get("code") in ("structure", "invalid", "value") and "Constraint" not in details:
            out.add("FHIR-RES-001")
    return out


def our_ids(data: bytes) -> set[str]:
    return {h[0] for h in fhir.check(data) if h[0] in OVERLAP}


def catalogue() -> list[dict]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["assertions"]


def project_outputs() -> list[tuple[str, bytes]]:
    """The Bundles this project emits for the example and corpus inputs it translates."""
    from interop import decode, to_fhir
    from interop.errors import InteropError

    sources = sorted((ROOT / "examples" / "x73").glob("*.x73")) + sorted((ROOT / "examples" / "hl7v2").glob("*.hl7"))
    sources += sorted((ROOT / "examples" / "dicom").glob("*.dcm")) + sorted((corpus_dir() / "hl7v2").glob("*.hl7"))
    out = []
    for path in sources:
        try:
            out.append((path.name, to_fhir(decode(path.read_bytes()), version="R4").json()))
        except InteropError:
            continue  # not translatable: nothing emitted, nothing to compare
    return out


def inputs() -> list[tuple[str, bytes]]:
    items = [("base:pcd01", fhir.build_case("pcd01.json")), ("base:phd-bp", fhir.build_case("phd-bp.json"))]
    items += [(row["id"], fhir.build_case(row["cases"]["fail"])) for row in catalogue() if row["id"] in OVERLAP]
    return items + project_outputs()


def _is_bp_panel(data: bytes) -> bool:
    return b'"85354-9"' in data


def test_medplum_agrees_where_it_overlaps():
    items = inputs()
    results = medplum.validate([data for _, data in items])
    differ = {}
    for (name, data), result in zip(items, results, strict=True):
        theirs, ours = medplum_ids(result), our_ids(data)
        if _is_bp_panel(data):
            theirs.discard("FHIR-VS-005")  # BP_SLICES
            if name == "FHIR-VS-005":
                continue  # the crafted panel without its systolic component: medplum says so for every panel
        if theirs != ours:
            differ[name] = (theirs - ours, ours - theirs)
    expected = {name: (only_theirs, only_ours) for name, (only_theirs, only_ours, _why) in DISAGREEMENTS.items()}
    assert differ == expected
    # the crafted failing cases inside the overlap are reported by medplum too (not vacuous agreement)
    by_name = dict(zip([n for n, _ in items], results, strict=True))
    for rid in OVERLAP - set(DISAGREEMENTS) - {"FHIR-VS-005"}:
        assert rid in medplum_ids(by_name[rid]), rid


NOT_POCD = {"FHIR-PHD-001", "FHIR-PHD-002", "FHIR-PHD-003", "FHIR-PHD-004", "FHIR-PHD-005"}


def test_pcd01_output_conforms():
    """The PoCD Bundle of a PCD-01 feed with its MDS/VMD/channel hierarchy: nothing under fhir-r4 and PoCD."""
    data = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
    assert {h[0] for h in fhir.check(data)} - NOT_POCD == set()


def test_pcd01_without_equipment_pinned():
    """A PCD-01 message whose OBX rows name no equipment (no OBX-18, no MDS rows): its Observations cannot
    refer to a device, which the PoCD IG requires (one FHIR-POCD-001 per Observation)."""
    data = (ROOT / "examples" / "hl7v2" / "pcd01-custom-delimiters.hl7").read_bytes()
    got = Counter(h[0] for h in fhir.check(data) if h[0] not in NOT_POCD)
    assert got == Counter({"FHIR-POCD-001": 6})


def test_phd_output_findings_pinned():
    """A 20601 session carries no patient: the PHD Bundle's vital signs lack the subject the vital signs
    profile requires (FHIR-VS-002, one per Observation); nothing else is reported."""
    got = Counter(h[0] for h in fhir.check((ROOT / "examples" / "x73" / "bp-0x02BC.x73").read_bytes()))
    assert got == Counter({"FHIR-VS-002": 4})


def test_json_bundle_given_is_checked_as_is():
    data = fhir.build_case({"base": "pcd01.json", "set": {"entry[15].resource.status": "done"}})
    hits = [h for h in fhir.check(data) if h[0] == "FHIR-OBS-003"]
    assert hits == [("FHIR-OBS-003", "Bundle.entry[15].resource.status",
                     "status 'done' is not in the required value set observation-status")]
    doc = json.loads(data)
    assert doc["entry"][15]["resource"]["status"] == "done"


def test_unreadable_input_is_one_finding():
    assert fhir.check(b'{"id": 1}') == [("FHIR-RES-000", "$", "$: fhir decode error: JSON without resourceType; "
                                                                  "expected a FHIR resource or Bundle")]


def test_r5_bases_are_checked_with_r5_models():
    data = fhir.build_case("pcd01-r5.json")
    assert [h for h in fhir.check(data, "R5") if h[0] == "FHIR-RES-001"] == []
    assert [h for h in fhir.check(data, "R4") if h[0] == "FHIR-RES-001"] != []  # R5 Device/Provenance shapes


def test_examples_of_each_assertion_are_the_catalogue_cases():
    rows = catalogue()
    assert {r["id"] for r in rows} == set(fhir.RULES) | {"FHIR-RES-000"}
    assert Path(fhir.CASES_DIR / "pcd01.json").is_file()
