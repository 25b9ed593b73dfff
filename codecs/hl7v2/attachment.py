"""OBX-5 of value type ED (encapsulated data) and RP (reference pointer) → `AttachmentValue`.

ED (HL7 v2 chapter 2A.24): source application (HD) ^ type of data ^ data subtype ^ encoding ^ data.
RP (2A.66): pointer ^ application id (HD) ^ type of data ^ subtype.

Type of data is HL7 table 0191 (AP, AU, FT, IM, multipart, NS, SD, SI, TEXT, TX) up to v2.5 and a MIME
media type (table 0834: application, audio, image, text, video ...) from v2.6; the subtype is table 0291
(PDF, JPEG, TIFF, octet-stream ...) or a MIME subtype. Encoding is table 0299: Base64, Hex or A (no
encoding: the data are the displayable characters themselves, escape sequences resolved).

The decoded octets are kept (`AttachmentValue.data`): the FHIR mapping writes them once as
`Attachment.data` with its size and SHA-1 hash. Base64 and hex are decoded here by hand (a few lines
over the standard library) because a broken payload must become a finding naming the character
position, never an exception: `base64.b64decode` reports neither where nor what.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING

from interop.model import AttachmentValue

from .tokenizer import components, repetitions, subcomponents, unescape

if TYPE_CHECKING:
    from .decoder import HL7v2Decoder
    from .tokenizer import Segment

# MIME top-level types (RFC 6838; HL7 table 0834 from v2.6): type/subtype as sent, in lower case
MIME_TYPES = frozenset({"application", "audio", "image", "text", "video", "model", "multipart", "message", "font"})
# HL7 table 0291 subtypes (and the common spellings senders use) → MIME type
SUBTYPES = {
    "PDF": "application/pdf", "JPEG": "image/jpeg", "JPG": "image/jpeg", "TIFF": "image/tiff", "TIF": "image/tiff",
    "GIF": "image/gif", "PNG": "image/png", "BMP": "image/bmp", "PICT": "image/pict", "RTF": "application/rtf",
    "HTML": "text/html", "XML": "application/xml", "SGML": "text/sgml", "POSTSCRIPT": "application/postscript",
    "OCTET-STREAM": "application/octet-stream", "MSWORD": "application/msword", "DICOM": "application/dicom",
    "BASIC": "audio/basic", "WAV": "audio/wav", "MPEG": "video/mpeg",
    "X-HL7-CDA-LEVEL-ONE": "application/x-hl7-cda-level-one+xml", "CDA": "application/x-hl7-cda-level-one+xml",
    "PLAIN": "text/plain", "CSV": "text/csv",
}
# HL7 table 0191 type of data → the MIME type a type alone implies (no subtype, or one not in SUBTYPES)
TYPE_DEFAULTS = {"TEXT": "text/plain", "TX": "text/plain", "FT": "text/x-hl7-ft"}
ENCODINGS = {"BASE64": "Base64", "HEX": "Hex", "A": "A"}
_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_HEX = frozenset("0123456789abcdefABCDEF")


def content_type(data_type: str, subtype: str) -> str | None:
    """The MIME type of an ED/RP type of data and subtype, or None when they name none."""
    t, s = data_type.strip(), subtype.strip()
    if t.lower() in MIME_TYPES and s:
        return f"{t.lower()}/{s.lower()}"
    if s:
        hit = SUBTYPES.get(s.upper())
        if hit:
            return hit
        if "/" in s:  # a whole MIME type in the subtype ("application/pdf")
            return s.lower()
    return TYPE_DEFAULTS.get(t.upper())


def read(dec: HL7v2Decoder, seg: Segment, vtype: str, raw: str) -> tuple[AttachmentValue | None, str | None]:
    """OBX-5 (ED or RP) → (value, data-absent reason); findings in `dec.issues` with their position."""
    d = dec.d
    reps = repetitions(raw.strip(), d)
    if len(reps) > 1:
        dec.tolerate(seg, 5, "hl7v2.repeated-value", f"{vtype} value repeats; only the first is read")
    c = components(reps[0], d)
    c += [""] * (5 - len(c))
    if vtype == "RP":
        return _pointer(dec, seg, c)
    application = _hd_namespace(c[0], d)
    data_type, subtype, encoding_raw = c[1].strip(), c[2].strip(), c[3].strip()
    mime = _mime(dec, seg, data_type, subtype)
    encoding = ENCODINGS.get(encoding_raw.upper())
    text = c[4]
    if len(c) > 5:  # a component separator inside the data: the sender did not escape it
        dec.tolerate(seg, 5, "hl7v2.ed-unescaped-delimiter", f"ED data holds {len(c) - 5} unescaped component "
                     "separator(s); read as part of the data", expected="\\S\\ for a literal component separator")
        text = d.component.join(c[4:])
    if encoding is None:
        dec.tolerate(seg, 5, "hl7v2.ed-encoding", f"ED encoding (OBX-5.4) {encoding_raw!r} is not Base64, Hex or A "
                     "(HL7 table 0299); no data read", expected="Base64, Hex or A")
        return None, "error"
    if not text.strip():
        dec.tolerate(seg, 5, "hl7v2.missing-field", "ED data (OBX-5.5) is empty",
                     expected="the encapsulated data")
        return None, "unknown"
    # escape sequences first: line breaks (\.br\, \X0D0A\) that wrap a long payload, \E\ in ASCII data
    text = unescape(text, d)
    if encoding == "A":
        data = text.encode("utf-8")
    else:
        data, where, what = (_base64 if encoding == "Base64" else _hex)(text)
        if data is None:
            dec.tolerate(seg, 5, "hl7v2.ed-bad-data", f"ED {encoding} data (OBX-5.5) cannot be decoded: {what} at "
                         f"character {where} of the data; no data read", expected=f"{encoding} text")
            return None, "error"
    return AttachmentValue(content_type=mime, data=data, encoding=encoding, application=application,
                           data_type=data_type or None, subtype=subtype or None), None


def _pointer(dec: HL7v2Decoder, seg: Segment, c: list[str]) -> tuple[AttachmentValue | None, str | None]:
    d = dec.d
    pointer = unescape(c[0], d).strip()
    hd = subcomponents(c[1], d)
    application = unescape(hd[0], d).strip() or None
    universal = unescape(hd[1], d).strip() if len(hd) > 1 else ""
    data_type, subtype = c[2].strip(), c[3].strip()
    if not pointer:
        dec.tolerate(seg, 5, "hl7v2.missing-field", "RP pointer (OBX-5.1) is empty", expected="a pointer to the data")
        return None, "unknown"
    url = pointer
    if "://" not in pointer and not pointer.startswith("urn:") and universal.startswith(("http://", "https://")):
        url = universal.rstrip("/") + "/" + pointer.lstrip("/")  # pointer relative to its application's URI
    elif "://" not in pointer and not pointer.startswith("urn:"):
        dec.tolerate(seg, 5, "hl7v2.rp-relative", "RP pointer (OBX-5.1) is not an absolute URL and its application "
                     "(OBX-5.2) gives no base URI; kept as sent", severity="info")
    return AttachmentValue(content_type=_mime(dec, seg, data_type, subtype), url=url, application=application,
                           data_type=data_type or None, subtype=subtype or None), None


def _mime(dec: HL7v2Decoder, seg: Segment, data_type: str, subtype: str) -> str | None:
    mime = content_type(data_type, subtype)
    if mime is None and (data_type or subtype):
        dec.tolerate(seg, 5, "hl7v2.attachment-type", f"type of data {data_type!r} with subtype {subtype!r} names no "
                     "MIME type (HL7 tables 0191/0291/0834); contentType left out", severity="info")
    return mime


def _hd_namespace(raw: str, d) -> str | None:
    hd = subcomponents(raw, d)
    return unescape(hd[0], d).strip() or None


def _base64(text: str) -> tuple[bytes | None, int, str]:
    """Base64 text (whitespace between characters allowed) → (octets, 0, ''), or (None, 1-based position
    of the first offending character, what is wrong)."""
    raw = text.encode("utf-8", "replace")
    body = bytearray()
    pad = 0
    for i, ch in enumerate(raw, 1):
        if ch in b" \t\r\n":
            continue
        if ch == 61:  # '='
            pad += 1
            if pad > 2:
                return None, i, "too much '=' padding"
            continue
        if pad:
            return None, i, "data after '=' padding"
        if ch not in _B64:
            return None, i, f"character {chr(ch)!r} outside the Base64 alphabet"
        body.append(ch)
    if (pad and (len(body) + pad) % 4) or len(body) % 4 == 1:
        return None, len(raw), f"{len(body)} Base64 characters do not make whole octets (truncated?)"
    body += b"=" * (-len(body) % 4)
    try:
        return binascii.a2b_base64(bytes(body), strict_mode=True), 0, ""
    except binascii.Error as exc:  # pragma: no cover - the scan above leaves nothing for this to reject
        return None, len(raw), str(exc)


def _hex(text: str) -> tuple[bytes | None, int, str]:
    digits = []
    for i, ch in enumerate(text, 1):
        if ch in " \t\r\n":
            continue
        if ch not in _HEX:
            return None, i, f"character {ch!r} is no hexadecimal digit"
        digits.append(ch)
    if len(digits) % 2:
        return None, len(text), "an odd number of hexadecimal digits"
    return bytes.fromhex("".join(digits)), 0, ""


__all__ = ["content_type", "read"]
