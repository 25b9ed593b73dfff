"""Bytes → pydicom Dataset, header only (stops before Pixel Data), with structural checks pydicom skips.

pydicom silently accepts a truncated file and an element whose length field is wrong (it reads garbage
tags after it); the checks here turn both into a `DecodeError` naming the tag.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from array import array
from operator import attrgetter
from typing import TYPE_CHECKING

from interop.errors import DecodeError
from interop.model import Issue

from .construct import build
from .elements import STANDARD, tag_str

if TYPE_CHECKING:
    from pydicom import Dataset

PIXEL_DATA = 0x7FE00010
PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # Float, Double Float and Pixel Data: reading stops
DEFLATED = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95"})  # Deflated Explicit VR LE, JPIP Referenced Deflate
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
UNDEFINED_LENGTH = 0xFFFFFFFF
_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
                  "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
                  "UT", "UV", "OB or OW", "US or SS", "US or OW", "US or SS or OW", "OW or OB", "SS or US"})
_VR_OF = attrgetter("VR")
_TAG_IN_TEXT = re.compile(r"\(([0-9A-Fa-f]{4}),\s*([0-9A-Fa-f]{4})\)")
_QUOTED = re.compile(r"b?'[^']*'|b?\"[^\"]*\"")


def has_preamble(data: bytes) -> bool:
    """True for a Part 10 file: 128-byte preamble then "DICM"."""
    return data[128:132] == b"DICM"


def plausible_dataset(data: bytes) -> bool:
    """True when byte 0 starts a standard data element (even group 0002-0040) in some byte order/VR form."""
    if len(data) < 8:
        return False
    for order in ("little", "big"):
        group = int.from_bytes(data[0:2], order)
        if group % 2 or not 0x0002 <= group <= 0x0040:
            continue
        if data[4:6].decode("latin_1") in _VRS:
            return True
        if int.from_bytes(data[4:8], order) <= len(data) - 8:
            return True
    return False


def read_dataset(data: bytes, *, strict: bool = False, source: str | None = None) -> tuple[Dataset, list[Issue]]:
    """The header of a Part 10 file or a raw dataset (no pixel data read) and the reader's findings."""
    import pydicom

    if len(data) < 8:
        raise DecodeError(f"{len(data)} bytes is too short for a DICOM dataset", standard=STANDARD,
                          position="byte 0", expected="a Part 10 file ('DICM' at byte 128) or a dataset",
                          offset=0, source=source)
    part10 = has_preamble(data)
    if not part10 and not plausible_dataset(data):
        raise DecodeError("not a DICOM file", standard=STANDARD, position="byte 128",
                          expected="'DICM' after a 128-byte preamble, or a data element of group 0002-0040 at "
                          "byte 0", offset=128, source=source)
    if part10 and len(data) >= 140 and not plausible_dataset(data[132:]):
        # what follows the magic must be the File Meta Information (group 0002) or, in files that lack it,
        # the first element of the dataset; anything else is not DICOM whatever the magic says
        found = data[132:140].hex(" ").upper() or "end of file"
        raise DecodeError(f"the bytes after 'DICM' do not start a data element ({found})", standard=STANDARD,
                          position="byte 132", expected="a File Meta Information element (0002,xxxx) after 'DICM'",
                          offset=132, source=source)
    fp = io.BytesIO(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not part10)
        except DecodeError:
            raise
        except Exception as exc:  # pydicom raises many types on malformed input
            raise _reader_error(exc, fp.tell(), source) from None
    # Character set findings are reported by the element decoder with their tag; skip pydicom's copies.
    issues = [_warning_issue(w.message) for w in caught if "encoding" not in str(w.message)]
    if not part10 and not len(ds):
        raise DecodeError("no DICOM data elements found", standard=STANDARD, position="byte 0",
                          expected="'DICM' at byte 128 or a data element at byte 0", offset=0, source=source)
    _check_structure(ds, source)
    meta_end = _check_meta_length(ds, data, part10, source)
    _check_end(ds, data, meta_end, source)
    _check_pixel_header(ds, data, fp.tell(), issues, source)
    if strict and issues:
        first = issues[0]
        raise DecodeError(first.message, standard=STANDARD, position=first.location, source=source)
    return ds, issues


def _reader_error(exc: BaseException, offset: int, source: str | None) -> DecodeError:
    text = str(exc)
    m = _TAG_IN_TEXT.search(text)
    position = f"({m.group(1).upper()},{m.group(2).upper()})" if m else f"byte {offset}"
    if type(exc).__name__ == "InvalidDicomError":
        return DecodeError("not a DICOM file", standard=STANDARD, position="byte 128",
                           expected="'DICM' after a 128-byte preamble, or a raw dataset", offset=128, source=source)
    kind = "truncated" if isinstance(exc, EOFError) or "end of file" in text.lower() else "malformed"
    return DecodeError(f"{kind} data element ({type(exc).__name__})", standard=STANDARD, position=position,
                       expected="tag, VR and length consistent with the bytes that follow", source=source)


def _warning_issue(message: Warning | str) -> Issue:
    text = _QUOTED.sub("'…'", str(message))  # pydicom quotes values; never copy them into findings
    m = _TAG_IN_TEXT.search(text)
    location = f"({m.group(1).upper()},{m.group(2).upper()})" if m else "dataset"
    return build(Issue, severity="warning", code="dicom.reader-warning", location=location,
                                 message=text[:200], offset=None)


def _check_structure(ds: Dataset, source: str | None) -> None:
    """Tags ascend, VRs exist and the last element is complete (a wrong length breaks all three).

    After a wrong value length pydicom reads value bytes as tags; the finding names the last plausible
    element before that garbage, the one whose length is most likely wrong.
    """
    elements = ds._dict  # insertion order = file order; values are still raw (not converted)
    tags = array("L", elements)  # plain ints: BaseTag comparisons are Python-level and 10x slower
    if list(tags) != sorted(tags):
        k = next(i for i in range(1, len(tags)) if tags[i] <= tags[i - 1])
        raise _length_error(tags, k, source, "the elements after it are out of order")
    vrs = set(map(_VR_OF, elements.values()))
    vrs.discard(None)
    if not vrs <= _VRS:
        k = next(i for i, e in enumerate(elements.values()) if e.VR is not None and e.VR not in _VRS)
        raise _length_error(tags, k, source, "the bytes after it do not form a data element")
    if elements:
        last = next(reversed(elements.values()))
        if getattr(last, "is_raw", False) and last.length != UNDEFINED_LENGTH and last.value is not None \
                and len(last.value) < last.length:
            if _plausible(tags, len(tags) - 1):
                raise DecodeError(f"truncated: {len(last.value)} of {last.length} value bytes present",
                                  standard=STANDARD, position=tag_str(last.tag),
                                  expected=f"{last.length} bytes of value", source=source)
            raise _length_error(tags, len(tags) - 1, source, "the bytes after it do not form a data element")


def _check_meta_length(ds: Dataset, data: bytes, part10: bool, source: str | None) -> int | None:
    """A Part 10 file holds the whole File Meta group its Group Length (0002,0000) announces; returns its end."""
    if not part10:
        return None
    if len(data) < 144:
        raise DecodeError(f"truncated: {len(data)} bytes end inside File Meta Information Group Length",
                          standard=STANDARD, position="(0002,0000)", expected="12 bytes of element after 'DICM'",
                          offset=len(data), source=source)
    meta = getattr(ds, "file_meta", None)
    elem = getattr(meta, "_dict", {}).get(0x00020000) if meta is not None else None
    value = getattr(elem, "value", None)
    if isinstance(value, bytes):
        value = int.from_bytes(value[:4], "little") if len(value) >= 4 else None
    if not isinstance(value, int):
        return None
    meta_end = 132 + 12 + value  # preamble + "DICM", the explicit VR UL group length element, the group
    if len(data) < meta_end:
        last = max(meta._dict) if meta._dict else 0x00020000
        raise DecodeError(f"truncated: File Meta Information ends at byte {len(data)} of {meta_end}",
                          standard=STANDARD, position=tag_str(last), expected=f"{value} bytes of group 0002",
                          offset=len(data), source=source)
    return meta_end


def _check_end(ds: Dataset, data: bytes, meta_end: int | None, source: str | None) -> None:
    """The last element read ends where the data ends, or where Pixel Data starts.

    pydicom stops silently at a partial element header and converts some elements (Specific Character
    Set) while reading, which hides a value cut short; the length field in the bytes tells both.
    """
    if _deflated(ds):
        return  # offsets count bytes of the inflated stream, not of `data`
    elements = ds._dict
    if not elements:
        if meta_end is not None and 0 < len(data) - meta_end < 8:  # a partial first element header
            raise DecodeError(f"truncated: {len(data) - meta_end} byte(s) after File Meta Information do not "
                              "form a data element", standard=STANDARD, position="(0002,0000)",
                              expected="a complete data element header (tag, VR, length)", offset=meta_end,
                              source=source)
        return
    last = next(reversed(elements.values()))
    tell = getattr(last, "value_tell", None)
    if tell is None:
        tell = getattr(last, "file_tell", None)
    if tell is None or tell > len(data):
        return
    little = ds.is_little_endian if ds.is_little_endian is not None else True
    length = _length_field(data, tell, last.VR, bool(ds.is_implicit_VR), little)
    if length is None or length == UNDEFINED_LENGTH:
        return
    end = tell + length
    if end > len(data):
        raise DecodeError(f"truncated: {len(data) - tell} of {length} value bytes present", standard=STANDARD,
                          position=tag_str(last.tag), expected=f"{length} bytes of value", offset=tell,
                          source=source)
    rest = len(data) - end
    if rest == 0:
        return
    if rest >= 4:
        group, element = struct.unpack_from("<HH" if little else ">HH", data, end)
        if (group << 16 | element) in PIXEL_TAGS:
            return
    raise DecodeError(f"truncated: {rest} byte(s) after it do not form a data element", standard=STANDARD,
                      position=tag_str(last.tag), expected="a complete data element header (tag, VR, length)",
                      offset=end, source=source)


def _deflated(ds: Dataset) -> bool:
    """True for the Deflated Explicit VR Little Endian transfer syntaxes (the dataset is a zlib stream)."""
    elem = getattr(getattr(ds, "file_meta", None), "_dict", {}).get(0x00020010)
    value = getattr(elem, "value", None)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value or "").strip("\x00 ") in DEFLATED


def _length_field(data: bytes, tell: int, vr: str | None, implicit: bool, little: bool) -> int | None:
    """The value length written before the value at `tell` (explicit VR: 2 or 4 bytes, implicit: 4)."""
    order = "little" if little else "big"
    if implicit or vr is None or vr in _LONG_VRS or " or " in vr:
        if tell < 4 or (not implicit and tell < 12):
            return None
        return int.from_bytes(data[tell - 4:tell], order)
    if tell < 2:
        return None
    return int.from_bytes(data[tell - 2:tell], order)


def _plausible(tags: array, i: int) -> bool:
    """A tag the data dictionary knows, a private creator, or a private element whose creator is present."""
    from pydicom.datadict import DicomDictionary

    tag = tags[i]
    group, element = tag >> 16, tag & 0xFFFF
    if group % 2 == 0:
        return tag in DicomDictionary or (group & 0xFF00) in (0x5000, 0x6000)  # 50xx/60xx repeating groups
    if 0x0010 <= element <= 0x00FF:
        return True
    return (group << 16 | element >> 8) in tags


def _length_error(tags: array, k: int, source: str | None, what: str) -> DecodeError:
    culprit = next((tags[i] for i in range(k - 1, -1, -1) if _plausible(tags, i)), None)
    if culprit is None:
        return DecodeError(f"malformed data element: {what}", standard=STANDARD, position=tag_str(tags[k]),
                           expected="tag, VR and length consistent with the bytes that follow", source=source)
    return DecodeError(f"value length does not match the data: {what}", standard=STANDARD,
                       position=tag_str(culprit), expected="a value length that ends where the next element starts",
                       source=source)


def _check_pixel_header(ds: Dataset, data: bytes, pos: int, issues: list[Issue], source: str | None) -> None:
    """When reading stopped at Pixel Data, check that its declared length fits in the file (not read)."""
    if pos + 8 > len(data):
        return
    little = ds.is_little_endian if ds.is_little_endian is not None else True
    order = "<" if little else ">"
    group, element = struct.unpack_from(f"{order}HH", data, pos)
    if (group << 16 | element) != PIXEL_DATA:
        return
    implicit = ds.is_implicit_VR
    if implicit:
        length = struct.unpack_from(f"{order}L", data, pos + 4)[0]
        header = 8
    else:
        if pos + 12 > len(data):
            length, header = 1, 12
        else:
            length, header = struct.unpack_from(f"{order}L", data, pos + 8)[0], 12
    if length != UNDEFINED_LENGTH and pos + header + length > len(data):
        issues.append(build(Issue,
            severity="error", code="dicom.truncated-pixel-data", location=tag_str(PIXEL_DATA),
            message=f"Pixel Data declares {length} bytes but only {max(len(data) - pos - header, 0)} follow "
                    "(pixels are not read; the header is complete)", offset=pos))
