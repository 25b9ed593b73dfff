"""IEEE 11073-20601 SFLOAT (medfloat16) and FLOAT (medfloat32) as GATT sends them: little-endian.

A value is mantissa * 10**exponent (SFLOAT: 4-bit exponent, 12-bit mantissa; FLOAT: 8-bit
exponent, 24-bit mantissa; both two's complement). The exponent gives the decimal places, so
precision is kept: 0xF3DE -> Decimal("99.0"), 0x00C8 -> Decimal("200"), 0xE0C8 -> Decimal("2.00").
Special values map to FHIR data-absent reasons as in the HL7 PHD IG, FLOATS.md (corpus file
phd_ig_float_sfloat.tsv): NaN -> not-a-number, NRes and reserved -> error, ±INF -> ±infinity.
"""

from __future__ import annotations

from decimal import Decimal

from interop.model import DataAbsentReason

SFLOAT_SPECIAL: dict[int, DataAbsentReason] = {
    0x07FF: "not-a-number",
    0x0800: "error",  # NRes: not at this resolution
    0x07FE: "positive-infinity",
    0x0802: "negative-infinity",
    0x0801: "error",  # reserved for future use
}
FLOAT_SPECIAL: dict[int, DataAbsentReason] = {
    0x007FFFFF: "not-a-number",
    0x00800000: "error",
    0x007FFFFE: "positive-infinity",
    0x00800002: "negative-infinity",
    0x00800001: "error",
}

Number = tuple[Decimal | None, DataAbsentReason | None]
"""(value, None) for a number, (None, reason) for a special value."""


def _scaled(mantissa: int, exponent: int) -> Decimal:
    if exponent > 0:  # 0x1002 is "20", not "2E+1"
        return Decimal(mantissa * 10**exponent)
    return Decimal(mantissa).scaleb(exponent)


def sfloat(word: int) -> Number:
    """Decode a 16-bit SFLOAT word (already read little-endian)."""
    special = SFLOAT_SPECIAL.get(word)
    if special is not None:
        return None, special
    mantissa = word & 0x0FFF
    if mantissa >= 0x0800:
        mantissa -= 0x1000
    exponent = word >> 12
    if exponent >= 0x8:
        exponent -= 0x10
    return _scaled(mantissa, exponent), None


def float32(word: int) -> Number:
    """Decode a 32-bit FLOAT word (already read little-endian)."""
    special = FLOAT_SPECIAL.get(word)
    if special is not None:
        return None, special
    mantissa = word & 0x00FFFFFF
    if mantissa >= 0x00800000:
        mantissa -= 0x01000000
    exponent = word >> 24
    if exponent >= 0x80:
        exponent -= 0x100
    return _scaled(mantissa, exponent), None


def sfloat_le(data: bytes, offset: int = 0) -> Number:
    """Decode the SFLOAT at `offset` of little-endian bytes."""
    return sfloat(int.from_bytes(data[offset:offset + 2], "little"))


def float32_le(data: bytes, offset: int = 0) -> Number:
    """Decode the FLOAT at `offset` of little-endian bytes."""
    return float32(int.from_bytes(data[offset:offset + 4], "little"))


def encode_sfloat(value: Decimal) -> int:
    """The SFLOAT word for `value` with the fewest decimal places it has (for building vectors)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    while not -2048 < mantissa < 2046 and exponent < 7:
        mantissa, exponent = round(mantissa / 10), exponent + 1
    if not -8 <= exponent <= 7 or not -2046 <= mantissa <= 2045:
        raise ValueError("value does not fit an SFLOAT")
    return ((exponent & 0xF) << 12) | (mantissa & 0x0FFF)


def encode_float32(value: Decimal) -> int:
    """The FLOAT word for `value` (for building vectors)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if not -128 <= exponent <= 127 or not -(2**23) + 2 <= mantissa <= 2**23 - 3:
        raise ValueError("value does not fit a FLOAT")
    return ((exponent & 0xFF) << 24) | (mantissa & 0x00FFFFFF)
