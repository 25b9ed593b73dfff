"""Inputs that hold several HL7 v2 messages: MLLP-framed captures, messages written one after
another, and batch files (HL7 v2 chapter 2 batch protocol: FHS/BHS ... BTS/FTS).

Interface engines hand such files around all the time; each message in them is translated on its
own, and nothing between them is dropped unseen: text that belongs to no message becomes a chunk
of its own, which the decoder then rejects with its position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from interop.errors import DecodeError

from .tokenizer import MLLP_END, MLLP_START

BOM = b"\xef\xbb\xbf"
# segments that start a message (MSH) or wrap a batch (FHS, BHS, BTS, FTS), at the start of a line and
# followed by their field separator (never alphanumeric, never a line end)
_MARKS = frozenset({b"MSH", b"FHS", b"BHS", b"BTS", b"FTS"})
_LINE_END = re.compile(rb"[\r\n]")


def split(data: bytes) -> list[tuple[int, bytes]]:
    """The messages in `data` as (byte offset, bytes), in order.

    One message (or anything that is not HL7 v2 at all) gives `[(0, data)]`, unchanged, so that a
    single message decodes exactly as before and a bad input is reported by the decoder.
    """
    chunks: list[tuple[int, bytes]] = []
    for base, frame in _frames(data):
        chunks.extend(_messages(frame, base))
    if len(chunks) == 1 and _batched(data):  # a batch of one message: the message without FHS/BHS/BTS/FTS
        return chunks
    return chunks if len(chunks) > 1 else [(0, data)]


def batch_messages(frame: bytes) -> list[tuple[int, bytes]]:
    """The messages of one batch (FHS/BHS ... BTS/FTS, the batch segments already in `frame`) as (byte
    offset, bytes); text that belongs to no message is a chunk of its own. An empty batch gives []."""
    marks = _marks(frame)
    if any(name == b"MSH" for _, name in marks):
        return _messages(frame, 0)
    rest = [(at, line) for at, line in _lines(frame) if line.strip() and line[:3] not in _MARKS]
    return [(rest[0][0], frame[rest[0][0]:])] if rest else []


def _lines(frame: bytes) -> Iterator[tuple[int, bytes]]:
    pos = 0
    for line in frame.replace(b"\n", b"\r").split(b"\r"):
        yield pos, line
        pos += len(line) + 1


def _batched(head: bytes) -> bool:
    """Whether the input starts with a batch header (FHS or BHS), after a BOM and an MLLP start block."""
    head = head[len(BOM):] if head.startswith(BOM) else head
    head = head.lstrip(b"\x0b\r\n \t")
    return head[:3] in (b"FHS", b"BHS")


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """MLLP blocks (start block 0x0B ... end block 0x1C), or the whole input when it has none."""
    start = len(BOM) if data.startswith(BOM) else 0
    if MLLP_START not in data[start:start + 64] and data.count(MLLP_START) < 2:
        return [(start, data[start:])]
    frames = []
    pos = start
    while True:
        begin = data.find(MLLP_START, pos)
        if begin < 0:
            rest = data[pos:]
            if rest.strip():  # text after the last block: not lost, the decoder reports it
                frames.append((pos, rest))
            return frames
        if data[pos:begin].strip():
            frames.append((pos, data[pos:begin]))
        end = data.find(MLLP_END, begin + 1)
        if end < 0:
            end = len(data)
        frames.append((begin + 1, data[begin + 1:end]))
        pos = end + 2 if data[end + 1:end + 2] == b"\r" else end + 1


def _messages(frame: bytes, base: int) -> list[tuple[int, bytes]]:
    """The messages of one frame: each runs from its MSH to the next MSH or batch segment."""
    marks = _marks(frame)
    if not any(name == b"MSH" for _, name in marks):
        return [(base, frame)] if frame.strip() else []
    out: list[tuple[int, bytes]] = []
    lead = frame[:marks[0][0]]
    if lead.strip():  # text before the first message or batch header: its own chunk, reported
        out.append((base, lead))
    for i, (at, name) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(frame)
        if name == b"MSH":
            out.append((base + at, frame[at:end]))
            continue
        line_end = _LINE_END.search(frame, at, end)  # a batch segment: drop its own line only
        rest = line_end.end() if line_end else end
        if frame[rest:end].strip():
            out.append((base + rest, frame[rest:end]))
    return out


def _marks(frame: bytes) -> list[tuple[int, bytes]]:
    """(offset, segment id) of each line of `frame` that starts a message or wraps a batch.

    Line by line rather than one regular expression over the bytes: a search that may start at any
    byte costs ~40 µs per message, this ~4 µs (LF → CR keeps every offset)."""
    marks = []
    pos = 0
    for line in frame.replace(b"\n", b"\r").split(b"\r"):
        if line[:3] in _MARKS and len(line) > 3 and not (line[3:4].isalnum() or line[3] in b"\r\n"):
            marks.append((pos, line[:3]))
        pos += len(line) + 1
    return marks


# ---------------------------------------------------------------------------------------------- streams

def split_stream(chunks: Iterable[bytes], *, limit: int = 64 * 1024 * 1024) -> Iterator[tuple[int, bytes]]:
    """`split` of the concatenation of `chunks`, read incrementally: each message is yielded as soon as
    the next one (or the end of the input) shows where it ends, so memory holds one message and one
    chunk whatever the size of the input. The same (offset, bytes) as `split(b"".join(chunks))`, except
    that MLLP framing is recognised only when a start block comes within the first 64 bytes (`split`
    also looks for two start blocks anywhere). `limit`: the most bytes one message (or MLLP block, or
    text before the first message) may have; a longer one raises `DecodeError` naming its offset.
    """
    source = iter(chunks)
    head = bytearray()
    for chunk in source:
        head += chunk
        if len(head) >= 3 + 64:
            break
    start = len(BOM) if head.startswith(BOM) else 0
    framed = MLLP_START in head[start:start + 64]
    stream = _Stream(bytes(head), source, limit)
    pieces = _mllp_stream(stream, start) if framed else _line_stream(stream, start)
    # one message (or none) is yielded as the whole input, unchanged, as `split` does
    first = next(pieces, None)
    if first is None:
        yield 0, stream.whole()
        return
    second = next(pieces, None)
    if second is None:
        if _batched(bytes(head)):  # a batch of one message: the message without its batch envelope
            yield first
            return
        yield 0, stream.whole()
        return
    stream.keep_whole = False
    yield first
    yield second
    yield from pieces


class _Stream:
    """A window on the input: bytes from absolute offset `base` on, read chunk by chunk."""

    def __init__(self, head: bytes, source: Iterator[bytes], limit: int) -> None:
        self.window = bytearray(head)
        self.base = 0
        self.source = source
        self.limit = limit
        self.eof = False
        self.keep_whole = True  # until a second message shows up, the whole input may be the message
        self._whole = bytearray(head)

    def more(self) -> bool:
        """Read one more chunk into the window; False at the end of the input."""
        for chunk in self.source:
            if not chunk:
                continue
            self.window += chunk
            if self.keep_whole:
                self._whole += chunk
                if len(self._whole) > 2 * self.limit:  # one message and the start of the next, at most
                    self._too_long(0)
            return True
        self.eof = True
        return False

    def drop(self, n: int) -> None:
        """Forget the first `n` bytes of the window (they have been yielded or dropped)."""
        if n:
            del self.window[:n]
            self.base += n

    def check(self, start: int) -> None:
        """The text from window position `start` on is one unfinished message: refuse it past the limit."""
        if len(self.window) - start > self.limit:
            self._too_long(self.base + start)

    def whole(self) -> bytes:
        while self.more():
            pass
        return bytes(self._whole)

    def _too_long(self, offset: int) -> None:
        raise DecodeError(f"message at byte {offset} is longer than {self.limit} bytes", standard="hl7v2",
                          position=f"byte {offset}", expected=f"at most {self.limit} bytes per message",
                          offset=offset)


def _mllp_stream(stream: _Stream, start: int) -> Iterator[tuple[int, bytes]]:
    """`_frames` → `_messages` over a stream: each MLLP block is read whole, then split."""
    stream.drop(start)
    w = stream
    while True:
        begin = w.window.find(MLLP_START)
        while begin < 0 and w.more():
            begin = w.window.find(MLLP_START)
            w.check(0)
        if begin < 0:
            rest = bytes(w.window)
            if rest.strip():  # text after the last block: not lost, the decoder reports it
                yield from _messages(rest, w.base)
            return
        if w.window[:begin].strip():
            yield from _messages(bytes(w.window[:begin]), w.base)
        w.drop(begin + 1)
        end = w.window.find(MLLP_END)
        while end < 0 and w.more():
            end = w.window.find(MLLP_END)
            w.check(0)
        if end < 0:
            end = len(w.window)
        while len(w.window) < end + 2 and w.more():  # is the end block followed by its CR?
            pass
        yield from _messages(bytes(w.window[:end]), w.base)
        w.drop(end + 2 if w.window[end + 1:end + 2] == b"\r" else end + 1)


def _line_stream(stream: _Stream, start: int) -> Iterator[tuple[int, bytes]]:
    """`_messages` of an unframed input over a stream: a message ends where the next line that starts a
    message or wraps a batch begins; until the first MSH is seen, everything is held (as `_messages`
    treats a frame without MSH as one chunk)."""
    w = stream
    w.drop(start)
    marks: list[tuple[int, bytes]] = []  # (window position, segment id) since the first held chunk
    scan = 0  # window position up to which lines were looked at (always the start of a line)
    seen_msh = False
    while True:
        more = w.more()
        window = w.window
        if more:
            last = max(window.rfind(b"\r", scan), window.rfind(b"\n", scan))
            if last < 0:
                w.check(marks[-1][0] if seen_msh and marks else 0)
                continue
            stop = last + 1
        else:
            stop = len(window)
        pos = scan
        for line in bytes(window[scan:stop]).replace(b"\n", b"\r").split(b"\r"):
            if line[:3] in _MARKS and len(line) > 3 and not line[3:4].isalnum():
                marks.append((pos, line[:3]))
            pos += len(line) + 1
        scan = stop
        if not seen_msh and any(name == b"MSH" for _, name in marks):
            seen_msh = True
            lead = window[:marks[0][0]]
            if lead.strip():  # text before the first message or batch header: its own chunk, reported
                yield w.base, bytes(lead)
        if seen_msh and len(marks) > 1 or not more and seen_msh:
            # every chunk whose end is known: all but the last mark's, or all of them at the end
            done = len(marks) - 1 if more else len(marks)
            for i in range(done):
                at, name = marks[i]
                end = marks[i + 1][0] if i + 1 < len(marks) else len(window)
                yield from _chunk(window, at, end, name, w.base)
            keep = marks[done][0] if done < len(marks) else len(window)
            marks = [(at - keep, name) for at, name in marks[done:]]
            scan -= keep
            w.drop(keep)
        if not more:
            if not seen_msh and window.strip():
                yield w.base, bytes(window)
            return
        w.check(marks[-1][0] if seen_msh and marks else 0)


def _chunk(frame: bytearray, at: int, end: int, name: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    """The chunk a mark at `at` starts (as `_messages` makes it)."""
    if name == b"MSH":
        yield base + at, bytes(frame[at:end])
        return
    line_end = _LINE_END.search(frame, at, end)  # a batch segment: drop its own line only
    rest = line_end.end() if line_end else end
    if frame[rest:end].strip():
        yield base + rest, bytes(frame[rest:end])
