"""Which standard is this? Detection by content, never by file name alone."""

from __future__ import annotations

from .errors import DecodeError
from .registry import codec_names, get_codec

HEAD = 4096
CERTAIN = 100  # the top of the sniff scale (0-100): no codec can claim an input more strongly
_LAST: list[str | None] = [None]  # the codec that was certain of the previous input


def detect(data: bytes, *, source: str | None = None) -> str:
    """Name of the codec that claims `data` with the highest confidence.

    Built-in rules (each codec's `sniff`): "MSH" + field separator (after an optional BOM, MLLP
    start block or blank lines) is HL7 v2; 0xE2/0xE3/0xE4/0xE5/0xE6/0xE7 APDU choice octets (or hex
    text of them) are IEEE 11073-20601; "DICM" at byte 128, or a plausible group 0x0002/0x0008
    element at byte 0, is DICOM.
    """
    if not data:
        raise DecodeError("empty input", position="byte 0", expected="HL7 v2, IEEE 11073-20601 or DICOM content",
                          offset=0, source=source)
    head = data[:HEAD]
    last = _LAST[0]
    if last is not None and get_codec(last).sniff(head) >= CERTAIN:
        return last  # a stream of one standard: the codec that claimed the previous input, certain again
    best, best_score = None, 0
    for name in codec_names():
        try:
            codec = get_codec(name)
        except ImportError:  # a registered codec whose module is missing: it cannot claim anything
            continue
        score = codec.sniff(head)
        if score > best_score:
            best, best_score = name, score
    if best_score >= CERTAIN:
        _LAST[0] = best
    if best is None:
        raise DecodeError(
            f"unrecognised content starting {_describe(head)}",
            position="byte 0",
            expected="'MSH|' (HL7 v2), an 0xE2..0xE7 APDU or its hex text (IEEE 11073-20601), or 'DICM' at byte 128",
            offset=0,
            source=source,
        )
    return best


def _describe(head: bytes) -> str:
    sample = head[:8]
    if all(32 <= b < 127 for b in sample):
        return repr(sample.decode("ascii"))
    return "0x" + sample.hex()
