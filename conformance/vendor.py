"""Vendor capability files: what a vendor claims, checked against what its inputs exercised.

A capability file is YAML, validated with pydantic; an error names the file, the line and the key::

    vendor: ACME Medical
    product: ACME Patient Monitor Gateway
    product_version: "3.1"
    standards: [hl7v2, ihe-pcd-01]          # profile names (DESIGN.md "Conformance vocabulary")
    versions: ["2.6"]                       # HL7 v2 (MSH-12) / IEEE 11073-20601 protocol versions
    message_types: ["ORU^R01^ORU_R01"]
    devices:                                # device specializations and configurations
      - specialization: MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS
      - specialization: MDC_DEV_SPEC_PROFILE_PULS_OXIM
        configuration: 0x0190
    mdc_codes: [150456, MDC_PULS_OXIM_PULS_RATE]   # codes or reference ids
    units: [MDC_DIM_PERCENT, 264864, "/min"]       # MDC codes, reference ids or UCUM

The report lists, per aspect, what was claimed and not exercised (a gap in the test inputs) and
what was exercised and not claimed (the device sends what its statement does not cover), and each
non-conformance of the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from interop.errors import ConformanceError
from interop.text import is_ascii_digits

from .finding import Finding

ASPECTS = ("standards", "versions", "message_types", "devices", "mdc_codes", "units")
REFERENCE = "vendor capability statement"
SEVERITY_NOT_CLAIMED = {"standards": "error", "versions": "error", "message_types": "error",
                        "devices": "warning", "mdc_codes": "warning", "units": "warning"}


def _known_standard(v: str) -> str:
    from .profiles import PROFILES

    if v not in PROFILES:
        raise ValueError(f"unknown standard/profile {v!r}; known: {', '.join(PROFILES)}")
    return v


class Device(BaseModel):
    model_config = ConfigDict(extra="forbid")
    specialization: str | int
    configuration: str | int | None = None


class Capability(BaseModel):
    """The schema of a vendor capability file."""

    model_config = ConfigDict(extra="forbid")
    vendor: str
    product: str
    product_version: str | None = None
    standards: list[Annotated[str, AfterValidator(_known_standard)]] = []
    versions: list[str] = []
    message_types: list[str] = []
    devices: list[Device] = []
    mdc_codes: list[str | int] = []
    units: list[str | int] = []
    notes: str | None = None

    @field_validator("versions", mode="before")
    @classmethod
    def _versions_as_text(cls, v: Any) -> Any:
        # YAML reads 2.6 as a float: keep what the vendor wrote
        return [str(x) for x in v] if isinstance(v, list) else v


def _line_of(node: Any, loc: tuple) -> int | None:
    """1-based line of the YAML node at a pydantic error location."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load(path: str | Path) -> Capability:
    """Read and validate a capability file; ConformanceError names the file, line and key on error."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConformanceError(f"{p}: cannot read vendor capability file: {exc.strerror or exc}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        raise ConformanceError(f"{p}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConformanceError(f"{p}:1: a vendor capability file is a YAML mapping (vendor, product, ...)")
    try:
        return Capability.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = _line_of(node, loc)
        key = ".".join(str(x) for x in loc) or "(top)"
        raise ConformanceError(f"{p}:{line}: {key}: {err['msg']}"
                               + (f" ({len(exc.errors())} errors in all)" if len(exc.errors()) > 1 else "")
                               ) from None


def _norm_code(v: str | int) -> str:
    from interop.terminology import mdc

    s = str(v).strip()
    if is_ascii_digits(s):
        return s
    t = mdc.term_by_refid(s)
    return str(t.code) if t else s


def _norm_unit(v: str | int) -> str:
    from interop.terminology import mdc

    s = str(v).strip()
    if is_ascii_digits(s):
        return s
    u = mdc.unit_by_refid(s) or mdc.unit_by_ucum(s)
    return str(u.code) if u else s


def _norm_device(d: Device) -> str:
    spec = _norm_code(d.specialization)
    if d.configuration is None:
        return spec
    conf = d.configuration
    return f"{spec}/{conf if isinstance(conf, str) else f'0x{conf:04X}'}"


def claims(cap: Capability) -> dict[str, set[str]]:
    """What the capability file claims, normalised like the facts inputs report (codes as decimals)."""
    return {
        "standards": set(cap.standards),
        "versions": set(cap.versions),
        "message_types": {m.strip() for m in cap.message_types},
        "devices": {_norm_device(d) for d in cap.devices},
        "mdc_codes": {_norm_code(c) for c in cap.mdc_codes},
        "units": {_norm_unit(u) for u in cap.units},
    }


@dataclass(slots=True)
class VendorReport:
    capability: Capability
    claimed: dict[str, set[str]]
    exercised: dict[str, set[str]]
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    def aspect(self, name: str) -> dict[str, list[str]]:
        c, e = self.claimed.get(name, set()), self.exercised.get(name, set())
        return {"claimed": sorted(c), "exercised": sorted(e), "claimed_not_exercised": sorted(c - e),
                "exercised_not_claimed": sorted(e - c)}

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.capability.vendor, "product": self.capability.product,
                "product_version": self.capability.product_version,
                "aspects": {a: self.aspect(a) for a in ASPECTS},
                "findings": [f.to_dict() for f in self.findings]}


def _describe(aspect: str, value: str) -> str:
    if aspect in ("mdc_codes", "devices"):
        from interop.terminology import mdc

        code = value.split("/")[0]
        t = mdc.term(code) if is_ascii_digits(code) else None
        return f"{value} ({t.refid})" if t else value
    if aspect == "units":
        from interop.terminology import mdc

        u = mdc.unit(value) if is_ascii_digits(value) else None
        return f"{value} ({u.refid})" if u else value
    return value


def compare(cap: Capability, report: Any) -> VendorReport:
    """Claims against what the report's inputs exercised (InputResult.facts)."""
    exercised: dict[str, set[str]] = {a: set() for a in ASPECTS}
    for res in report.results:
        for aspect, values in (res.facts or {}).items():
            exercised.setdefault(aspect, set()).update(values)
    claimed = claims(cap)
    vr = VendorReport(cap, claimed, exercised)
    for aspect in ASPECTS:
        row = vr.aspect(aspect)
        if not claimed[aspect] and aspect in ("devices", "units"):
            continue  # nothing claimed for an optional aspect: nothing to hold the inputs to
        for value in row["exercised_not_claimed"]:
            vr.findings.append(Finding("VENDOR-NOT-CLAIMED", SEVERITY_NOT_CLAIMED[aspect], aspect,
                                       f"{aspect.replace('_', ' ')}: {_describe(aspect, value)} is exercised by the "
                                       "inputs but not claimed", REFERENCE))
        for value in row["claimed_not_exercised"]:
            vr.findings.append(Finding("VENDOR-NOT-EXERCISED", "info", aspect,
                                       f"{aspect.replace('_', ' ')}: {_describe(aspect, value)} is claimed but no "
                                       "input exercises it", REFERENCE))
    return vr
