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


def parse_zone(text: str) -> tzinfo:
    """An IANA zone name ('America/New_York', with its daylight-saving rules), 'UTC'/'Z', or a fixed
    offset ('+02:00', '-0500'); UsageError otherwise."""
    t = text.strip()
    if t.upper() in ("Z", "UTC"):
        return UTC
    if t[:1] in "+-" and t[1:].replace(":", "").isdigit() and len(t[1:].replace(":", "")) == 4:
        digits = t[1:].replace(":", "")
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
