"""IHE PCD specifics: OBX-4 containment sub-ids, OBX-8 measurement-status flags (IHE PCD TF-2).

The tables here come from IHE PCD TF-2 (OBX-4 "MDS.VMD.CHAN.METRIC", OBX-8 measurement status from
the IEEE 11073-10201 MeasurementStatus bits) as restated in the HL7 PoCD IG page "mappingv2".
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from interop.terminology import status
from interop.text import is_ascii_digits

Level = Literal["mds", "vmd", "channel"]

# OBX-8 device flags (IHE PCD TF-2 as restated in the HL7 PoCD IG mappingv2.md; the terminology
# table interop.terminology.data/pcd01_obx8.csv owns them): flag -> the MeasurementStatus name a
# Metric records, and flag -> FHIR data-absent-reason when OBX-5 carries no value.
_FLAGS = status.pcd01_flags()
MEASUREMENT_STATUS = {flag: m.name for flag, m in _FLAGS.items() if m.name}
ABSENT_REASON = {flag: m.data_absent_reason for flag, m in _FLAGS.items() if m.name and m.data_absent_reason}


@lru_cache(maxsize=4096)
def parse_sub_id(raw: str) -> tuple[int, ...] | None:
    """OBX-4 dotted containment ("1.2.1.1") → (1, 2, 1, 1); None when not a dotted integer path."""
    text = raw.strip()
    if not text or "." not in text:
        return None
    parts = text.split(".")
    if not all(is_ascii_digits(p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


@lru_cache(maxsize=4096)
def device_level(path: tuple[int, ...]) -> Level | None:
    """The device level an OBX-4 path denotes by its trailing zeros (x.0.0.0 MDS, x.y.0.0 VMD,
    x.y.z.0 channel), or None for a metric path."""
    if len(path) != 4 or path[0] == 0:
        return None
    if path[1] == 0 and path[2] == 0 and path[3] == 0:
        return "mds"
    if path[1] != 0 and path[2] == 0 and path[3] == 0:
        return "vmd"
    if path[1] != 0 and path[2] != 0 and path[3] == 0:
        return "channel"
    return None


@lru_cache(maxsize=4096)  # containment paths recur in every message of a device
def device_key(path: tuple[int, ...], level: Level) -> str:
    """Model `Device.key` for a containment path at a level ("1", "1.2", "1.2.1")."""
    depth = {"mds": 1, "vmd": 2, "channel": 3}[level]
    return ".".join(str(p) for p in path[:depth])


@lru_cache(maxsize=4096)
def ancestors(path: tuple[int, ...]) -> list[str]:
    """Candidate device keys for a metric path, deepest first ("1.2.1", "1.2", "1")."""
    keys = []
    for depth in (3, 2, 1):
        if len(path) >= depth and all(p != 0 for p in path[:depth]):
            keys.append(".".join(str(p) for p in path[:depth]))
    return keys
