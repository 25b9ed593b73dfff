"""`split_stream`: the HL7 v2 splitter over an input read chunk by chunk gives what `split` gives over the
whole input, wherever the chunks are cut, and holds one message at a time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from interop.codecs.hl7v2.batch import split, split_stream

from interop.errors import DecodeError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

FEED = feed((ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes(), 3)
PARTS = [b"MSH|^~\\&|A\r", b"FHS|^~\\&|\r", b"BHS|x\r", b"BTS|4\r", b"FTS|1\n", b"OBX|1|NM\r", b"\r", b"\n", b"\r\n",
         b"\x0b", b"\x1c", b"\x1c\r", b"junk", b"MSH", b"MSHX|", b" ", b"\xef\xbb\xbf", *FEED]


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PARTS), max_size=10), st.lists(st.integers(0, 40_000), max_size=6))
def test_same_chunks_as_split_wherever_the_input_is_cut(parts: list[bytes], cuts: list[int]) -> None:
    data = b"".join(parts)
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if b"\x0b" not in data[start:start + 64] and data.count(b"\x0b") >= 2:
        return  # MLLP blocks that start late: `split` finds them by counting, a stream cannot (documented)
    assert list(split_stream(_cut(data, cuts))) == split(data)


def test_a_batch_one_byte_at_a_time() -> None:
    data = b"FHS|^~\\&|GW\rBHS|^~\\&|GW\r" + b"\r".join(FEED) + b"\rBTS|3\rFTS|1\r"
    assert list(split_stream(bytes([b]) for b in data)) == split(data)
    mllp = b"".join(b"\x0b" + m + b"\x1c\r" for m in FEED)
    assert list(split_stream(bytes([b]) for b in mllp)) == split(mllp)


def test_messages_come_out_before_the_input_ends() -> None:
    """The first message is out once the third starts: nothing waits for the end of the input."""
    read: list[int] = []

    def chunks():
        for n, m in enumerate(FEED * 100):
            read.append(n)
            yield m + b"\r"

    stream = split_stream(chunks())
    next(stream)
    assert len(read) <= 3


def test_a_message_over_the_limit_is_refused_with_its_offset() -> None:
    third = len(FEED[0]) + len(FEED[1]) + 2
    data = FEED[0] + b"\r" + FEED[1] + b"\r" + FEED[2] + b"\rOBX|1|ST|||" + b"x" * 5000 + b"\r"
    stream = split_stream([data[i:i + 100] for i in range(0, len(data), 100)], limit=len(FEED[1]) + 200)
    assert [offset for offset, _ in (next(stream), next(stream))] == [0, len(FEED[0]) + 1]
    with pytest.raises(DecodeError, match=f"message at byte {third} is longer than"):
        list(stream)
