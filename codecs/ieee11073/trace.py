"""20601 trace files (DESIGN.md "CLI contract"): hex text or raw binary APDUs, framed by their headers.

Hex text: whitespace between bytes allowed, `#` starts a comment, lines starting with `<` are
manager → agent APDUs (checked, not required). An APDU may span several lines; APDUs are framed by
their 4-octet header (choice, length).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from interop.errors import DecodeError

STANDARD = "ieee11073-20601"
APDU_CHOICES = frozenset({0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7})
_HEX_LINE = re.compile(rb"^[0-9A-Fa-f\s]*$")


def is_hex_text(data: bytes) -> bool:
    """True when `data` looks like the hex-text trace format rather than binary APDUs."""
    head = data[:4096]
    if not head or head[0] in APDU_CHOICES:
        return False
    try:
        head.decode("ascii")
    except UnicodeDecodeError:
        return False
    return True


def parse_hex_text(data: bytes) -> tuple[bytes, bytes]:
    """(agent octets, manager octets) of a hex-text trace; raise DecodeError on a line that is not hex."""
    agent, manager = bytearray(), bytearray()
    for number, line in enumerate(data.splitlines(), 1):
        text = line.split(b"#", 1)[0].strip()
        if not text:
            continue
        target = agent
        if text.startswith(b"<"):
            target, text = manager, text[1:]
        elif text.startswith(b">"):
            text = text[1:]
        if not _HEX_LINE.match(text):
            raise DecodeError("line is not hex octets", standard=STANDARD, position=f"line {number}",
                              expected="hex octets, '#' comments or '<' manager lines")
        digits = b"".join(text.split())
        if len(digits) % 2:
            raise DecodeError("odd number of hex digits", standard=STANDARD, position=f"line {number}",
                              expected="two hex digits per octet")
        target += bytes.fromhex(digits.decode("ascii"))
    return bytes(agent), bytes(manager)


def frames(stream: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, APDU octets) for each APDU of a concatenation; DecodeError on a truncated or overrunning one."""
    pos = 0
    end = len(stream)
    while pos < end:
        if end - pos < 4:
            raise DecodeError(f"truncated APDU header ({end - pos} octets)", standard=STANDARD,
                              position=f"byte {pos}", expected="4-octet APDU header", offset=pos)
        if stream[pos] not in APDU_CHOICES or stream[pos + 1] != 0:
            raise DecodeError(f"unknown APDU choice 0x{stream[pos]:02X}{stream[pos + 1]:02X}", standard=STANDARD,
                              position=f"byte {pos}", expected="0xE200..0xE700 (AARQ, AARE, RLRQ, RLRE, ABRT, PRST)",
                              offset=pos)
        length = int.from_bytes(stream[pos + 2:pos + 4], "big")
        if pos + 4 + length > end:
            raise DecodeError(f"APDU length {length} overruns the {end - pos - 4} octets left", standard=STANDARD,
                              position=f"byte {pos + 2}", expected=f"at most {end - pos - 4}", offset=pos + 2)
        yield pos, stream[pos:pos + 4 + length]
        pos += 4 + length
