"""`X73Codec`: IEEE 11073-20601 traces (binary APDUs or hex text) → one canonical `Message` per association."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interop.model import Message


class X73Codec:
    """Registry codec "ieee11073" (standard "ieee11073-20601")."""

    name = "ieee11073"
    standard = "ieee11073-20601"

    def sniff(self, head: bytes) -> int:
        """Confidence that `head` is a 20601 trace: binary APDU header, or hex text whose first octet is 0xE2..0xE7."""
        from .sniff import sniff

        return sniff(head)

    def split(self, data: bytes) -> list[tuple[int, bytes]]:
        """The associations of a trace that holds several, one after another: (offset, bytes) each."""
        from .split import split

        return split(data)

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Decode a trace as one association (AARQ, optional configuration, reports, release)."""
        from .decode import decode_trace

        return decode_trace(data, strict=strict, source=source)

