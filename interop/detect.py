"""Which standard is this? Detection by content, never by file name alone."""

from __future__ import annotations

from .errors import DecodeError
from .registry import builtin_codec_names, codec_names, get_sniffer

HEAD = 4096
CERTAIN = 100  # the top of the sniff scale (0-100): no codec can claim an input more strongly
_LAST: list[str | None] = [None]  # the codec that was certain of the previous input


def detect(data: bytes, *, source: str | None = None) -> str:
    """Name of the codec that claims `data` with the highest confidence.

    Only the first 4 KiB are read, by each codec's sniffer (a light module: no codec is imported to
    detect one; see `interop.registry`). Built-in rules: "MSH" + field separator (after an optional BOM, MLLP
    start block or blank lines) is HL7 v2; 0xE2/0xE3/0xE4/0xE5/0xE6/0xE7 APDU choice octets (or hex
    text of them) are IEEE 11073-20601; "DICM" at byte 128, or a plausible group 0x0002/0x0008
    element at byte 0, is DICOM.
    """
    if not data:
        raise DecodeError("empty input", position="byte 0", expected="HL7 v2, IEEE 11073-20601 or DICOM content",
                          offset=0, source=source)
    head = data[:HEAD]
    last = _LAST[0]
    if last is not None and _score(last, head) >= CERTAIN:
        return last  # a stream of one standard: the codec that claimed the previous input, certain again
    # The built-in codecs' sniffers first (light modules, no codec imported); the installed entry points
    # are read only when none of them is certain, for the codecs other packages add.
    best, best_score = _best(builtin_codec_names(), head)
    if best_score < CERTAIN:
        others = [name for name in codec_names() if name not in builtin_codec_names()]
        name, score = _best(others, head)
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


def _best(names: list[str], head: bytes) -> tuple[str | None, int]:
    best, best_score = None, 0
    for name in names:
        score = _score(name, head)
        if score > best_score:
            best, best_score = name, score
    return best, best_score


def _score(name: str, head: bytes) -> int:
    try:
        sniff = get_sniffer(name)
    except ImportError:  # a registered codec whose module is missing: it cannot claim anything
        return 0
    return sniff(head)


def _describe(head: bytes) -> str:
    sample = head[:8]
    if all(32 <= b < 127 for b in sample):
        return repr(sample.decode("ascii"))
    return "0x" + sample.hex()
