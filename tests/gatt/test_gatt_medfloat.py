"""SFLOAT/FLOAT (little-endian on GATT) against the HL7 PHD IG FLOATS.md table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from interop.codecs.ieee11073.gatt.medfloat import (
    encode_float32,
    encode_sfloat,
    float32,
    float32_le,
    sfloat,
    sfloat_le,
)

# Vector source: HL7/phd input/pagecontent/FLOATS.md @ 5af8412 (tests/gatt/data/SOURCES.md)
ROWS = [line.split("\t") for line in (Path(__file__).parent / "data" / "phd_ig_float_sfloat.tsv").read_text()
        .splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(("kind", "word", "expected"), ROWS)
def test_phd_ig_table(kind: str, word: str, expected: str) -> None:
    value = int(word, 16)
    raw = value.to_bytes(len(word) // 2, "little")  # GATT sends the word least significant byte first
    number = sfloat_le(raw) if kind == "SFLOAT" else float32_le(raw)
    assert number == (sfloat(value) if kind == "SFLOAT" else float32(value))
    if expected.startswith("dataAbsentReason="):
        assert number[0] is None
        assert number[1] == expected.split("=")[1].split()[0]
    else:
        assert number[1] is None
        assert str(number[0]) == expected  # precision kept: "2.00" stays "2.00", "20" not "2E+1"


def test_speziblue_plx_words() -> None:
    # SpeziBluetooth PLXTests.swift: bytes de f3 -> 99.0, 7a e3 -> 8.90 (exponent -2)
    assert sfloat_le(bytes.fromhex("def3")) == (Decimal("99.0"), None)
    assert sfloat_le(bytes.fromhex("7ae3")) == (Decimal("8.90"), None)


@given(st.integers(0, 0xFFFF))
def test_sfloat_total(word: int) -> None:
    value, absent = sfloat(word)
    assert (value is None) != (absent is None)


@given(st.integers(-2000, 2000), st.integers(-8, 0))
def test_sfloat_round_trip(mantissa: int, exponent: int) -> None:
    value = Decimal(mantissa).scaleb(exponent)
    assert sfloat(encode_sfloat(value)) == (value, None)


@given(st.integers(-(2**23) + 3, 2**23 - 3), st.integers(-20, 0))
def test_float_round_trip(mantissa: int, exponent: int) -> None:
    value = Decimal(mantissa).scaleb(exponent)
    assert float32(encode_float32(value)) == (value, None)
