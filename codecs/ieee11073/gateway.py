"""The personal health gateway (PHG) side of a 20601 association: its own identity and its clock.

A manager that receives 20601 (or GATT) data is the PHG of the HL7 PHD IG: its `Device` (PhgDevice) is
the `Message.gateway`, and device-local times (20601 AbsoluteTime, GATT date-times: no zone) are placed
on its timeline, in its zone (`local_zone()`) or the zone the operator names (`parse_zone`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from interop.errors import UsageError
from interop.model import (
    EUI64_SYSTEM,
    MDC_SYSTEM,
    CodeableConcept,
    Coding,
    Device,
    Identifier,
    ProductionSpec,
)
from interop.text import is_ascii_digits

GATEWAY_KEY = "phg"
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal", "GMT",
                       "Etc/GMT"})
MDS_AHD = CodeableConcept(codings=(Coding(system=MDC_SYSTEM, code="531981", display="MDC_MOC_VMS_MDS_AHD"),))


def gateway_device(system_id: bytes, *, model: str = "interop serve x73") -> Device:
    """The manager's own identity as the PHG `Device` (EUI-64 system id, application hosting device)."""
    import interop

    h = system_id.hex().upper()
    return Device(key=GATEWAY_KEY, level="mds", type=MDS_AHD, is_gateway=True,
                  identifiers=(Identifier(value="-".join(h[i:i + 2] for i in range(0, len(h), 2)),
                                          system=EUI64_SYSTEM, type="EUI-64"),),
                  manufacturer="iomt-interop", model=model,
                  production_specs=(ProductionSpec(kind="sw-revision", value=interop.__version__),))


PHG_ID_FILE = "phg-system-id"  # in the manager's store: the PHG's EUI-64, made once per installation


def parse_system_id(text: str) -> bytes:
    """An EUI-64 given by the operator (`--system-id`): 16 hex digits, dashes or colons allowed."""
    digits = text.strip().replace("-", "").replace(":", "")
    if len(digits) != 16 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise UsageError(f"system id {text!r}: expected an EUI-64, 16 hex digits (e.g. 00-1B-2C-FF-FE-3D-4E-5F)")
    return bytes.fromhex(digits)


def phg_system_id(store_dir: Path) -> bytes:
    """The PHG's own EUI-64 for a manager whose operator named none: read from `store_dir/phg-system-id`,
    made there on first start.

    Every installation needs its own identity: with one fixed default, every PHG of a site would be the
    same PhgDevice on the FHIR server (and a PHD sharing it would be two conditional creates of one
    Device). A host's MAC address is no better (containers share theirs), so the id is random, with the
    IEEE locally-administered bit set and the group bit clear, and kept in the store so it stays the same
    across restarts."""
    path = Path(store_dir) / PHG_ID_FILE
    try:
        return parse_system_id(path.read_text())
    except (OSError, UsageError):
        pass
    raw = bytearray(os.urandom(8))
    raw[0] = (raw[0] | 0x02) & 0xFE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(bytes(raw).hex().upper() + "\n")
    os.replace(tmp, path)
    return bytes(raw)


def parse_zone(text: str) -> tzinfo:
    """An IANA zone name ('America/New_York', with its daylight-saving rules), 'UTC'/'Z', or a fixed
    offset ('+02:00', '-0500'); UsageError otherwise."""
    t = text.strip()
    if t.upper() in ("Z", "UTC"):
        return UTC
    digits = t[1:].replace(":", "")
    if t[:1] in "+-" and len(digits) == 4 and is_ascii_digits(digits):
        sign = -1 if t[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return ZoneInfo(t)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {text!r}; expected an IANA name (Europe/Paris), UTC or +HH:MM") from None


def local_zone() -> tzinfo:
    """The gateway's zone: $TZ when it names an IANA zone, else /etc/localtime's zone, else the current offset."""
    name = os.environ.get("TZ", "").lstrip(":")
    candidates = [name] if name else []
    try:
        target = Path("/etc/localtime").resolve()
        if "zoneinfo" in target.parts:
            candidates.append("/".join(target.parts[target.parts.index("zoneinfo") + 1:]))
    except OSError:
        pass
    for key in candidates:
        if key in UTC_NAMES:
            return UTC  # written "Z", as every other UTC time
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC
