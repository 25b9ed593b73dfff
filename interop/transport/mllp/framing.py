"""MLLP wire format: the block that carries one HL7 v2 message over TCP.

HL7 Version 3 Standard: Transport Specification - MLLP, Release 2 (also HL7 v2.x Implementation
Guide: Transport Specification, MLLP R2), "Block Format"::

    <SB> dddd <EB><CR>

    <SB> Start Block character, 1 byte, 0x0B (vertical tab)
    dddd data: the HL7 message (any byte except <SB> and <EB>)
    <EB> End Block character, 1 byte, 0x1C (file separator)
    <CR> Carriage Return, 1 byte, 0x0D

`FrameScanner` cuts a byte stream into these blocks incrementally, without copying when a whole
block sits in one read, and reports what it saw as the session events of `fsm.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

SB = b"\x0b"
EB = b"\x1c"
CR = b"\r"
TRAILER = EB + CR

# what a sender may put between blocks without it being junk (line ends some senders add)
_BETWEEN = frozenset(b"\r\n \t")


def frame(payload: bytes) -> bytes:
    """`payload` wrapped in one MLLP block."""
    return SB + payload + TRAILER


@dataclass(frozen=True, slots=True)
class Start:
    """A start block character was read (a block begins)."""


@dataclass(frozen=True, slots=True)
class Block:
    """A complete block: `payload` is what lay between <SB> and <EB>. `trailer_ok` is False when <EB>
    was not followed by <CR> (tolerated)."""

    payload: bytes
    trailer_ok: bool = True


@dataclass(frozen=True, slots=True)
class Junk:
    """`size` bytes outside any block (not whitespace), discarded."""

    size: int


@dataclass(frozen=True, slots=True)
class Oversize:
    """The block being read passed `limit` bytes; `head` holds its first bytes (for the MSH, to answer)."""

    head: bytes
    limit: int


@dataclass(frozen=True, slots=True)
class DiscardEnd:
    """The end of an oversized block that was being discarded; `size`: bytes it had in all."""

    size: int


ScanEvent = Start | Block | Junk | Oversize | DiscardEnd

START = Start()
HEAD = 4096  # bytes of an oversized block kept to read its MSH


class FrameScanner:
    """Incremental MLLP block scanner with a size limit.

    `feed(data)` returns the events in `data` in order. After `Oversize` the rest of that block is
    discarded (counted, not stored) until its <EB>, then `DiscardEnd`. `in_block` says whether a block
    is open (for the partial-frame timer); `buffered` how many bytes of it are held."""

    __slots__ = ("limit", "_buf", "_state", "_discarded", "_cr_pending")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._state = 0  # 0 between blocks, 1 in a block, 2 discarding an oversized block
        self._discarded = 0
        self._cr_pending = False  # an <EB> ended the last read: its <CR> may open the next one

    @property
    def in_block(self) -> bool:
        """A block is open (started, not ended)."""
        return self._state != 0

    @property
    def buffered(self) -> int:
        """Bytes of the open block read so far."""
        return len(self._buf) if self._state == 1 else self._discarded

    def feed(self, data: bytes) -> list[ScanEvent]:
        """Scan `data`; returns the events it completes, in order."""
        events: list[ScanEvent] = []
        i, n = 0, len(data)
        if self._cr_pending and n:
            self._cr_pending = False
            if data[0] == 0x0D:
                i = 1
        while i < n:
            state = self._state
            if state == 0:
                j = data.find(SB, i)
                end = n if j < 0 else j
                junk = end - i
                if junk:
                    # count only what is not whitespace between blocks
                    k = sum(1 for b in data[i:end] if b not in _BETWEEN) if junk < 64 else junk - sum(
                        data.count(c, i, end) for c in b"\r\n \t")
                    if k:
                        events.append(Junk(k))
                if j < 0:
                    break
                events.append(START)
                self._state = 1
                i = j + 1
            elif state == 1:
                j = data.find(EB, i)
                buf = self._buf
                if j < 0:
                    if len(buf) + (n - i) > self.limit:
                        self._oversize(data[i:n], events)
                    else:
                        buf += data[i:n]
                    break
                if len(buf) + (j - i) > self.limit:
                    self._oversize(data[i:j], events)
                    self._state = 0
                    events.append(DiscardEnd(self._discarded))
                    self._discarded = 0
                else:
                    if buf:
                        buf += data[i:j]
                        payload = bytes(buf)
                        buf.clear()
                    else:
                        payload = data[i:j]
                    self._state = 0
                    if j + 1 < n:
                        ok = data[j + 1] == 0x0D
                        events.append(Block(payload, ok))
                    else:
                        events.append(Block(payload, True))
                        self._cr_pending = True
                i = j + 2 if j + 1 < n and data[j + 1] == 0x0D else j + 1
            else:  # discarding an oversized block
                j = data.find(EB, i)
                if j < 0:
                    self._discarded += n - i
                    break
                self._discarded += j - i
                events.append(DiscardEnd(self._discarded))
                self._discarded = 0
                self._state = 0
                if j + 1 < n:
                    i = j + 2 if data[j + 1] == 0x0D else j + 1
                else:
                    self._cr_pending = True
                    break
        return events

    def _oversize(self, chunk: bytes, events: list[ScanEvent]) -> None:
        buf = self._buf
        head = bytes(buf[:HEAD]) if len(buf) >= HEAD else bytes(buf) + chunk[:HEAD - len(buf)]
        self._discarded = len(buf) + len(chunk)
        buf.clear()
        self._state = 2
        events.append(Oversize(head, self.limit))

    def reset(self) -> int:
        """Drop an open block (the connection ends); returns how many bytes it held."""
        held = self.buffered
        self._buf.clear()
        self._state = 0
        self._discarded = 0
        return held
