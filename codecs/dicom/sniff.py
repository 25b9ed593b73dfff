"""Is this DICOM? Read from the first bytes without importing the codec (nor pydicom)."""

from __future__ import annotations

EXPLICIT_VRS = frozenset(b"AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN "
                         b"UR US UT UV".split())
FIRST_GROUPS = (0x0002, 0x0008)  # a dataset starts with File Meta (0002) or Identifying (0008) elements


def sniff(head: bytes) -> int:
    """100 for "DICM" at byte 128; 60/40 for a plausible explicit/implicit raw dataset at byte 0."""
    if head[128:132] == b"DICM":
        return 100
    if len(head) < 8:
        return 0
    for order in ("little", "big"):
        group = int.from_bytes(head[0:2], order)
        element = int.from_bytes(head[2:4], order)
        if group not in FIRST_GROUPS or element > 0x0FFF:
            continue
        if head[4:6] in EXPLICIT_VRS:
            return 60
        length = int.from_bytes(head[4:8], order)
        if order == "little" and 0 < length < 1024 and length % 2 == 0:
            return 40
    return 0
