"""MDER primitive values of IEEE 11073-20601 (clause F.2, annex F): SFLOAT, FLOAT, BCD and other times.

Numbers keep the precision the device stated: the mantissa is kept as an integer and the exponent
only moves the decimal point, so SFLOAT 0x0078 is Decimal("120") and FLOAT 0xFF0002FA is
Decimal("76.2"). Special values (NaN, NRes, ±INF, reserved) become FHIR data-absent reasons
(HL7 PHD IG, "FLOAT and SFLOAT" page).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

# Special values: mantissa (exponent 0) -> data-absent reason (20601 F.2.6 / F.2.7; PHD IG FLOATS).
SFLOAT_SPECIAL = {0x07FF: "not-a-number", 0x0800: "error", 0x07FE: "positive-infinity",
                  0x0802: "negative-infinity", 0x0801: "error"}
FLOAT_SPECIAL = {0x007FFFFF: "not-a-number", 0x00800000: "error", 0x007FFFFE: "positive-infinity",
                 0x00800002: "negative-infinity", 0x00800001: "error"}
SPECIAL_NAMES = {0x07FF: "NaN", 0x0800: "NRes", 0x07FE: "+INF", 0x0802: "-INF", 0x0801: "reserved",
                 0x007FFFFF: "NaN", 0x00800000: "NRes", 0x007FFFFE: "+INF", 0x00800002: "-INF",
                 0x00800001: "reserved"}

NumberOrAbsent = tuple[Decimal | None, str | None]


def _scaled(mantissa: int, exponent: int) -> Decimal:
    """mantissa × 10^exponent, written with exactly the digits the device sent."""
    if exponent >= 0:
        return Decimal(mantissa * 10**exponent)
    return Decimal(mantissa).scaleb(exponent)


def sfloat(raw: int) -> NumberOrAbsent:
    """Decode a 16-bit SFLOAT-Type: (value, None) or (None, data-absent reason)."""
    if raw in SFLOAT_SPECIAL:
        return None, SFLOAT_SPECIAL[raw]
    mantissa = raw & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    exponent = raw >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    return _scaled(mantissa, exponent), None


def float32(raw: int) -> NumberOrAbsent:
    """Decode a 32-bit FLOAT-Type: (value, None) or (None, data-absent reason)."""
    if raw in FLOAT_SPECIAL:
        return None, FLOAT_SPECIAL[raw]
    mantissa = raw & 0x00FFFFFF
    if mantissa >= 0x00800000:
        mantissa -= 0x01000000
    exponent = raw >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return _scaled(mantissa, exponent), None


def _split(value: Decimal, digits: int) -> tuple[int, int]:
    sign, coeff_digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, coeff_digits)) or "0")
    exp = int(exponent)
    limit = (1 << (digits - 1)) - 3  # keep clear of the special values
    while mantissa > limit and exp < 7:  # lose trailing precision only when the mantissa cannot hold it
        if mantissa % 10:
            raise ValueError(f"{value} does not fit the {digits}-bit mantissa")
        mantissa //= 10
        exp += 1
    return (-mantissa if sign else mantissa), exp


def encode_sfloat(value: Decimal | int | str) -> int:
    """SFLOAT-Type bits for `value`, keeping its stated precision ("60.0" -> 0xF258)."""
    mantissa, exponent = _split(Decimal(value), 12)
    if not -8 <= exponent <= 7:
        raise ValueError(f"{value} exponent out of SFLOAT range")
    return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)


def encode_float(value: Decimal | int | str) -> int:
    """FLOAT-Type bits for `value`, keeping its stated precision ("76.2" -> 0xFF0002FA)."""
    mantissa, exponent = _split(Decimal(value), 24)
    if not -128 <= exponent <= 127:
        raise ValueError(f"{value} exponent out of FLOAT range")
    return ((exponent & 0xFF) << 24) | (mantissa & 0x00FFFFFF)


def _bcd(byte: int) -> int:
    hi, lo = byte >> 4, byte & 0x0F
    if hi > 9 or lo > 9:
        raise ValueError(f"0x{byte:02X} is not a BCD digit pair")
    return hi * 10 + lo


def absolute_time(raw: bytes) -> tuple[datetime, str]:
    """AbsoluteTime (8 BCD octets: century, year, month, day, hour, minute, second, 1/100 s).

    Returns a naive datetime (20601 absolute time carries no zone) and its precision.
    Raises ValueError on digits that are not BCD or a date that does not exist.
    """
    if len(raw) != 8:
        raise ValueError("AbsoluteTime needs 8 octets")
    c, y, mo, d, h, mi, s, f = (_bcd(b) for b in raw)
    value = datetime(c * 100 + y, mo, d, h, mi, s, f * 10_000)
    return value, ("millisecond" if f else "second")


def encode_absolute_time(value: datetime) -> bytes:
    """AbsoluteTime octets for `value` (hundredths of seconds kept)."""
    def b(n: int) -> int:
        return ((n // 10) << 4) | (n % 10)
    return bytes([b(value.year // 100), b(value.year % 100), b(value.month), b(value.day), b(value.hour),
                  b(value.minute), b(value.second), b(value.microsecond // 10_000)])


BO_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def base_offset_time(seconds: int, fraction: int, offset_minutes: int) -> tuple[datetime, str]:
    """BaseOffsetTime (20601-2019): UTC seconds since 1970, 1/65536 s fraction, local offset in minutes."""
    utc = BO_EPOCH + timedelta(seconds=seconds, microseconds=fraction * 1_000_000 // 65536)
    zone = timezone(timedelta(minutes=offset_minutes))
    return utc.astimezone(zone), ("millisecond" if fraction else "second")


RELATIVE_TIME_US = 125  # RelativeTime tick: 1/8 ms


def relative_time_us(ticks: int) -> int:
    """Microseconds represented by a RelativeTime value (1/8 ms ticks)."""
    return ticks * RELATIVE_TIME_US
