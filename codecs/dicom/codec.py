"""`DicomCodec`: the registry entry ("dicom") for Part 10 files and raw datasets.

Detection imports this module for every input, so pydicom is imported only inside `decode`.
"""

from __future__ import annotations

from interop.errors import DecodeError
from interop.model import Message, replace

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"


class DicomCodec:
    """DICOM Part 10 files and datasets → canonical model (header only; pixel data is never read)."""

    name = "dicom"
    standard = "dicom"

    def sniff(self, head: bytes) -> int:
        """100 for "DICM" at byte 128; 60/40 for a plausible explicit/implicit raw dataset at byte 0."""
        from .sniff import sniff

        return sniff(head)

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Decode a Part 10 file or raw dataset; bad structure raises DecodeError naming the tag."""
        read_part10, decode_dataset = _PARTS or _parts()
        # a well-formed Part 10 file is read in one pass (part10); anything else, and MPPS files (read through
        # pydicom's Dataset API), by pydicom with the reader's checks, whose findings and errors are the reference
        ds = read_part10(data)
        issues: list = []
        sop_class = _meta_text(ds.file_meta, 0x00020002) if ds is not None else None
        if ds is None or sop_class == MPPS_SOP_CLASS:
            from .reader import read_dataset

            ds, issues = read_dataset(data, strict=strict, source=source)
            meta = getattr(ds, "file_meta", None)
            sop_class = _meta_text(meta, 0x00020002) if meta is not None else None
        meta = getattr(ds, "file_meta", None)
        transfer_syntax = sending_ae = None
        if meta is not None:
            transfer_syntax = _meta_text(meta, 0x00020010)
            sending_ae = _meta_text(meta, 0x00020016)
        try:
            if meta is not None and sop_class == MPPS_SOP_CLASS:
                message = _mpps_file(ds, meta, strict, source, sending_ae)
            else:
                message = decode_dataset(ds, strict=strict, source=source, transfer_syntax=transfer_syntax,
                                         sending_ae=sending_ae)
        except DecodeError:
            raise
        except RecursionError:
            raise DecodeError("sequences nested too deeply", standard="dicom", position="dataset",
                              expected="a bounded content tree", source=source) from None
        if issues:
            message = replace(message, issues=tuple(issues) + message.issues)
        return message


_PARTS = None  # (read_part10, decode_dataset), imported on the first decode (not when detection imports this)


def _parts():
    global _PARTS
    from .header import decode_dataset
    from .part10 import read_part10

    _PARTS = (read_part10, decode_dataset)
    return _PARTS


def _mpps_file(ds, meta, strict: bool, source: str | None, sending_ae: str | None) -> Message:
    """An MPPS dataset stored as a file: the instance UID is the meta's Media Storage SOP Instance UID."""
    from .mpps import PPS_STATUS, decode_mpps

    status = ds.get(PPS_STATUS)
    operation = "N-CREATE" if status is not None and str(status.value).strip() == "IN PROGRESS" else "N-SET"
    return decode_mpps(ds, sop_instance_uid=_meta_text(meta, 0x00020003), operation=operation, strict=strict,
                       source=source, sending_ae=sending_ae)


def _meta_text(meta, tag: int) -> str | None:
    """A File Meta text element (UI/AE) from its raw bytes, without pydicom's value conversion."""
    elem = getattr(meta, "_dict", {}).get(tag)
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    text = str(value).strip("\x00 ") if value is not None else ""
    return text or None
