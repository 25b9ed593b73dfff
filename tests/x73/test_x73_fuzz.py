"""Hypothesis fuzzing: arbitrary and mutated bytes only ever raise DecodeError (LayoutError below it)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073 import apdu
from interop.codecs.ieee11073.association import Association
from interop.codecs.ieee11073.codec import X73Codec
from interop.codecs.ieee11073.decode import decode_trace

from interop.errors import DecodeError

from .vectors import all_apdu_vectors, load, trace

SEEDS = [load(n) for n in all_apdu_vectors()]
SESSION = trace("antidote_H211", "antidote_H221", "antidote_H233", "antidote_H241", "antidote_rx_rlrq_normal")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf)


@FUZZ
@given(st.binary(max_size=300))
def test_parse_apdu_arbitrary(data: bytes) -> None:
    try:
        apdu.parse_apdu(data)
    except apdu.LayoutError:
        pass


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
       st.integers(0, 400))
def test_parse_apdu_mutated(seed: bytes, edits, cut: int) -> None:
    data = _mutate(seed, edits)[: max(cut, 1)]
    try:
        value = apdu.parse_apdu(data)
    except apdu.LayoutError:
        return
    assert apdu.build_apdu(value) == data  # whatever parses builds back identically


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8), st.integers(1, 500))
def test_decode_trace_mutated(edits, cut: int) -> None:
    data = _mutate(SESSION, edits)[:cut]
    for strict in (False, True):
        try:
            decode_trace(data, strict=strict)
        except DecodeError:
            pass


@FUZZ
@given(st.binary(max_size=400))
def test_codec_decode_arbitrary(data: bytes) -> None:
    codec = X73Codec()
    assert 0 <= codec.sniff(data[:4096]) <= 100
    try:
        codec.decode(data)
    except DecodeError:
        pass


@FUZZ
@given(st.lists(st.sampled_from(SEEDS) | st.binary(max_size=60), max_size=6))
def test_manager_survives_any_apdu_sequence(frames: list[bytes]) -> None:
    m = Association(mode="manager")
    for frame in frames:
        try:
            m.receive(frame)
        except DecodeError:
            m.invalid_apdu()
    assert m.state in {"unassociated", "configuring", "operating", "disassociating"}


@FUZZ
@given(st.text(alphabet="0123456789abcdefE <#\n\tx", max_size=300))
def test_hex_text_arbitrary(text: str) -> None:
    try:
        decode_trace(text.encode())
    except DecodeError:
        pass
