"""Sequence items parsed straight from a raw SQ value (PS3.5 7.5), ~10x faster than pydicom's Dataset items.

Only used for sequences pydicom has not parsed yet; an item is a `RawItem` (its elements still raw bytes),
read by `elements.Context` exactly like a pydicom Dataset.
"""

from __future__ import annotations

from struct import Struct
from struct import error as struct_error
from typing import NamedTuple

ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
LONG_LENGTH_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"})
MAX_DEPTH = 64
_HEADER = {True: Struct("<HHL"), False: Struct(">HHL")}
_LONG = {True: Struct("<L"), False: Struct(">L")}
_IMPLICIT_HEADER = {True: Struct("<HH0sL"), False: Struct(">HH0sL")}  # vr_bytes is b"" (no VR in implicit VR)
_EXPLICIT_HEADER = {True: Struct("<HH2sH"), False: Struct(">HH2sH")}
_VR_TEXT = {vr.encode(): vr for vr in (  # the two VR bytes of an explicit VR element -> the VR (no decode per element)
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN",
    "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV")}


class RawElement(NamedTuple):
    """One element with its value bytes undecoded (the fields `elements.Context` reads)."""

    tag: int
    VR: str  # "" in implicit VR (the data dictionary decides)
    length: int
    value: bytes
    is_little_endian: bool
    is_implicit_VR: bool
    is_raw: bool = True


class RawItem:
    """A sequence item: its elements by tag, in file order."""

    __slots__ = ("_dict", "is_little_endian", "is_implicit_VR")

    def __init__(self, elements: dict[int, RawElement], little: bool, implicit: bool) -> None:
        self._dict = elements
        self.is_little_endian = little
        self.is_implicit_VR = implicit

    def __contains__(self, tag: int) -> bool:
        return tag in self._dict

    def get_item(self, tag: int) -> RawElement | None:
        """The raw element at `tag` (pydicom Dataset.get_item equivalent)."""
        return self._dict.get(tag)


class _LittleExplicitItem(RawItem):
    """An item `_defined_items` read from Explicit VR Little Endian data (its byte order and VR form are the
    class's: made without setting them per item)."""

    __slots__ = ()
    is_little_endian = True  # type: ignore[assignment]
    is_implicit_VR = False  # type: ignore[assignment]


class _BigExplicitItem(RawItem):
    """An item `_defined_items` read from Explicit VR Big Endian data."""

    __slots__ = ()
    is_little_endian = False  # type: ignore[assignment]
    is_implicit_VR = False  # type: ignore[assignment]


def parse_items(buf: bytes, little: bool, implicit: bool, depth: int = 0) -> list[RawItem]:
    """Items of a sequence value; ValueError when the bytes are not items."""
    if depth > MAX_DEPTH:
        raise ValueError("sequences nested too deeply")
    if not implicit:
        items = _defined_items(buf, little)
        if items is not None:
            return items
    return _parse_items(buf, little, implicit, depth)


_SHORT_VRS = {raw: vr for raw, vr in _VR_TEXT.items() if vr not in LONG_LENGTH_VRS}  # 16-bit length
_LONG_VRS = {raw: vr for raw, vr in _VR_TEXT.items() if vr in LONG_LENGTH_VRS}  # 2 reserved bytes, 32-bit length
# The two VR bytes read as a 16-bit number in the data's byte order (no bytes object and no hash of one per
# element): VR by that number, for each byte order, with a 16-bit length and with a 32-bit one
_ORDER = {True: "little", False: "big"}
_SHORT_VR_NUMBERS = {little: {int.from_bytes(raw, _ORDER[little]): vr for raw, vr in _SHORT_VRS.items()}
                     for little in (True, False)}
_LONG_VR_NUMBERS = {little: {int.from_bytes(raw, _ORDER[little]): vr for raw, vr in _LONG_VRS.items()}
                    for little in (True, False)}
_NUMBERED_HEADER = {True: Struct("<HHHH"), False: Struct(">HHHH")}  # group, element, VR as a number, length
_ITEM_HEADER = {True: Struct("<LL"), False: Struct(">LL")}  # (FFFE,E000) as one number, then the item length
_ITEM_TAG = {True: 0xE000FFFE, False: 0xFFFEE000}  # the item tag read that way in each byte order
_DEFINED = {little: (_ITEM_HEADER[little].unpack_from, _NUMBERED_HEADER[little].unpack_from, _LONG[little].unpack_from,
                     _SHORT_VR_NUMBERS[little], _LONG_VR_NUMBERS[little], _ITEM_TAG[little],
                     _LittleExplicitItem if little else _BigExplicitItem)
            for little in (True, False)}  # what `_defined_items` uses, looked up once a call


def _defined_items(buf: bytes, little: bool) -> list[RawItem] | None:
    """Items of defined length holding explicit VR elements of defined length (what writers mostly produce,
    and what an SR's content tree is made of), in one loop without a call per item; None for anything else,
    which `_parse_items` reads (and explains when it is broken).

    The bounds are checked once per item, not per element: an element header or value that runs past its
    item leaves the element loop at a position other than the item's end (a header past the whole value
    raises struct.error), and either means None. The elements read until then are dropped with the item."""
    item_header, element_header, long, short_vrs, long_vrs, item_tag, item_class = _DEFINED[little]
    new = tuple.__new__
    make = object.__new__  # a RawItem without the Python-level __init__ call
    items: list[RawItem] = []
    pos, end = 0, len(buf)
    try:
        while pos < end:
            tag, length = item_header(buf, pos)
            pos += 8
            item_end = pos + length
            if tag != item_tag or item_end > end:  # also undefined length (item_end > end)
                return None
            out: dict[int, RawElement] = {}
            while pos < item_end:
                group, element, vr_number, length = element_header(buf, pos)
                vr = short_vrs.get(vr_number)
                if vr is None:
                    vr = long_vrs.get(vr_number)
                    if vr is None:
                        return None
                    length = long(buf, pos + 8)[0]
                    pos += 12
                else:
                    pos += 8
                tag = group << 16 | element
                out[tag] = new(RawElement, (tag, vr, length, buf[pos:pos + length], little, False, True))
                pos += length  # an undefined length (0xFFFFFFFF) runs past the item
            if pos != item_end:  # a header or value ran past the item
                return None
            item = make(item_class)
            item._dict = out
            items.append(item)
    except struct_error:  # a header past the end of the value
        return None
    return items


def _parse_items(buf: bytes, little: bool, implicit: bool, depth: int) -> list[RawItem]:
    header = _HEADER[little]
    items: list[RawItem] = []
    pos, end = 0, len(buf)
    while pos < end:
        if pos + 8 > end:
            raise ValueError("incomplete item header")
        group, element, length = header.unpack_from(buf, pos)
        tag = group << 16 | element
        pos += 8
        if tag == SEQUENCE_DELIMITATION:
            break
        if tag != ITEM:
            raise ValueError("expected an item tag (FFFE,E000)")
        if length == UNDEFINED_LENGTH:
            elements, pos = _elements(buf, pos, end, little, implicit, depth, delimited=True)
        else:
            if pos + length > end:
                raise ValueError("item runs past the sequence")
            elements, _ = _elements(buf, pos, pos + length, little, implicit, depth, delimited=False)
            pos += length
        items.append(RawItem(elements, little, implicit))
    return items


def _elements(buf: bytes, pos: int, end: int, little: bool, implicit: bool, depth: int,
              delimited: bool) -> tuple[dict[int, RawElement], int]:
    long = _LONG[little]
    # one unpack per element header: (group, element, 4 octets) implicit, (group, element, VR, 16-bit length)
    # explicit; a long-length VR reads its 32-bit length after the 2 reserved octets
    header = _IMPLICIT_HEADER[little] if implicit else _EXPLICIT_HEADER[little]
    new = tuple.__new__  # a RawElement without the Python-level namedtuple __new__ per element
    out: dict[int, RawElement] = {}
    while pos < end:
        if pos + 8 > end:
            raise ValueError("incomplete element header")
        group, element, vr_bytes, length = header.unpack_from(buf, pos)
        tag = group << 16 | element
        if tag == ITEM_DELIMITATION:
            return out, pos + 8
        if implicit:
            vr = ""
            pos += 8
        else:
            vr = _VR_TEXT.get(vr_bytes) or vr_bytes.decode("latin_1")
            if vr in LONG_LENGTH_VRS:
                if pos + 12 > end:
                    raise ValueError("incomplete element header")
                length = long.unpack_from(buf, pos + 8)[0]
                pos += 12
            else:
                pos += 8
        if length == UNDEFINED_LENGTH:
            value_end = _undefined_end(buf, pos, end, little, implicit or vr == "UN", depth + 1)
            value = buf[pos:value_end]
            pos = value_end + 8
        else:
            if pos + length > end:
                raise ValueError("value runs past its item")
            value = buf[pos:pos + length]
            pos += length
        out[tag] = new(RawElement, (tag, vr, length, value, little, implicit, True))
    if delimited:
        raise ValueError("item without delimitation item")
    return out, pos


def _undefined_end(buf: bytes, pos: int, end: int, little: bool, implicit: bool, depth: int) -> int:
    """Offset of the Sequence Delimitation Item closing an undefined-length value starting at `pos`."""
    if depth > MAX_DEPTH:
        raise ValueError("sequences nested too deeply")
    header = _HEADER[little]
    while pos + 8 <= end:
        group, element, length = header.unpack_from(buf, pos)
        tag = group << 16 | element
        if tag == SEQUENCE_DELIMITATION:
            return pos
        if tag != ITEM:
            raise ValueError("expected an item tag (FFFE,E000)")
        pos += 8
        if length == UNDEFINED_LENGTH:
            _, pos = _elements(buf, pos, end, little, implicit, depth, delimited=True)
        else:
            pos += length
    raise ValueError("undefined length value without sequence delimitation")
