"""IEEE 11073-20601 SFLOAT (medfloat16) and FLOAT (medfloat32) as GATT sends them: little-endian.

A value is mantissa * 10**exponent (SFLOAT: 4-bit exponent, 12-bit mantissa; FLOAT: 8-bit
exponent, 24-bit mantissa; both two's complement). The exponent gives the decimal places, so
precision is kept: 0xF3DE -> Decimal("99.0"), 0x00C8 -> Decimal("200"), 0xE0C8 -> Decimal("2.00").
Special values map to FHIR data-absent reasons as in the HL7 PHD IG, FLOATS.md (corpus file
phd_ig_float_sfloat.tsv): NaN -> not-a-number, NRes and reserved -> error, ±INF -> ±infinity.
"""

from __future__ import annotations

from decimal import Decimal

# The word-level decoding (mantissa, exponent, special values -> data-absent reasons) is MDER's own
# (20601 annex F); GATT only changes the byte order, so it is shared, not written twice.
from ..mder import FLOAT_SPECIAL, SFLOAT_SPECIAL, float32, sfloat
from ..mder import NumberOrAbsent as Number

__all__ = ["FLOAT_SPECIAL", "SFLOAT_SPECIAL", "Number", "encode_float32", "encode_sfloat", "float32",
           "float32_le", "sfloat", "sfloat_le"]


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
