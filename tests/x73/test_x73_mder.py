"""MDER SFLOAT/FLOAT/time values (20601 annex F; HL7 PHD IG FLOATS page via data/phd_ig_float_sfloat.tsv)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from interop.codecs.ieee11073 import mder

from .vectors import DATA


def _rows():
    for line in (DATA / "phd_ig_float_sfloat.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        kind, hexval, expected = line.split("\t")
        yield kind, int(hexval, 16), expected


@pytest.mark.parametrize(("kind", "raw", "expected"), list(_rows()))
def test_phd_ig_float_table(kind: str, raw: int, expected: str) -> None:
    # source: HL7/phd input/pagecontent/FLOATS.md @ 5af8412 (every row of its table)
    value, reason = (mder.float32 if kind == "FLOAT" else mder.sfloat)(raw)
    if expected.startswith("dataAbsentReason="):
        assert value is None
        assert reason == expected.split("=", 1)[1].split(" ")[0]
    else:
        assert reason is None
        assert str(value) == expected  # precision kept: "2.00" stays "2.00", "20" not "2E+1"


def test_precision_examples_from_the_issue() -> None:
    # SFLOAT 0x0078 = 120 (antidote H241_ID_02BC systolic); FLOAT 0xFF0002FA = 76.2 kg (H241_ID_05DC);
    # SFLOAT 0xF258 = 60.0 bpm (H241_ID_02BC pulse)
    assert str(mder.sfloat(0x0078)[0]) == "120"
    assert str(mder.float32(0xFF0002FA)[0]) == "76.2"
    assert str(mder.sfloat(0xF258)[0]) == "60.0"
    assert str(mder.float32(0xFF0002FD)[0]) == "76.5"
    assert mder.encode_float("76.3") == 0xFF0002FB and str(mder.float32(0xFF0002FB)[0]) == "76.3"


def test_special_value_names() -> None:
    assert mder.sfloat(0x07FE) == (None, "positive-infinity")
    assert mder.sfloat(0x0802) == (None, "negative-infinity")
    assert mder.float32(0x00800000) == (None, "error")


def test_bcd_absolute_time() -> None:
    # antidote H241: 20 07 02 01 12 10 00 00 = 2007-02-01T12:10:00.00
    assert mder.absolute_time(bytes.fromhex("2007020112100000")) == (datetime(2007, 2, 1, 12, 10), "second")
    assert mder.absolute_time(bytes.fromhex("2010072115355350"))[0] == datetime(2010, 7, 21, 15, 35, 53, 500000)
    with pytest.raises(ValueError):
        mder.absolute_time(bytes.fromhex("20071A0112100000"))
    assert mder.encode_absolute_time(datetime(2007, 12, 6, 12, 10)) == bytes.fromhex("2007120612100000")


@given(st.integers(-2000, 2000), st.integers(-8, 7))
def test_sfloat_round_trip(mantissa: int, exponent: int) -> None:
    value = Decimal(mantissa).scaleb(exponent) if exponent < 0 else Decimal(mantissa * 10**exponent)
    raw = mder.encode_sfloat(value)
    back, reason = mder.sfloat(raw)
    assert reason is None and back == value


@given(st.integers(0, 0xFFFF))
def test_sfloat_total(raw: int) -> None:
    value, reason = mder.sfloat(raw)
    assert (value is None) != (reason is None)


@given(st.integers(0, 0xFFFFFFFF))
def test_float_total(raw: int) -> None:
    value, reason = mder.float32(raw)
    assert (value is None) != (reason is None)
