"""DICOM DA, TM and DT values and the Timezone Offset From UTC (PS3.5 6.2, PS3.3 C.12.1.1.8)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from interop.model import Timestamp
from interop.text import is_ascii_digits

from .construct import build

_DA = re.compile(r"^([0-9]{4})\.?([0-9]{2})\.?([0-9]{2})$")  # "." separators: pre-1993 ACR-NEMA form, still seen
_TM = re.compile(r"^([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2})(?:\.([0-9]{1,6}))?)?)?$")
_DT = re.compile(r"^([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:\.([0-9]{1,6}))?)?)?)?)?)?([+-][0-9]{4})?$")
_TZ = re.compile(r"^([+-])([0-9]{2})([0-9]{2})$")

_FRACTION_PRECISION = {1: "millisecond", 2: "millisecond", 3: "millisecond"}


@lru_cache(maxsize=64)
def parse_offset(text: str) -> timezone | None:
    """`timezone` for "+HHMM"/"-HHMM" (TimezoneOffsetFromUTC, DT suffix), or None when malformed."""
    m = _TZ.match(text)
    if not m:
        return None
    hours, minutes = int(m.group(2)), int(m.group(3))
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if m.group(1) == "-" else delta)


def _time_parts(m: re.Match[str] | None) -> tuple[int, int, int, int, str] | None:
    if m is None:
        return None
    hh, mm, ss, frac = m.group(1), m.group(2), m.group(3), m.group(4)
    hour, minute, second = int(hh), int(mm or 0), int(ss or 0)
    micro = int((frac or "0").ljust(6, "0"))
    precision = "hour" if mm is None else "minute" if ss is None else "second"
    if frac:
        precision = _FRACTION_PRECISION.get(len(frac), "microsecond")
    return hour, minute, min(second, 59), micro, precision  # second 60 (leap) is clamped


def _fast_time(tm: str) -> tuple[int, int, int, int, str] | None:
    """HHMMSS[.F{1,6}] without regex (the common form); None for anything else."""
    main, dot, frac = tm.partition(".")
    if len(main) != 6 or not is_ascii_digits(main) or (dot and not (is_ascii_digits(frac) and len(frac) <= 6)):
        return None
    precision = "second" if not frac else _FRACTION_PRECISION.get(len(frac), "microsecond")
    return (int(main[0:2]), int(main[2:4]), min(int(main[4:6]), 59), int(frac.ljust(6, "0")) if frac else 0,
            precision)


def date_time(da: str | None, tm: str | None, tz: timezone | None) -> Timestamp | None:
    """Timestamp of a DA (+ optional TM) pair; raises ValueError when either is malformed."""
    if not da:
        return None
    if len(da) == 8 and is_ascii_digits(da):
        year, month, day, raw = int(da[0:4]), int(da[4:6]), int(da[6:8]), da
    else:
        d = _DA.match(da)
        if d is None:
            raise ValueError("DA")
        year, month, day = int(d.group(1)), int(d.group(2)), int(d.group(3))
        raw = f"{d.group(1)}{d.group(2)}{d.group(3)}"
    if tm:
        parts = _fast_time(tm) or _time_parts(_TM.match(tm))
        if parts is None:
            raise ValueError("TM")
        hour, minute, second, micro, precision = parts
        value = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        raw += tm.replace(":", "")
    else:
        value = datetime(year, month, day)  # a calendar date: a zone would shift it when normalised
        precision = "day"
    if tz is not None and tm:
        raw += _format_offset(tz)
    return build(Timestamp, value=value, precision=precision, raw=raw)


def dt_value(text: str | None, tz: timezone | None) -> Timestamp | None:
    """Timestamp of a DT value; its own offset beats `tz`; raises ValueError when malformed."""
    if not text:
        return None
    m = _DT.match(text)
    if m is None:
        raise ValueError("DT")
    year, month, day, hour, minute, second, frac, offset = m.groups()
    own = parse_offset(offset) if offset else None
    if offset and own is None:
        raise ValueError("DT offset")
    zone = own or tz
    precision = ("year" if month is None else "month" if day is None else "day" if hour is None
                 else "hour" if minute is None else "minute" if second is None else "second")
    if frac:
        precision = _FRACTION_PRECISION.get(len(frac), "microsecond")
    value = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                     min(int(second or 0), 59), int((frac or "0").ljust(6, "0")), tzinfo=zone)
    raw = text if own or zone is None else text + _format_offset(zone)
    return build(Timestamp, value=value, precision=precision, raw=raw)


@lru_cache(maxsize=64)
def _format_offset(tz: timezone) -> str:
    delta = tz.utcoffset(None)
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
