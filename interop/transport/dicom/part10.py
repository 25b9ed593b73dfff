"""A received C-STORE dataset as Part 10 bytes, its Study Instance UID read cheaply, its element stream checked.

pynetdicom's `event.encoded_dataset(include_meta=True)` builds the File Meta Information through
pydicom's writer (about 2 ms per instance, a tenth of the node's budget per C-STORE); the group has
six elements of fixed form (PS3.10 7.1), written here directly in Explicit VR Little Endian.
"""

from __future__ import annotations

import struct

PREAMBLE = bytes(128) + b"DICM"


def _element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    if vr == b"OB":  # VRs with a 4-byte length (PS3.5 Table 7.1-1)
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


def _ui(uid: str) -> bytes:
    raw = uid.encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw  # UI padded with NUL to an even length (PS3.5 6.2)


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """The File Meta Information group (0002) for one instance, group length included."""
    from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION

    version = PYNETDICOM_IMPLEMENTATION_VERSION.encode("ascii")
    if len(version) % 2:
        version += b" "  # SH padded with a space
    body = b"".join((
        _element(0x0002, 0x0001, b"OB", b"\x00\x01"),  # File Meta Information Version
        _element(0x0002, 0x0002, b"UI", _ui(sop_class)),  # Media Storage SOP Class UID
        _element(0x0002, 0x0003, b"UI", _ui(sop_instance)),  # Media Storage SOP Instance UID
        _element(0x0002, 0x0010, b"UI", _ui(transfer_syntax)),  # Transfer Syntax UID
        _element(0x0002, 0x0012, b"UI", _ui(str(PYNETDICOM_IMPLEMENTATION_UID))),  # Implementation Class UID
        _element(0x0002, 0x0013, b"SH", version),  # Implementation Version Name
    ))
    return _element(0x0002, 0x0000, b"UL", struct.pack("<I", len(body))) + body


def part10(dataset: bytes, sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """Preamble, 'DICM', File Meta Information and the dataset exactly as received."""
    return b"".join((PREAMBLE, file_meta(sop_class, sop_instance, transfer_syntax), dataset))


STUDY_INSTANCE_UID = 0x0020000D
EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
# every VR of PS3.5 Table 6.2-1
VRS = frozenset(v.encode() for v in (
    "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV").split())
_UNDEFINED_OK = frozenset((b"SQ", b"UN", b"OB", b"OW"))  # VRs whose length may be undefined (PS3.5 7.1.2, 7.5, A.4)
_LONG_VRS = frozenset((b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"))
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF


class _Walk:
    """Top-level element walk over an uncompressed dataset (PS3.5 7.1, 7.5): tags, lengths, nothing decoded.

    pydicom's reader (even `read_partial` stopping at the tag) builds every element on the way, about
    a third of a full header decode; this walk only steps over values, nested sequences included."""

    def __init__(self, data: bytes, pos: int, explicit: bool, little: bool) -> None:
        self.data, self.pos, self.explicit = data, pos, explicit
        self.e = "<" if little else ">"

    def header(self) -> tuple[int, bytes | None, int]:
        d, p, e = self.data, self.pos, self.e
        group, elem = struct.unpack_from(e + "HH", d, p)
        tag = group << 16 | elem
        if group == 0xFFFE:  # item and delimitation tags are never explicit-VR encoded
            (length,) = struct.unpack_from(e + "I", d, p + 4)
            self.pos = p + 8
            return tag, None, length
        if not self.explicit:
            (length,) = struct.unpack_from(e + "I", d, p + 4)
            self.pos = p + 8
            return tag, None, length
        vr = d[p + 4:p + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from(e + "I", d, p + 8)
            self.pos = p + 12
        else:
            (length,) = struct.unpack_from(e + "H", d, p + 6)
            self.pos = p + 8
        return tag, vr, length

    def skip_undefined(self, vr: bytes | None) -> None:
        """Step over an undefined-length value: a sequence's items, or encapsulated fragments."""
        while True:
            tag, _, length = self.header()
            if tag == _SEQ_END:
                return
            if tag != _ITEM:
                raise ValueError("not an item")
            if length != UNDEFINED:
                self.pos += length
                continue
            while True:  # an item of undefined length: elements until the item delimitation
                tag, evr, length = self.header()
                if tag == _ITEM_END:
                    break
                if length == UNDEFINED:
                    self.skip_undefined(evr)
                else:
                    self.pos += length


def _dataset_start(data: bytes) -> tuple[int, str] | None:
    """Offset of the dataset in Part 10 `data` and its transfer syntax UID; None if there is no readable file meta."""
    if data[128:132] != b"DICM":
        return None
    (meta_len,) = struct.unpack_from("<I", data, 140)  # (0002,0000) UL, the first element
    start = 144 + meta_len
    meta = data[132:start]
    i = meta.find(b"\x02\x00\x10\x00UI")
    if i < 0:
        return None
    (n,) = struct.unpack_from("<H", meta, i + 6)
    return start, meta[i + 8:i + 8 + n].rstrip(b"\0 ").decode("ascii")


def _walkable(ts: str) -> bool:
    encapsulated = ts.startswith("1.2.840.10008.1.2.4.") or ts == "1.2.840.10008.1.2.5"  # JPEG family, RLE
    return ts in (EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE) or encapsulated  # not deflated, not private


_HEADERS = {  # (explicit, little endian) -> element header without / with a 4-byte length
    (True, True): (struct.Struct("<HH2sH"), struct.Struct("<I")),
    (True, False): (struct.Struct(">HH2sH"), struct.Struct(">I")),
    (False, True): (struct.Struct("<HHI"), None),
}


def walk_study_uid(data: bytes) -> str | None:
    """The Study Instance UID of Part 10 `data`, provided its whole dataset is a well-formed element stream:
    every top-level element read (tag, VR, length; values are not decoded), every explicit VR one of
    PS3.5 Table 6.2-1, every length within the data, undefined lengths only where PS3.5 7.1 allows them,
    sequences made of items. None otherwise, or when the encoding cannot be walked (deflated, private
    transfer syntax): then only the full decode can tell.

    The node acknowledges a C-STORE on this check (with the instance durable): decoding the dataset into
    the model takes several times as long as the rest of a C-STORE, and is done when the study is
    translated. Whatever fails this check is decoded at once and answered 0xC000/0xA900 if it cannot be."""
    try:
        found = _dataset_start(data)
        if found is None or not _walkable(found[1]):
            return None
        pos, ts = found
        explicit, little = ts != IMPLICIT_LE, ts != EXPLICIT_BE
        short, long_ = _HEADERS[(explicit, little)]
        end = len(data)
        study = None
        while pos < end:
            if explicit:
                group, elem, vr, length = short.unpack_from(data, pos)
                if group == 0xFFFE:
                    return None  # an item or delimiter at the top level
                if vr in _LONG_VRS:
                    (length,) = long_.unpack_from(data, pos + 8)
                    pos += 12
                else:
                    pos += 8
                if vr not in VRS:
                    return None
            else:
                group, elem, length = short.unpack_from(data, pos)
                vr = None
                pos += 8
            if length == UNDEFINED:
                if vr is not None and vr not in _UNDEFINED_OK:
                    return None
                walk = _Walk(data, pos, explicit=explicit, little=little)
                walk.skip_undefined(vr)
                pos = walk.pos
                if pos > end:
                    return None
                continue
            if pos + length > end:
                return None
            if group == 0x0020 and elem == 0x000D:
                study = data[pos:pos + length].rstrip(b"\0 ").decode("ascii")
            pos += length
        return study or None
    except (struct.error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def peek_study_uid(data: bytes) -> str | None:
    """The top-level Study Instance UID of Part 10 `data` (uncompressed dataset encodings), found by
    stepping over the elements before it; None when absent, deflated or unreadable (then the full
    decode, which runs anyway, says why)."""
    try:
        found = _dataset_start(data)
        if found is None or not _walkable(found[1]):
            return None  # deflated or private: the dataset is not a plain element stream
        start, ts = found
        walk = _Walk(data, start, explicit=ts != IMPLICIT_LE, little=ts != EXPLICIT_BE)
        end = len(data)
        while walk.pos + 8 <= end:
            tag, vr, length = walk.header()
            if tag == STUDY_INSTANCE_UID:
                if length == UNDEFINED or walk.pos + length > end:
                    return None
                value = data[walk.pos:walk.pos + length].rstrip(b"\0 ").decode("ascii")
                return value or None
            if tag > STUDY_INSTANCE_UID:
                return None
            if length == UNDEFINED:
                walk.skip_undefined(vr)
            else:
                walk.pos += length
    except (struct.error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return None
