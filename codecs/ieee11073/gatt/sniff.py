"""Is this a Bluetooth GATT text input? Read from the first bytes without importing the codec."""

from __future__ import annotations

from .textfile import header_first


def sniff(head: bytes) -> int:
    """90 when a `# characteristic:` line precedes every non-comment line (a GATT text input), else 0."""
    return 90 if header_first(head) else 0
