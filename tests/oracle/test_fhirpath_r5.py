"""R5 (and R4) outputs: fhir.resources accepts every Bundle, and FHIRPath invariants hold (fhirpathpy, r5 model).

Invariants are quoted from the FHIR R5 5.0.0 specification (key, context, expression as published; rule
text shortened). Each is evaluated on every element its context selects, in every resource of every
example's R5 Bundle (collection and transaction); an element fails when the expression gives false.
ele-1 ("All FHIR elements must have a @value or children") is checked directly on the JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

import interop

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))
R5 = models["r5"]

# (key, resource type or "*", context FHIRPath from the resource, invariant expression). fhirpathpy 2.2 lacks
# hasValue(); it is written exists(), the same for primitives that carry no extension (ours never do).
INVARIANTS: tuple[tuple[str, str, str, str], ...] = (
    ("bdl-1", "Bundle", "Bundle", "total.empty() or (type = 'searchset') or (type = 'history')"),
    ("bdl-2", "Bundle", "Bundle", "(type = 'searchset') or entry.search.empty()"),
    ("bdl-7", "Bundle", "Bundle", "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&iif("
                                  "resource.meta.versionId.exists(), resource.meta.versionId, '')).isDistinct()"),
    ("bdl-9", "Bundle", "Bundle", "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"),
    ("bdl-10", "Bundle", "Bundle", "type = 'document' implies (timestamp.exists())"),
    ("bdl-5", "Bundle", "Bundle.entry", "resource.exists() or request.exists() or response.exists()"),
    ("bdl-8", "Bundle", "Bundle.entry", "fullUrl.exists() implies fullUrl.contains('/_history/').not()"),
    # Bundle.entry.request: "must be present for batch/transaction/history" (Bundle.entry.request definition)
    ("bdl-3a", "Bundle", "Bundle", "(type = 'transaction' or type = 'batch' or type = 'history') implies "
                                   "entry.all(request.exists())"),
    ("dom-2", "*", "%resource", "contained.contained.empty()"),
    ("dom-4", "*", "%resource", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"),
    ("dom-5", "*", "%resource", "contained.meta.security.empty()"),
    ("ext-1", "*", "%resource.descendants().ofType(Extension)", "extension.exists() != value.exists()"),
    ("qty-3", "*", "%resource.descendants().ofType(Quantity)", "code.empty() or system.exists()"),
    ("per-1", "*", "%resource.descendants().ofType(Period)",
     "start.exists().not() or end.exists().not() or (start <= end)"),
    ("att-1", "*", "%resource.descendants().ofType(Attachment)", "data.empty() or contentType.exists()"),
    ("cod-1", "*", "%resource.descendants().ofType(Coding)", "code.exists().not() implies display.exists().not()"),
    ("sdd-1", "*", "%resource.descendants().ofType(SampledData)", "interval.exists().not() xor offsets.exists().not()"),
    ("obs-6", "Observation", "Observation", "dataAbsentReason.empty() or value.empty()"),
    ("obs-7", "Observation", "Observation",
     "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()"),
    ("obs-8", "Observation", "Observation", "bodyStructure.exists() implies bodySite.empty()"),
    ("pat-1", "Patient", "Patient.contact",
     "name.exists() or telecom.exists() or address.exists() or organization.exists()"),
)


def _label(p: Path) -> str:
    return p.relative_to(ROOT / "examples").as_posix()


@cache
def _bundles(path: Path, version: str = "R5") -> tuple[Any, ...]:
    msg = interop.decode(path)
    return tuple(interop.to_fhir(msg, version, bundle_type=t) for t in ("collection", "transaction"))


def _failures(resource: dict[str, Any]) -> Iterator[str]:
    env = {"resource": resource, "rootResource": resource}
    for key, rtype, context, expression in INVARIANTS:
        if rtype != resource["resourceType"] and (rtype != "*" or resource["resourceType"] == "Bundle"):
            continue  # a Bundle's entries are checked one by one
        # evaluated from the resource, so that the model types each element (choice types such as value[x])
        failed = fhirpathpy.evaluate(resource, f"{context}.where(({expression}).not()).count()", env, R5)
        if failed != [0]:
            yield f"{resource['resourceType']}/{resource.get('id')} {key}: {failed} element(s) at {context}"


def _empty_elements(node: Any, path: str) -> Iterator[str]:
    """ele-1 on JSON: no null, no empty object, array or string anywhere."""
    if node is None or node == "" or node == [] or node == {}:
        yield path
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _empty_elements(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _empty_elements(v, f"{path}[{i}]")


@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_r5_invariants_hold(path: Path) -> None:
    bad: list[str] = []
    for bundle in _bundles(path):
        data = bundle.as_dict()
        bad += _failures(data)
        for entry in data["entry"]:
            bad += _failures(entry["resource"])
        bad += [f"ele-1 at {p}" for p in _empty_elements(data, "Bundle")]
    assert bad == []


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_fhir_resources_accepts_the_bundle(path: Path, version: str) -> None:
    """fhir.resources (R5, and R4B for R4) parses and validates every Bundle."""
    for bundle in _bundles(path, version):
        model = bundle.to_model()
        assert len(model.entry or []) == len(bundle.resources)


def test_invariants_catch_defects() -> None:
    """Controls: each kind of context is reached and a violation is reported."""
    obs = {"resourceType": "Observation", "id": "x", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "valueQuantity": {"value": 1, "code": "/min"},  # qty-3: code without system
           "dataAbsentReason": {"coding": [{"display": "no code"}]},  # obs-6, cod-1
           "effectivePeriod": {"start": "2024-01-02", "end": "2024-01-01"},  # per-1
           "extension": [{"url": "http://example.org/x"}],  # ext-1
           "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}]}  # obs-7
    found = {f.split()[1].rstrip(":") for f in _failures(obs)}
    assert found == {"qty-3", "obs-6", "cod-1", "per-1", "ext-1", "obs-7"}
    bundle = {"resourceType": "Bundle", "id": "b", "type": "transaction",
              "entry": [{"fullUrl": "urn:uuid:1", "resource": obs}, {"fullUrl": "urn:uuid:1"}]}
    assert {f.split()[1].rstrip(":") for f in _failures(bundle)} == {"bdl-7", "bdl-5", "bdl-3a"}
    assert list(_empty_elements({"a": {"b": []}, "c": ""}, "X")) == ["X.a.b", "X.c"]


# FHIR R5 vital signs profile (observation-vitalsigns): invariants, and what it makes 1..1, for every
# Observation whose code carries a LOINC code of ValueSet observation-vitalsignresult.
VITAL_LOINC = {"85353-1", "9279-1", "8867-4", "2708-6", "59408-5", "8310-5", "8302-2", "9843-4", "29463-7",
               "39156-5", "85354-9", "8480-6", "8462-4", "8478-0"}
VITAL_INVARIANTS = (
    ("vs-1", "Observation.effective.ofType(dateTime)", "$this.toString().length() >= 8"),
    ("vs-2", "Observation",
     "(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())"),
    ("vs-3", "Observation.component", "value.exists() or dataAbsentReason.exists()"),
    ("VSCat", "Observation", "category.coding.where(system = 'http://terminology.hl7.org/CodeSystem/"
                             "observation-category' and code = 'vital-signs').exists()"),
    ("subject", "Observation", "subject.exists()"),
    ("effective", "Observation", "effective.exists()"),
)
DECLARED = {"subject": "phd.no-subject", "effective": "phd.no-effective"}  # the mapping said it lacks them


def _vital_failures(resource: dict[str, Any], declared: set[str]) -> Iterator[str]:
    codes = {c.get("code") for c in resource.get("code", {}).get("coding", []) if c.get("system") == "http://loinc.org"}
    if resource["resourceType"] != "Observation" or not codes & VITAL_LOINC:
        return
    for key, context, expression in VITAL_INVARIANTS:
        if DECLARED.get(key) in declared:
            continue
        failed = fhirpathpy.evaluate(resource, f"{context}.where(({expression}).not()).count()", {}, R5)
        if failed != [0]:
            yield f"Observation/{resource['id']} {key}"


@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_r5_vital_signs(path: Path) -> None:
    bad: list[str] = []
    for bundle in _bundles(path):
        declared = {i.code for i in bundle.issues}
        for entry in bundle.as_dict()["entry"]:
            bad += _vital_failures(entry["resource"], declared)
    assert bad == []


def test_vital_signs_checks_catch_defects() -> None:
    obs = {"resourceType": "Observation", "id": "v", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
           "effectiveDateTime": "2024-01", "component": [{"code": {"text": "systolic"}}]}
    assert {f.split()[1] for f in _vital_failures(obs, set())} == {"vs-1", "vs-3", "VSCat", "subject"}
    assert {f.split()[1] for f in _vital_failures(obs, {"phd.no-subject"})} == {"vs-1", "vs-3", "VSCat"}
    del obs["component"], obs["effectiveDateTime"]
    assert {f.split()[1] for f in _vital_failures(obs, set())} == {"vs-2", "VSCat", "subject", "effective"}
