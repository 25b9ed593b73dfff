"""A well-formed Part 10 file read straight from its bytes in one pass, its structure checked in the same walk.

`pydicom.dcmread` builds a FileDataset of RawDataElements at ~5 µs an element (file meta conversion,
transfer syntax sniffing, a generator and a Dataset per call); the canonical decoder reads every element
raw anyway (`elements.Context`), and `reader.read_dataset` then walks what pydicom parsed a second time
to find what pydicom tolerates silently (truncation, wrong lengths, a partial element header). Here one
loop over the element headers (the same one `items` uses for sequence items, ~1 µs an element) gives
the elements as `RawElement`s and checks, as it goes, everything those checks look for.

It accepts only what it can read exactly as pydicom would and where the checks would find nothing:
preamble and "DICM"; a File Meta group in Explicit VR Little Endian whose Group Length matches; a
non-deflated transfer syntax pydicom knows; tags ascending; every explicit VR a standard one; defined
lengths at the top level (an undefined-length sequence is parsed by pydicom into Datasets); the last
element complete and ending at the end of the data or at Pixel Data whose declared length fits. For
anything else `read_part10` returns None and the caller reads the file with pydicom (`reader`), whose
findings and errors on bad input stay the reference. Items of top-level sequences are parsed when read
(`items.parse_items`), exactly as for a dataset pydicom read.
"""

from __future__ import annotations

import re
from struct import Struct
from struct import error as struct_error

from .items import (
    _LONG_VR_NUMBERS,
    _NUMBERED_HEADER,
    _SHORT_VR_NUMBERS,
    _VR_TEXT,
    LONG_LENGTH_VRS,
    RawElement,
    RawItem,
)

UNDEFINED_LENGTH = 0xFFFFFFFF
PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})  # Float, Double Float and Pixel Data: reading stops
PIXEL_DATA = 0x7FE00010
SPECIFIC_CHARACTER_SET = 0x00080005
IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
DEFLATED = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95"})
_EXPLICIT = {True: Struct("<HH2sH"), False: Struct(">HH2sH")}
_IMPLICIT = {True: Struct("<HHL"), False: Struct(">HHL")}
_LONG = {True: Struct("<L"), False: Struct(">L")}
_UL = Struct("<L")
# (0008,0005) values pydicom converts to exactly what the raw split gives (defined terms, no leading spaces, no
# characters its CS validation warns about): upper-case letters, digits, underscore, space; 16 characters a value
_CHARSET = re.compile(rb"(?:[A-Z0-9_][A-Z0-9_ ]{0,15})?(?:\\(?:[A-Z0-9_][A-Z0-9_ ]{0,15})?)*\x00?")


class Part10Dataset(RawItem):
    """The top-level dataset of a Part 10 file, its elements raw by tag in file order, with its File Meta."""

    __slots__ = ("file_meta",)

    def __init__(self, elements: dict, little: bool, implicit: bool, file_meta: RawItem) -> None:
        super().__init__(elements, little, implicit)
        self.file_meta = file_meta


_SYNTAXES: frozenset[str] | None = None


def _known_syntaxes() -> frozenset[str]:
    """Transfer syntaxes pydicom reads without sniffing: its list of them, deflated ones aside."""
    global _SYNTAXES
    if _SYNTAXES is None:
        import pydicom.uid

        _SYNTAXES = frozenset(str(uid) for uid in pydicom.uid.AllTransferSyntaxes) - DEFLATED
    return _SYNTAXES


def read_part10(data: bytes) -> Part10Dataset | None:
    """The dataset of a well-formed Part 10 file (header only: reading stops at Pixel Data), else None."""
    end = len(data)
    if end < 144 or data[128:132] != b"DICM":
        return None
    meta, pos = _file_meta(data, end)
    if meta is None:
        return None
    syntax = _meta_uid(meta.get(0x00020010))
    if syntax is None or syntax not in _known_syntaxes():
        return None
    little = syntax != EXPLICIT_BE
    implicit = syntax == IMPLICIT_LE
    elements = _dataset(data, pos, end, little, implicit)
    if elements is None:
        return None
    return Part10Dataset(elements, little, implicit, RawItem(meta, True, False))


def _meta_uid(elem: RawElement | None) -> str | None:
    if elem is None or elem[1] != "UI":
        return None
    raw = elem[3]
    return raw[:-1].decode("latin_1") if raw.endswith(b"\x00") else raw.decode("latin_1")


def _file_meta(data: bytes, end: int) -> tuple[dict | None, int]:
    """The File Meta elements (group 0002, Explicit VR Little Endian) and where the dataset starts."""
    header = _EXPLICIT[True]
    long = _LONG[True]
    new = tuple.__new__
    group, element, vr_bytes, length = header.unpack_from(data, 132)
    if (group, element, vr_bytes, length) != (2, 0, b"UL", 4):
        return None, 0
    meta_end = 144 + _UL.unpack_from(data, 140)[0]
    if meta_end > end:
        return None, 0
    out: dict[int, RawElement] = {0x00020000: new(RawElement, (0x00020000, "UL", 4, data[140:144], True, False, True))}
    pos, previous = 144, 0x00020000
    while pos < meta_end:
        if pos + 8 > meta_end:
            return None, 0
        group, element, vr_bytes, length = header.unpack_from(data, pos)
        tag = group << 16 | element
        vr = _VR_TEXT.get(vr_bytes)
        if group != 2 or tag <= previous or vr is None:
            return None, 0
        if vr in LONG_LENGTH_VRS:
            if pos + 12 > meta_end:
                return None, 0
            length = long.unpack_from(data, pos + 8)[0]
            pos += 12
        else:
            pos += 8
        if length == UNDEFINED_LENGTH or pos + length > meta_end:
            return None, 0
        out[tag] = new(RawElement, (tag, vr, length, data[pos:pos + length], True, False, True))
        pos += length
        previous = tag
    # pydicom reads group 0002 until another group starts: the dataset must not continue it
    if pos + 2 <= end and int.from_bytes(data[pos:pos + 2], "little") == 2:
        return None, 0
    return out, pos


def _dataset(data: bytes, pos: int, end: int, little: bool, implicit: bool) -> dict | None:
    """The top-level elements from `pos` up to the end or Pixel Data; None when anything is irregular.

    One loop per VR form, the checks in pydicom's order; what is rare is tested once per element in one
    comparison: a tag not above the previous one, or at or beyond the first pixel tag (7FE0,0008), goes to
    the branch that decides (reading stops at a pixel tag; out of order or a group FFFE delimiter is
    irregular; anything else beyond, a private group 7FE1 or (FFFA,FFFA), is read on). An undefined length
    (0xFFFFFFFF) runs past the end of the data (anything from 4 GiB on is left to pydicom); (0008,0005) is
    checked once, after the loop."""
    if end >= UNDEFINED_LENGTH:
        return None
    previous = 0x0002FFFF  # group 0000 (command set) or more group 0002 after the File Meta: pydicom's other paths
    if implicit:
        if pos + 8 <= end and 0x40 < data[pos + 4] < 0x5B and 0x40 < data[pos + 5] < 0x5B:
            return None  # looks explicit: pydicom warns and switches
        out = _implicit_elements(data, pos, end, little, previous)
    else:
        out = _explicit_elements(data, pos, end, little, previous)
    if out is not None:
        charset = out.get(SPECIFIC_CHARACTER_SET)
        if charset is not None and not _CHARSET.fullmatch(charset[3]):
            return None  # pydicom converts (0008,0005) while reading: only terms it reads as they are written
    return out


_FIRST_PIXEL_TAG = min(PIXEL_TAGS)
_STOP, _READ_ON = 1, 2  # what `_beyond` decides (None: irregular)


def _explicit_elements(data: bytes, pos: int, end: int, little: bool, previous: int) -> dict | None:
    header = _NUMBERED_HEADER[little].unpack_from
    long = _LONG[little].unpack_from
    short_vrs, long_vrs = _SHORT_VR_NUMBERS[little], _LONG_VR_NUMBERS[little]
    new = tuple.__new__
    first_pixel = _FIRST_PIXEL_TAG
    out: dict[int, RawElement] = {}
    try:  # an element header cut off by the end of the data raises struct.error
        while pos < end:
            group, element, vr_number, length = header(data, pos)
            tag = group << 16 | element
            vr = short_vrs.get(vr_number)
            if vr is not None:
                value_at = pos + 8
            else:
                vr = long_vrs.get(vr_number)
                if vr is None:
                    return None
                length = long(data, pos + 8)[0]
                value_at = pos + 12
            if tag <= previous or tag >= first_pixel:
                found = _beyond(tag, previous, data, pos, end, little, False)
                if found != _READ_ON:
                    return out if found == _STOP else None
            pos = value_at + length
            if pos > end:  # also an undefined length
                return None
            out[tag] = new(RawElement, (tag, vr, length, data[value_at:pos], little, False, True))
            previous = tag
    except struct_error:
        return None
    return out


def _implicit_elements(data: bytes, pos: int, end: int, little: bool, previous: int) -> dict | None:
    header = _IMPLICIT[little].unpack_from
    new = tuple.__new__
    first_pixel = _FIRST_PIXEL_TAG
    out: dict[int, RawElement] = {}
    try:  # an element header cut off by the end of the data raises struct.error
        while pos < end:
            group, element, length = header(data, pos)
            tag = group << 16 | element
            if tag <= previous or tag >= first_pixel:
                found = _beyond(tag, previous, data, pos, end, little, True)
                if found != _READ_ON:
                    return out if found == _STOP else None
            value_at = pos + 8
            pos = value_at + length
            if pos > end:  # also an undefined length
                return None
            out[tag] = new(RawElement, (tag, "", length, data[value_at:pos], little, True, True))
            previous = tag
    except struct_error:
        return None
    return out


def _beyond(tag: int, previous: int, data: bytes, pos: int, end: int, little: bool, implicit: bool) -> int | None:
    """A tag out of order or from (7FE0,0008) on: `_STOP` at a pixel tag whose length fits (where pydicom
    stops, stop_before_pixels), None when irregular, `_READ_ON` for an ordinary element in order."""
    if tag in PIXEL_TAGS:
        return _STOP if _pixel_fits(tag, data, pos, end, little, implicit) else None
    if tag <= previous or tag >> 16 == 0xFFFE:
        return None
    return _READ_ON


def _pixel_fits(tag: int, data: bytes, pos: int, end: int, little: bool, implicit: bool) -> bool:
    """The length Pixel Data declares fits in the file (`reader._check_pixel_header` reports it otherwise)."""
    if tag != PIXEL_DATA:
        return True  # Float / Double Float Pixel Data: not checked there either
    if implicit:
        length, header = _LONG[little].unpack_from(data, pos + 4)[0], 8
    elif pos + 12 > end:
        return False
    else:
        length, header = _LONG[little].unpack_from(data, pos + 8)[0], 12
    return length == UNDEFINED_LENGTH or pos + header + length <= end
