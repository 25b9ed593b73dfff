"""Is this HL7 v2? Read from the first bytes without importing the codec (detection runs it on every input)."""

from __future__ import annotations

_BOM = b"\xef\xbb\xbf"
_MLLP_START = 0x0B


def sniff(head: bytes) -> int:
    """100 for 'MSH' + a field separator at the start (after BOM, MLLP start block, blank lines); 50 for 'MSH'
    with a bad separator (still HL7 v2, so that the error can name MSH-1); 60 for a batch header."""
    start = 3 if head.startswith(_BOM) else 0
    if head[start:start + 1] == b"\x0b":
        start += 1
    n = len(head)
    while start < n and head[start] in b"\r\n \t":
        start += 1
    if head.startswith(b"MSH", start):
        return 100 if n > start + 3 and not chr(head[start + 3]).isalnum() else 50
    if head[start:start + 3] in (b"FHS", b"BHS"):
        return 60
    return 0
