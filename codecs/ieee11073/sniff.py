"""Is this an IEEE 11073-20601 trace? Read from the first bytes without importing the codec."""

from __future__ import annotations

from .trace import APDU_CHOICES

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def sniff(head: bytes) -> int:
    """Binary APDU header (choice 0xE2..0xE7, 0x00, length ≥ 2): 80; hex text whose first octet is such a
    choice: 85; else 0."""
    if len(head) >= 4 and head[0] in APDU_CHOICES and head[1] == 0:
        length = int.from_bytes(head[2:4], "big")
        return 80 if length >= 2 else 20
    first = _first_hex_octet(head)
    if first is not None and first in APDU_CHOICES:
        return 85
    return 0


def _first_hex_octet(head: bytes) -> int | None:
    for line in head.splitlines():
        text = line.split(b"#", 1)[0].strip()
        if not text:
            continue
        if text.startswith(b"<") or text.startswith(b">"):
            text = text[1:].strip()
        digits = text[:2]
        if len(digits) == 2 and all(c in _HEX_DIGITS for c in digits):
            return int(digits, 16)
        return None
    return None
