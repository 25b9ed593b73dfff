"""HL7 v2 reference structures per version, read once from hl7apy's shipped definitions.

hl7apy carries the message structures, groups, segments, fields, data types and tables of every
HL7 v2 version (its `hl7apy.v2_x` modules, generated from the standard's database). Validating
with hl7apy itself costs ~35 ms per PCD-01 message (it builds and validates an object tree); we
only read its definitions, once per version (~40 ms), into the compact tuples below, and check
messages with our own code (checks.py, structure.py) in well under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from interop.text import is_ascii_digits

# MSH-12 values and the hl7apy module holding that version's definitions.
VERSIONS = {
    "2.3": "v2_3", "2.3.1": "v2_3_1", "2.4": "v2_4", "2.5": "v2_5", "2.5.1": "v2_5_1", "2.6": "v2_6",
    "2.7": "v2_7", "2.7.1": "v2_7", "2.8": "v2_8", "2.8.1": "v2_8_1", "2.8.2": "v2_8_2",
}
"""Versions this suite validates (2.7.1 uses the 2.7 definitions: hl7apy ships no 2.7.1)."""

# Trigger events whose abstract message structure is not "<type>_<event>": HL7 table 0354
# (Message Structure), HL7 v2.5 chapter 3 (ADT) and chapter 7 (ORU/OUL); used when MSH-9.3 is absent.
EVENT_STRUCTURES = {
    "ADT_A04": "ADT_A01", "ADT_A08": "ADT_A01", "ADT_A13": "ADT_A01",
    "ADT_A07": "ADT_A06", "ADT_A10": "ADT_A09", "ADT_A11": "ADT_A09", "ADT_A12": "ADT_A12",
    "ADT_A14": "ADT_A05", "ADT_A28": "ADT_A05", "ADT_A31": "ADT_A05",
    "ADT_A22": "ADT_A21", "ADT_A23": "ADT_A21", "ADT_A25": "ADT_A21", "ADT_A26": "ADT_A21",
    "ADT_A27": "ADT_A21", "ADT_A29": "ADT_A21", "ADT_A32": "ADT_A21", "ADT_A33": "ADT_A21",
    "ADT_A25B": "ADT_A21", "ADT_A34": "ADT_A30", "ADT_A35": "ADT_A30", "ADT_A36": "ADT_A30",
    "ADT_A46": "ADT_A30", "ADT_A47": "ADT_A30", "ADT_A48": "ADT_A30", "ADT_A49": "ADT_A30",
    "ADT_A40": "ADT_A39", "ADT_A41": "ADT_A39", "ADT_A42": "ADT_A39",
    "ADT_A44": "ADT_A43", "ADT_A51": "ADT_A50", "ADT_A53": "ADT_A52", "ADT_A55": "ADT_A52",
    "ADT_A62": "ADT_A61", "ORU_W01": "ORU_W01", "ORU_R40": "ORU_R01",
    "MDM_T03": "MDM_T01", "MDM_T05": "MDM_T01", "MDM_T07": "MDM_T01", "MDM_T09": "MDM_T01",
    "MDM_T11": "MDM_T01", "MDM_T04": "MDM_T02", "MDM_T06": "MDM_T02", "MDM_T08": "MDM_T02",
    "MDM_T10": "MDM_T02", "ACK_A01": "ACK", "ACK_R01": "ACK",
}

# Maximum lengths of the primitive types, as hl7apy's base data types declare them
# (hl7apy/base_datatypes.py: ST 199, IS 20, NM 16, SI 4, GTS 199, FT/TX 65536; TN 199).
PRIMITIVE_MAX_LENGTH = {"ST": 199, "IS": 20, "NM": 16, "SI": 4, "GTS": 199, "TN": 199, "FT": 65536,
                        "TX": 65536}


# Values the standard has and hl7apy's tables lack (HL7 table 0396 also admits, by its own rules, the
# patterns HL7nnnn and 99zzz, see OPEN_TABLES) (checked against HL7 v2 chapter 7 and table 0125:
# waveform observations are NA/MA since v2.3, coded CWE/CNE and DTM/DR since v2.5). Without them
# every IHE PCD-01 waveform (NA) or coded (CWE) OBX of a v2.5/v2.6 message would be flagged.
TABLE_ADDITIONS = {
    "HL70125": {"2.3": {"NA", "MA"}, "2.3.1": {"NA", "MA"}, "2.4": {"NA", "MA"},
                "2.5": {"NA", "MA", "CWE", "CNE", "DTM", "DR"}, "2.5.1": {"NA", "MA", "CWE", "CNE", "DTM", "DR"},
                "2.6": {"NA", "MA", "CWE", "CNE", "DTM", "DR"}},
    "HL70396": {v: {"UCUM", "SCT", "MDC", "LN", "HL70005", "ISO3166_1", "ISO639"} for v in VERSIONS},
}
OPEN_TABLES = {"HL70396": re.compile(r"(HL7\d{4}|99[A-Za-z0-9]+|ISO\d+|IBT\d+)\Z")}
"""Tables whose values include patterns (HL7 table 0396: HL7nnnn for HL7 tables, 99zzz for local systems)."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """A component or subcomponent: data type, table, cardinality, its own parts when composite."""

    name: str
    datatype: str
    table: str | None
    min: int
    parts: tuple[Leaf, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field of a segment: SEG-n."""

    name: str  # hl7apy's long name, e.g. OBSERVATION_IDENTIFIER
    datatype: str
    table: str | None
    min: int
    max: int  # -1: unbounded repetitions
    parts: tuple[Leaf, ...]  # components ('' when primitive)


WITHDRAWN = FieldDef("WITHDRAWN", "ST", None, 0, 0, ())
"""A field position the version no longer defines (withdrawn): no occurrence allowed."""


@dataclass(frozen=True, slots=True)
class Child:
    """A segment or group in a message structure (hl7apy's sequence element)."""

    name: str
    is_group: bool
    min: int
    max: int
    children: tuple[Child, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """Everything one HL7 v2 version defines, as compact tuples."""

    version: str
    structures: dict[str, tuple[Child, ...]]
    segments: dict[str, tuple[FieldDef, ...]]
    tables: dict[str, frozenset[str]]
    primitives: frozenset[str]
    datatypes: dict[str, tuple[Leaf, ...]]  # components of each composite type (for OBX-5 'varies')

    def structure_of(self, code: str, event: str, structure: str) -> str | None:
        """The abstract message structure of MSH-9 (MSH-9.3 first, then table 0354 aliases)."""
        if structure and structure in self.structures:
            return structure
        key = f"{code}_{event}" if event else code
        if key in self.structures:
            return key
        alias = EVENT_STRUCTURES.get(key)
        if alias in self.structures:
            return alias
        return None


def _leaf(entry: tuple, structs: dict, primitives: frozenset[str], depth: int = 0) -> Leaf:
    name, ref, (mn, _mx), _kind = entry
    _cls, _sub, dt, _long, table, _len = ref
    parts: tuple[Leaf, ...] = ()
    if dt not in primitives and depth < 1 and dt in structs:
        parts = tuple(_leaf(e, structs, primitives, depth + 1) for e in structs[dt])
    return Leaf(name, dt, table, mn, parts)


def _children(entries: tuple, groups: dict) -> tuple[Child, ...]:
    out = []
    for entry in entries:
        name, ref, (mn, mx), kind = entry
        if kind == "GRP":
            sub = ref if ref is not None else groups.get(name)
            out.append(Child(name, True, mn, mx, _children(sub[1], groups) if sub else ()))
        else:
            out.append(Child(name, False, mn, mx))
    return tuple(out)


@cache
def reference(version: str) -> Reference | None:
    """The reference of one MSH-12 version (None when hl7apy has none for it)."""
    mod_name = VERSIONS.get(version)
    if mod_name is None:
        return None
    mod = import_module(f"hl7apy.{mod_name}")
    primitives = frozenset(mod.get_base_datatypes()) | {"varies", "ST", "TN", "NUL"}
    structs = mod.DATATYPES_STRUCTS
    segments: dict[str, tuple[FieldDef, ...]] = {}
    for seg, definition in mod.SEGMENTS.items():
        entries = definition[1] if len(definition) > 1 else ()  # withdrawn segments (QRD in 2.7) are empty
        by_number: dict[int, FieldDef] = {}
        for entry in entries:
            name, ref, (mn, mx), _kind = entry
            tail = name.rsplit("_", 1)[-1]
            # hl7apy leaves withdrawn fields out: place each by the number in its name
            number = int(tail) if is_ascii_digits(tail) and "_" in name else max(by_number, default=0) + 1
            if ref is None:  # hl7apy leaves a few fields undefined (e.g. ADD-1 in some versions)
                by_number[number] = FieldDef("", "ST", None, mn, mx, ())
                continue
            _c, sub, dt, long_name, table, _len = ref
            parts: tuple[Leaf, ...] = ()
            if dt not in primitives and dt in structs:
                parts = tuple(_leaf(e, structs, primitives) for e in structs[dt])
            by_number[number] = FieldDef(long_name or "", dt or "ST", table, mn, mx, parts)
        last = max(by_number, default=0)
        fields = [by_number.get(n, WITHDRAWN) for n in range(1, last + 1)]
        segments[seg] = tuple(fields)
    structures = {name: _children(ref[1], mod.GROUPS) for name, ref in mod.MESSAGES.items()}
    tables = {tid: frozenset(values) for tid, (_desc, values) in getattr(mod, "TABLES", {}).items()}
    for tid, by_version in TABLE_ADDITIONS.items():
        extra = by_version.get(version)
        if extra and tid in tables:
            tables[tid] = tables[tid] | extra
    datatypes = {dt: tuple(_leaf(e, structs, primitives) for e in entries) for dt, entries in structs.items()
                 if isinstance(entries, tuple) and all(len(e) == 4 for e in entries)}
    return Reference(version, structures, segments, tables, primitives, datatypes)


@cache
def table_listing(tid: str, value: str) -> tuple[str, ...]:
    """The versions (of VERSIONS, oldest first) whose HL7 table `tid` lists `value`: hl7apy's tables
    plus TABLE_ADDITIONS. It tells a value of a later (or withdrawn) version from one no version has,
    e.g. OBX-2 `NR` (numeric range): table 0125 lists it from v2.8.2 on (hl7apy's v2.8.2 table; its
    v2.3.1-v2.8.1 tables, like HL7's per-version table 0125, do not), although the NR data type itself
    is older (v2.5). Read only when a message's own version lacks a value: importing every version's
    definitions costs ~0.6 s, once per process."""
    out = []
    for version, mod_name in VERSIONS.items():
        table = getattr(import_module(f"hl7apy.{mod_name}"), "TABLES", {}).get(tid)
        if table is None:
            continue
        if value in table[1] or value in TABLE_ADDITIONS.get(tid, {}).get(version, ()):
            out.append(version)
    return tuple(out)


def closest_version(version: str) -> str:
    """The reference version used for an MSH-12 value this suite has no definitions for."""
    if version in VERSIONS:
        return version
    parts = version.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in VERSIONS:
            return cand
    return "2.5"  # hl7apy's own default version
