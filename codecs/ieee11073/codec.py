"""`X73Codec`: IEEE 11073-20601 traces (binary APDUs or hex text) → one canonical `Message` per association."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .trace import APDU_CHOICES

if TYPE_CHECKING:
    from interop.model import Message

_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class X73Codec:
    """Registry codec "ieee11073" (standard "ieee11073-20601")."""

    name = "ieee11073"
    standard = "ieee11073-20601"

    def sniff(self, head: bytes) -> int:
        """Confidence that `head` is a 20601 trace: binary APDU header, or hex text whose first octet is 0xE2..0xE7."""
        if len(head) >= 4 and head[0] in APDU_CHOICES and head[1] == 0:
            length = int.from_bytes(head[2:4], "big")
            return 80 if length >= 2 else 20
        first = _first_hex_octet(head)
        if first is not None and first in APDU_CHOICES:
            return 85
        return 0

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Decode a trace as one association (AARQ, optional configuration, reports, release)."""
        from .decode import decode_trace

        return decode_trace(data, strict=strict, source=source)


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
