"""Traces that hold several associations one after another (a gateway's capture of a day, files
concatenated): one message per association, each starting at its AARQ (0xE2) APDU.

Without this, a concatenation decoded as one association would keep only what the last agent said.
Splitting never raises: where the framing breaks (a bad header, a line that is not hex), the rest stays
with the association it is in and the decoder reports it with its position.
"""

from __future__ import annotations

from .trace import APDU_CHOICES, is_hex_text

AARQ = 0xE2


def split(data: bytes) -> list[tuple[int, bytes]]:
    """(byte offset, bytes) of each association of a trace; one association gives `[(0, data)]`."""
    cuts = _hex_cuts(data) if is_hex_text(data) else _binary_cuts(data)
    if not cuts:
        return [(0, data)]
    bounds = [0, *cuts, len(data)]
    return [(a, data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if data[a:b].strip()]


def _binary_cuts(data: bytes) -> list[int]:
    cuts = []
    pos, end = 0, len(data)
    while end - pos >= 4 and data[pos] in APDU_CHOICES and data[pos + 1] == 0:
        if data[pos] == AARQ and pos > 0:
            cuts.append(pos)
        pos += 4 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return cuts


def _hex_cuts(data: bytes) -> list[int]:
    """Where each AARQ after the first starts: at the comment lines right before it (its heading), else
    at its own line. An APDU may span lines: the agent octets are framed by their headers."""
    cuts = []
    remaining = 0  # octets of the current agent APDU still to come
    header = bytearray()  # the first octets of an agent APDU whose header is not complete yet
    seen = False
    heading = None  # offset of the comment lines just before the current line
    pos = 0
    for line in data.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        text = line.split(b"#", 1)[0].strip()
        if not text:
            if heading is None and line.strip().startswith(b"#"):
                heading = start
            elif not line.strip():
                heading = None
            continue
        if text.startswith(b"<"):  # a manager APDU: not part of the agent's framing
            heading = None
            continue
        if text.startswith(b">"):
            text = text[1:]
        try:
            octets = bytes.fromhex(b"".join(text.split()).decode("ascii"))
        except ValueError:
            return cuts  # not hex: the decoder says where
        i = 0
        while i < len(octets):
            if remaining == 0 and not header:
                if octets[i] == AARQ and seen:
                    cuts.append(heading if heading is not None and i == 0 else start)
                seen = True
            if remaining == 0:
                header.append(octets[i])
                i += 1
                if len(header) == 4:
                    remaining = int.from_bytes(header[2:4], "big")
                    header.clear()
                continue
            take = min(remaining, len(octets) - i)
            remaining -= take
            i += take
        heading = None
    return cuts
