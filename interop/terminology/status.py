"""IEEE 11073 measurement status and PCD-01 OBX-8 device flags -> FHIR, per the HL7 PoCD IG.

A status maps to up to three FHIR elements: `meta.security` (reliability), `dataAbsentReason`
(only when there is no value) and `interpretation`. Data in `data/measurement_status.csv`
(PoCD IG mappingdim.md) and `data/pcd01_obx8.csv` (PoCD IG mappingv2.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from .mdc import DATA
from .v2tables import system_url


@dataclass(frozen=True, slots=True)
class StatusMapping:
    """What one status bit or flag becomes in FHIR; `obx11` is the PCD-01 result status it goes with."""

    name: str
    security: tuple[str, str] | None  # (system, code) for Resource.meta.security
    data_absent_reason: str | None  # http://terminology.hl7.org/CodeSystem/data-absent-reason code
    interpretation: tuple[str, str] | None  # (system, code) for Observation.interpretation
    obx11: str | None = None


def _mapping(r: dict[str, str], name: str) -> StatusMapping:
    """Build one mapping from a CSV row."""
    sec = (system_url(r["security_system"]), r["security_code"]) if r["security_code"] else None
    interp = (system_url(r["interpretation_system"]), r["interpretation_code"]) if r["interpretation_code"] else None
    return StatusMapping(name, sec, r["data_absent_reason"] or None, interp, r.get("obx11") or None)


@cache
def _tables() -> tuple[dict[int, StatusMapping], dict[str, StatusMapping]]:
    """Load both tables (once)."""
    with open(DATA / "measurement_status.csv", encoding="utf-8", newline="") as f:
        bits = {int(r["bit"]): _mapping(r, r["name"]) for r in csv.DictReader(f)}
    with open(DATA / "pcd01_obx8.csv", encoding="utf-8", newline="") as f:
        flags = {r["flag"]: _mapping(r, r["name"]) for r in csv.DictReader(f)}
    return bits, flags


def measurement_status(value: int) -> tuple[StatusMapping, ...]:
    """Mappings for every set bit of a 20601 MeasurementStatus BITS-16 value (bit 0 is the MSB), in bit order."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF:
        return ()
    bits = _tables()[0]
    return tuple(bits[b] for b in sorted(bits) if value & (0x8000 >> b))


def measurement_status_bit(bit: int) -> StatusMapping | None:
    """Mapping for one MeasurementStatus bit number (0 = invalid ... 15 = msmt-state-al-inhibited), or None."""
    return _tables()[0].get(bit) if isinstance(bit, int) else None


def pcd01_flag(flag: str) -> StatusMapping | None:
    """Mapping for one PCD-01 OBX-8 flag (INV, QUES, NAV, ..., NI, OFF, <, >, PN..PH), or None.

    Its `name` is what a decoder records in `Metric.measurement_status` (the MeasurementStatus bit
    name where the flag is one); empty for "<" and ">", which are table 0078 interpretations."""
    return _tables()[1].get(flag.strip()) if isinstance(flag, str) else None


def pcd01_flags() -> dict[str, StatusMapping]:
    """Every PCD-01 OBX-8 device flag and its mapping (see `pcd01_flag`)."""
    return dict(_tables()[1])


def by_name(name: str) -> StatusMapping | None:
    """Mapping for a MeasurementStatus bit by its IEEE 11073-10201 name ("questionable", "test-data" ...)."""
    return _names().get(name)


@cache
def _names() -> dict[str, StatusMapping]:
    return {m.name: m for m in _tables()[0].values()}
