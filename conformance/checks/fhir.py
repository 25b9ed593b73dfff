"""FHIR assertions on what this project emits, or on any FHIR JSON given (profiles fhir-r4, fhir-r5, phd, pocd).

The input is a FHIR JSON resource or Bundle; any other input (an HL7 v2 message, a 20601 trace, a
DICOM file) is first translated with the project's own pipeline (`decode` → `to_fhir`), so
`interop validate trace.x73 --profile phd` checks the Bundle the project would send.

Structure is checked with fhir.resources (R4B models for R4, R5 models for R5): the typed models
are the reference data. Invariants (bdl-7, obs-6, obs-7, qty-3 ...), required bindings, the
vital-signs profile, the HL7 PHD IG and PoCD IG constraints and MDC↔UCUM↔LOINC consistency are
written here because no offline validator covers them (DESIGN.md, "Conformance vocabulary");
the terminology tables of `interop/terminology/` are the reference for codes and units.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from interop.text import is_ascii_digits

from .base import Context, fatal_check, rule_registry

Hit = tuple[str, str]
Rule = Callable[["FhirInput"], Iterator[Hit]]
RULES: dict[str, Rule] = {}
rule = rule_registry(RULES)
fatal_check("FHIR-RES-000")  # not FHIR JSON and not translatable: reported once, nothing else runs
fatal_check("FHIR-R5-RES-000")


MDC = "urn:iso:std:iso:11073:10101"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DAR_CODES = frozenset({"unknown", "asked-unknown", "temp-unknown", "not-asked", "asked-declined", "masked",
                       "not-applicable", "unsupported", "as-text", "error", "not-a-number", "negative-infinity",
                       "positive-infinity", "not-performed", "not-permitted"})  # R4 ValueSet data-absent-reason
OBS_STATUS = frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                        "entered-in-error", "unknown"})  # R4 ValueSet observation-status (required)
PHD_PREFIX = "http://hl7.org/fhir/uv/phd/StructureDefinition/"
CONTINUA_IDS = "http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers"
ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
UUID_URN = re.compile(r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EUI64_DASHED = re.compile(r"^([0-9A-F]{2}-){7}[0-9A-F]{2}$")
# FHIR R4 vital signs profiles (http://hl7.org/fhir/R4/observation-vitalsigns.html): LOINC -> allowed UCUM units
VITAL_UNITS = {
    "9279-1": ("/min",), "8867-4": ("/min",), "2708-6": ("%",), "59408-5": ("%",), "8310-5": ("Cel", "[degF]"),
    "8302-2": ("cm", "[in_i]"), "9843-4": ("cm", "[in_i]"), "29463-7": ("g", "kg", "[lb_av]"),
    "39156-5": ("kg/m2",), "8480-6": ("mm[Hg]",), "8462-4": ("mm[Hg]",), "8478-0": ("mm[Hg]",),
}
BP_PANEL, SYSTOLIC, DIASTOLIC = "85354-9", "8480-6", "8462-4"


@dataclass
class FhirInput:
    """A Bundle (or single resource) as JSON, with its resources indexed."""

    doc: dict[str, Any]
    version: str = "R4"
    source: str = "json"  # "json" given, or the standard it was translated from
    entries: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)  # (path, resource, fullUrl)

    def __post_init__(self) -> None:
        if self.doc.get("resourceType") == "Bundle":
            for i, e in enumerate(self.doc.get("entry") or ()):
                if isinstance(e, dict) and isinstance(e.get("resource"), dict):
                    self.entries.append((f"Bundle.entry[{i}].resource", e["resource"], e.get("fullUrl")))
        else:
            self.entries.append((self.doc.get("resourceType", "Resource"), self.doc, None))

    def resources(self, kind: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        for path, r, _ in self.entries:
            if kind is None or r.get("resourceType") == kind:
                yield path, r

    def index(self) -> dict[str, dict[str, Any]]:
        """Reference → resource for every entry: fullUrl and Type/id."""
        out: dict[str, dict[str, Any]] = {}
        for _, r, full in self.entries:
            if full:
                out[full] = r
            if r.get("id"):
                out[f"{r.get('resourceType')}/{r['id']}"] = r
        return out


def from_bytes(data: bytes, version: str = "R4") -> FhirInput:
    """FHIR JSON as given, or the project's own translation of any other input (raises InteropError)."""
    head = data.lstrip()[:1]
    if head == b"{":
        doc = json.loads(data)
        if not isinstance(doc, dict) or "resourceType" not in doc:
            from interop.errors import DecodeError

            raise DecodeError("JSON without resourceType", standard="fhir", position="$",
                              expected="a FHIR resource or Bundle")
        return FhirInput(doc, version, "json")
    from interop import decode, to_fhir

    msg = decode(data)
    bundle = to_fhir(msg, version=version)
    return FhirInput(json.loads(bundle.json()), version, msg.standard)


def codings(cc: Any) -> list[dict[str, Any]]:
    return [c for c in (cc or {}).get("coding") or () if isinstance(c, dict)] if isinstance(cc, dict) else []


def coding(cc: Any, system: str) -> dict[str, Any] | None:
    return next((c for c in codings(cc) if c.get("system") == system), None)


def value_keys(r: dict[str, Any]) -> list[str]:
    return [k for k in r if k.startswith("value") and k != "value"]


def _mdc():
    from interop.terminology import mdc
    return mdc


# ========================================================================================= resource validity
@rule("FHIR-RES-001")
def resources_valid(ctx: FhirInput) -> Iterator[Hit]:
    """Each resource parses in the typed models of its version (fhir.resources)."""
    from pydantic import ValidationError

    package = "fhir.resources.R4B" if ctx.version == "R4" else "fhir.resources"
    import importlib

    for path, r in ctx.resources():
        kind = r.get("resourceType")
        try:
            module = importlib.import_module(f"{package}.{kind.lower()}")
            model = getattr(module, kind)
        except (ImportError, AttributeError, TypeError):
            yield path, f"resourceType {kind!r} is not a FHIR {ctx.version} resource"
            continue
        try:
            model.model_validate(r)
        except ValidationError as exc:
            for err in exc.errors()[:5]:
                loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
                yield f"{path}.{loc}" if loc else path, f"{err.get('msg', 'invalid')} ({err.get('type', '')})"


@rule("FHIR-RES-002")
def ids_valid(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources():
        rid = r.get("id")
        if rid is not None and not (isinstance(rid, str) and ID_RE.match(rid)):
            yield f"{path}.id", f"id {rid!r} is not [A-Za-z0-9-.]{{1,64}}"


# ========================================================================================= Bundle
@rule("FHIR-BDL-001")
def full_urls_unique(ctx: FhirInput) -> Iterator[Hit]:
    seen: dict[str, int] = {}
    for i, e in enumerate(ctx.doc.get("entry") or ()):
        full = e.get("fullUrl") if isinstance(e, dict) else None
        if not full:
            continue
        version = ((e.get("resource") or {}).get("meta") or {}).get("versionId")
        key = f"{full}|{version}"
        if key in seen:
            yield f"Bundle.entry[{i}].fullUrl", f"fullUrl {full} already used by entry {seen[key]} (bdl-7)"
        seen.setdefault(key, i)


def _references(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and set(node) <= {"reference", "display", "type", "identifier", "extension", "id"}:
            yield path, ref
        for k, v in node.items():
            if k != "reference":
                yield from _references(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _references(v, f"{path}[{i}]")


@rule("FHIR-BDL-002")
def references_resolve(ctx: FhirInput) -> Iterator[Hit]:
    if ctx.doc.get("resourceType") != "Bundle":
        return
    index = ctx.index()
    for path, r in ctx.resources():
        for where, ref in _references(r, path):
            if ref.startswith("#"):
                continue  # contained resource
            if ref.startswith(("urn:uuid:", "urn:oid:")) and ref not in index:
                yield where, f"reference {ref} does not resolve to an entry of the Bundle"
            elif not ref.startswith(("urn:", "http://", "https://")) and ref not in index \
                    and ctx.doc.get("type") in ("transaction", "batch", "collection", "document"):
                yield where, f"relative reference {ref} has no entry in the Bundle"


@rule("FHIR-BDL-003")
def full_url_form(ctx: FhirInput) -> Iterator[Hit]:
    for i, e in enumerate(ctx.doc.get("entry") or ()):
        full = e.get("fullUrl") if isinstance(e, dict) else None
        r = e.get("resource") if isinstance(e, dict) else None
        if not full or not isinstance(r, dict):
            continue
        if full.startswith("urn:uuid:") and not UUID_URN.match(full):
            yield f"Bundle.entry[{i}].fullUrl", f"{full} is not urn:uuid: followed by an RFC 4122 UUID"
        elif full.startswith(("http://", "https://")):
            if "/_history/" in full:
                yield f"Bundle.entry[{i}].fullUrl", "fullUrl is a version specific reference (bdl-8)"
            elif r.get("id") and not full.endswith(f"/{r.get('resourceType')}/{r['id']}"):
                yield f"Bundle.entry[{i}].fullUrl", f"RESTful fullUrl {full} does not end with the resource's type/id"


@rule("FHIR-BDL-004")
def request_per_type(ctx: FhirInput) -> Iterator[Hit]:
    kind = ctx.doc.get("type")
    for i, e in enumerate(ctx.doc.get("entry") or ()):
        if not isinstance(e, dict):
            continue
        has = "request" in e
        if kind in ("batch", "transaction", "history") and not has:
            yield f"Bundle.entry[{i}]", f"a {kind} entry needs request (bdl-3)"
        elif kind not in ("batch", "transaction", "history") and has:
            yield f"Bundle.entry[{i}].request", f"a {kind} Bundle entry carries no request (bdl-3)"
        req = e.get("request") or {}
        if has and (not req.get("method") or not req.get("url")):
            yield f"Bundle.entry[{i}].request", "request needs method and url (Bundle.entry.request 1..1)"


# ========================================================================================= Observation core
def _observations(ctx: FhirInput) -> Iterator[tuple[str, dict[str, Any]]]:
    return ctx.resources("Observation")


@rule("FHIR-OBS-001")
def value_xor_absent(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in _observations(ctx):
        if "dataAbsentReason" in r and value_keys(r):
            yield path, "dataAbsentReason present together with a value (obs-6)"
        for j, c in enumerate(r.get("component") or ()):
            if "dataAbsentReason" in c and value_keys(c):
                yield f"{path}.component[{j}]", "component has both a value and a dataAbsentReason"


@rule("FHIR-OBS-002")
def code_not_repeated_in_component(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in _observations(ctx):
        own = {(c.get("system"), c.get("code")) for c in codings(r.get("code"))}
        for j, comp in enumerate(r.get("component") or ()):
            same = own & {(c.get("system"), c.get("code")) for c in codings(comp.get("code"))}
            if same and value_keys(r):
                yield f"{path}.component[{j}]", "component repeats Observation.code while Observation.value is present (obs-7)"


@rule("FHIR-OBS-003")
def status_bound(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in _observations(ctx):
        if r.get("status") not in OBS_STATUS:
            yield f"{path}.status", f"status {r.get('status')!r} is not in the required value set observation-status"


def _quantities(ctx: FhirInput) -> Iterator[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any] | None]]:
    """(path, quantity, observation, component or None) of every valueQuantity."""
    for path, r in _observations(ctx):
        if isinstance(r.get("valueQuantity"), dict):
            yield f"{path}.valueQuantity", r["valueQuantity"], r, None
        for j, c in enumerate(r.get("component") or ()):
            if isinstance(c.get("valueQuantity"), dict):
                yield f"{path}.component[{j}].valueQuantity", c["valueQuantity"], r, c


@rule("FHIR-OBS-004")
def quantity_coded(ctx: FhirInput) -> Iterator[Hit]:
    for where, q, _r, _c in _quantities(ctx):
        if "code" in q and "system" not in q:
            yield where, "a unit code without its system (qty-3)"
        elif q.get("system") not in (None, UCUM) and "code" in q:
            yield where, f"unit coded in {q.get('system')}; measurements carry UCUM ({UCUM})"
        elif "value" in q and "code" not in q:
            yield where, "a measured value without a coded unit (UCUM code)"


@rule("FHIR-OBS-005")
def absent_reason_coded(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in _observations(ctx):
        items = [(path, r)] + [(f"{path}.component[{j}]", c) for j, c in enumerate(r.get("component") or ())]
        for where, node in items:
            dar = node.get("dataAbsentReason")
            if dar is None:
                continue
            c = coding(dar, DAR)
            if c is None or c.get("code") not in DAR_CODES:
                yield f"{where}.dataAbsentReason", ("not coded from the data-absent-reason code system "
                                                    "(not-a-number, positive-infinity, error, unknown ...)")


# ========================================================================================= vital signs profile
def _vitals(ctx: FhirInput) -> Iterator[tuple[str, dict[str, Any], str]]:
    for path, r in _observations(ctx):
        loinc = coding(r.get("code"), LOINC)
        code = (loinc or {}).get("code")
        if code in VITAL_UNITS or code == BP_PANEL:
            yield path, r, code


@rule("FHIR-VS-001")
def vital_category(ctx: FhirInput) -> Iterator[Hit]:
    for path, r, code in _vitals(ctx):
        cats = [c for cc in r.get("category") or () for c in codings(cc)]
        if not any(c.get("system") == CATEGORY and c.get("code") == "vital-signs" for c in cats):
            yield f"{path}.category", f"vital sign {code} without category vital-signs (vitalsigns profile, 1..*)"


@rule("FHIR-VS-002")
def vital_subject(ctx: FhirInput) -> Iterator[Hit]:
    for path, r, code in _vitals(ctx):
        if not (r.get("subject") or {}).get("reference"):
            yield f"{path}.subject", f"vital sign {code} without subject (vitalsigns profile, 1..1)"


@rule("FHIR-VS-003")
def vital_effective(ctx: FhirInput) -> Iterator[Hit]:
    for path, r, code in _vitals(ctx):
        when = r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start")
        if not when:
            yield path, f"vital sign {code} without effective[x] (vitalsigns profile, 1..1)"
        elif not re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}", str(when)):
            yield f"{path}.effectiveDateTime", "effective time less precise than a day (vs-1)"


@rule("FHIR-VS-004")
def vital_units(ctx: FhirInput) -> Iterator[Hit]:
    for path, r, code in _vitals(ctx):
        allowed = VITAL_UNITS.get(code)
        q = r.get("valueQuantity")
        if allowed and isinstance(q, dict) and q.get("code") not in allowed:
            yield f"{path}.valueQuantity.code", f"{code} in {q.get('code')!r}; the vital signs profile requires {', '.join(allowed)}"


@rule("FHIR-VS-005")
def bp_components(ctx: FhirInput) -> Iterator[Hit]:
    for path, r, code in _vitals(ctx):
        if code != BP_PANEL:
            continue
        found = {}
        for c in r.get("component") or ():
            lc = coding(c.get("code"), LOINC)
            if lc:
                found[lc.get("code")] = c
        for want, name in ((SYSTOLIC, "systolic"), (DIASTOLIC, "diastolic")):
            comp = found.get(want)
            if comp is None:
                yield f"{path}.component", f"blood pressure panel without the {name} component ({want})"
            elif not (comp.get("valueQuantity") or comp.get("dataAbsentReason")):
                yield f"{path}.component", f"{name} component without value or dataAbsentReason (vs-3)"
            elif (comp.get("valueQuantity") or {}).get("code", "mm[Hg]") != "mm[Hg]":
                yield f"{path}.component", f"{name} component not in mm[Hg]"


# ========================================================================================= terminology
def _mdc_codings(ctx: FhirInput) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, coding, owner node) of every MDC coding in Observation.code / component.code / Device.type."""
    for path, r in ctx.resources():
        nodes = [(f"{path}.code", r.get("code"), r)]
        nodes += [(f"{path}.component[{j}].code", c.get("code"), c) for j, c in enumerate(r.get("component") or ())]
        if r.get("resourceType") in ("Device", "DeviceMetric"):
            nodes.append((f"{path}.type", r.get("type"), r))
        for where, cc, owner in nodes:
            for c in codings(cc):
                if c.get("system") == MDC:
                    yield where, c, owner


@rule("FHIR-TERM-001")
def mdc_known(ctx: FhirInput) -> Iterator[Hit]:
    mdc = _mdc()
    for where, c, _ in _mdc_codings(ctx):
        code = str(c.get("code", ""))
        if not is_ascii_digits(code):
            yield where, f"MDC code {code!r} is not a context-free code (partition × 65536 + term)"
        elif int(code) & 0xFFFF < 0xF000 and mdc.term(int(code)) is None:
            yield where, f"MDC code {code} is not in the terminology tables"


@rule("FHIR-TERM-002")
def mdc_display(ctx: FhirInput) -> Iterator[Hit]:
    mdc = _mdc()
    for where, c, _ in _mdc_codings(ctx):
        code = str(c.get("code", ""))
        term = mdc.term(int(code)) if is_ascii_digits(code) else None
        display = c.get("display")
        if term is not None and display and display not in (term.refid, term.display):
            yield where, f"MDC {code} displayed {display!r}; the term is {term.refid}"


@rule("FHIR-TERM-003")
def unit_fits_code(ctx: FhirInput) -> Iterator[Hit]:
    mdc = _mdc()
    for where, q, r, comp in _quantities(ctx):
        node = comp if comp is not None else r
        mc = coding(node.get("code"), MDC)
        if mc is None or not is_ascii_digits(str(mc.get("code", ""))):
            continue
        term = mdc.term(int(mc["code"]))
        if term is not None and term.ucum_units and q.get("code") and q["code"] not in term.ucum_units:
            yield where, f"{term.refid} in {q['code']!r}; the term's units are {', '.join(term.ucum_units)}"


@rule("FHIR-TERM-004")
def loinc_matches_mdc(ctx: FhirInput) -> Iterator[Hit]:
    mdc = _mdc()
    for path, r in ctx.resources("Observation"):
        nodes = [(f"{path}.code", r.get("code"))] + [(f"{path}.component[{j}].code", c.get("code"))
                                                     for j, c in enumerate(r.get("component") or ())]
        for where, cc in nodes:
            m, lc = coding(cc, MDC), coding(cc, LOINC)
            if not m or not lc or not is_ascii_digits(str(m.get("code", ""))):
                continue
            known = {code for code, _ in mdc.loincs_for(int(m["code"]))}
            if known and lc.get("code") not in known:
                yield where, f"LOINC {lc.get('code')} beside MDC {m['code']}; the map gives {', '.join(sorted(known))}"


# ========================================================================================= HL7 PHD IG
def _phd_device_ids(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in r.get("identifier") or () if isinstance(i, dict) and i.get("system") == EUI64_SYSTEM]


@rule("FHIR-PHD-001")
def phd_device_sysid(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources("Device"):
        if r.get("parent"):
            continue  # a component of another device
        ids = _phd_device_ids(r)
        if not ids:
            yield f"{path}.identifier", "PHD device without its IEEE EUI-64 system identifier (SYSID, PhdDevice 1..1)"
            continue
        for i in ids:
            t = coding(i.get("type"), CONTINUA_IDS)
            if t is None or t.get("code") != "SYSID":
                yield f"{path}.identifier", "EUI-64 identifier without type ContinuaDeviceIdentifiers#SYSID"
            if not EUI64_DASHED.match(str(i.get("value", ""))):
                yield f"{path}.identifier", (f"EUI-64 {i.get('value')!r} is not written as 8 upper-case hex pairs "
                                             "joined by dashes (PHD IG)")


@rule("FHIR-PHD-002")
def phd_observation_device(ctx: FhirInput) -> Iterator[Hit]:
    index = ctx.index()
    for path, r in ctx.resources("Observation"):
        ref = (r.get("device") or {}).get("reference")
        if not ref:
            yield f"{path}.device", "PHD observation without device (PhdBaseObservation device 1..1)"
        elif ref in index and index[ref].get("resourceType") != "Device":
            yield f"{path}.device", f"device refers to a {index[ref].get('resourceType')}, not the PHD Device"


@rule("FHIR-PHD-003")
def phd_mdc_code(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources("Observation"):
        if coding(r.get("code"), MDC) is None:
            yield f"{path}.code", "PHD observation code without its MDC coding (MDCType, 1..1)"


@rule("FHIR-PHD-004")
def phd_specialization(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources("Device"):
        if r.get("parent") or not _phd_device_ids(r):
            continue
        specs = r.get("specialization") or ()
        if not any(coding(s.get("systemType"), MDC) for s in specs if isinstance(s, dict)):
            yield f"{path}.specialization", "PHD device without an MDC specialization (IEEE 11073-104xx device type)"


@rule("FHIR-PHD-005")
def phd_profiles_declared(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources():
        if r.get("resourceType") not in ("Observation", "Device"):
            continue
        profiles = (r.get("meta") or {}).get("profile") or ()
        if not any(str(p).startswith(PHD_PREFIX) for p in profiles):
            yield f"{path}.meta.profile", f"{r['resourceType']} claims no PHD IG profile"


# ========================================================================================= HL7 PoCD IG
@rule("FHIR-POCD-001")
def pocd_device_reference(ctx: FhirInput) -> Iterator[Hit]:
    index = ctx.index()
    for path, r in ctx.resources("Observation"):
        ref = (r.get("device") or {}).get("reference")
        if not ref:
            yield f"{path}.device", "PoCD observation without device (1..1)"
        elif ref in index and index[ref].get("resourceType") not in ("Device", "DeviceMetric"):
            yield f"{path}.device", f"device refers to a {index[ref].get('resourceType')}"


@rule("FHIR-POCD-002")
def pocd_mds_identified(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources("Device"):
        if not r.get("parent") and not r.get("identifier"):
            yield f"{path}.identifier", "top-level (MDS) device without an identifier (PoCD Device identifier 1..*)"


@rule("FHIR-POCD-003")
def pocd_containment(ctx: FhirInput) -> Iterator[Hit]:
    index = ctx.index()
    for path, r in ctx.resources():
        if r.get("resourceType") not in ("Device", "DeviceMetric"):
            continue
        key = "parent" if r.get("resourceType") == "Device" else "source"
        ref = (r.get(key) or {}).get("reference")
        if ref and ref.startswith("urn:") and ref not in index:
            yield f"{path}.{key}", f"containment reference {ref} does not resolve"
        elif ref and ref in index and index[ref].get("resourceType") != "Device":
            yield f"{path}.{key}", f"containment points at a {index[ref].get('resourceType')}, not a Device"


@rule("FHIR-POCD-004")
def pocd_mdc_code(ctx: FhirInput) -> Iterator[Hit]:
    for path, r in ctx.resources("Observation"):
        if coding(r.get("code"), MDC) is None:
            yield f"{path}.code", "PoCD observation code without its MDC coding"


@rule("FHIR-PROV-001")
def provenance_targets(ctx: FhirInput) -> Iterator[Hit]:
    if ctx.doc.get("resourceType") != "Bundle":
        return
    provs = list(ctx.resources("Provenance"))
    if not provs:
        if ctx.source != "json":  # this project's own output records its source message
            yield "Bundle", "no Provenance for the translated message (DESIGN.md FHIR output rules)"
        return
    targets = {t.get("reference") for _, p in provs for t in p.get("target") or ()}
    for path, r in ctx.resources("Observation"):
        full = next((f for _, res, f in ctx.entries if res is r), None)
        if full and full not in targets and f"Observation/{r.get('id')}" not in targets:
            yield path, "observation not listed as a Provenance target"


def check(data: bytes, version: str = "R4") -> list[tuple[str, str, str]]:
    """(assertion id, location, message) of every rule on one input; FHIR-RES-000 when it cannot be read."""
    from interop.errors import InteropError

    try:
        ctx = from_bytes(data, version)
    except (InteropError, ValueError) as exc:
        return [("FHIR-RES-000", getattr(exc, "position", None) or "input", str(exc))]
    out: list[tuple[str, str, str]] = []
    for assertion_id, fn in RULES.items():
        out.extend((assertion_id, loc, msg) for loc, msg in fn(ctx))
    return out


# ----------------------------------------------------------------------------------------- crafted cases
CASES_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "cases" / "fhir"
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def build_case(spec: Any) -> bytes:
    """Bytes of a crafted case: a base file of cases/fhir/ (`"pcd01.json"`) or a dict
    `{base, set: {path: value}, delete: [path]}`; a path is `entry[15].resource.status` (0-based items)."""
    if isinstance(spec, str):
        return (CASES_DIR / spec).read_bytes()
    if "text" in spec:
        return spec["text"].encode()
    doc = json.loads((CASES_DIR / spec["base"]).read_text(encoding="utf-8"))
    for path in spec.get("delete", ()):
        parent, key = _resolve(doc, path)
        del parent[key]
    for path, value in (spec.get("set") or {}).items():
        parent, key = _resolve(doc, path)
        parent[key] = value
    return json.dumps(doc).encode()


def _resolve(doc: Any, path: str) -> tuple[Any, Any]:
    steps = path.split(".")
    here = doc
    for step in steps[:-1]:
        m = _STEP.match(step)
        here = here[m.group(1)]
        if m.group(2) is not None:
            here = here[int(m.group(2))]
    m = _STEP.match(steps[-1])
    if m.group(2) is not None:
        return here[m.group(1)], int(m.group(2))
    return here, m.group(1)


# ----------------------------------------------------------------------------------------- input kinds
class FhirKind:
    """FHIR JSON, or any input the project translates (the Bundle it emits is what is checked)."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version

    def sniff(self, data: bytes) -> bool:
        head = data.lstrip()[:512]
        return head[:1] == b"{" and b'"resourceType"' in data[:4096]

    def contexts(self, data: bytes, label: str, user_profile: Any = None) -> list[Context]:
        from interop.conformance.finding import Hit as EngineHit

        from interop.errors import InteropError

        try:
            ctx = from_bytes(data, self.version)
        except (InteropError, ValueError) as exc:
            return [Context(self.name, label, None, "", [EngineHit(getattr(exc, "position", None) or "input",
                                                                   str(exc))])]
        text = data.decode("utf-8", errors="replace") if ctx.source == "json" else ""
        return [Context(self.name, label, ctx, text, facts_of=facts)]

    def build_case(self, spec: Any) -> bytes:
        return build_case(spec)

    def default_profile(self, ctx: Context) -> str:
        return "fhir-r4" if self.version == "R4" else "fhir-r5"


def facts(ctx: FhirInput) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"standards": {f"HL7 FHIR {ctx.version}"}}
    for _, r in ctx.resources():
        out.setdefault("resources", set()).add(str(r.get("resourceType")))
    for where, c, _owner in _mdc_codings(ctx):
        if ".code" in where:
            out.setdefault("mdc_codes", set()).add(str(c.get("code")))
    for _w, q, _r, _c in _quantities(ctx):
        if q.get("code"):
            out.setdefault("units", set()).add(str(q["code"]))
    return out


KIND_R4 = FhirKind("fhir", "R4")
KIND_R5 = FhirKind("fhir-r5", "R5")

