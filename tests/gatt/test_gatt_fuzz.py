"""Arbitrary input only ever raises DecodeError (DESIGN.md, "Tests and data")."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073.gatt.characteristics import CHARACTERISTICS
from interop.codecs.ieee11073.gatt.codec import GattCodec
from interop.codecs.ieee11073.gatt.layouts import LAYOUTS

from interop.errors import DecodeError

CODEC = GattCodec()


def _try(data: bytes, strict: bool) -> None:
    try:
        CODEC.decode(data, strict=strict)
    except DecodeError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_arbitrary_bytes(data: bytes, strict: bool) -> None:
    _try(data, strict)
    _try(b"# characteristic: 2A35\n" + data, strict)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CHARACTERISTICS)), st.lists(st.binary(max_size=40), max_size=4), st.booleans())
def test_arbitrary_values(uuid: int, values: list[bytes], strict: bool) -> None:
    text = f"# characteristic: {uuid:04X}\n# device: 00:11:22:33:44:55\n" + "".join(v.hex() + "\n" for v in values)
    _try(text.encode(), strict)


def test_layouts_build_what_they_parse() -> None:
    # construct declarations are used both ways (DESIGN.md): build(parse(x)) == x for a full PLX value
    from interop.codecs.ieee11073.gatt.layouts import PlxContinuousMeasurement

    raw = bytes.fromhex("1fdef3caf3caf35af5d4f3b2f22001000000" "7ae3")  # SpeziBluetooth PLXTests.swift
    parsed = PlxContinuousMeasurement.parse(raw)
    assert PlxContinuousMeasurement.build(parsed) == raw
    assert set(LAYOUTS) >= set(CHARACTERISTICS)
