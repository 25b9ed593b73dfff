"""HL7 v2 wire format: framing, encoding characters, segments, fields (HL7 v2.x chapter 2).

Written by hand rather than with hl7apy because this is the hot path: hl7apy builds a validated
object tree (~35 ms for a 12-OBX message, DESIGN.md "Speed"), python-hl7 ~1.4 ms; a flat split
into segments and fields costs tens of microseconds. Components, repetitions and escapes are
resolved lazily, only for the fields a decoder reads. hl7apy remains the structural reference in
the conformance suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interop.errors import DecodeError
from interop.model import Issue

STANDARD = "hl7v2"
MLLP_START = b"\x0b"
MLLP_END = b"\x1c"

# MSH-18 character set names (HL7 table 0211) → Python codecs.
CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/3": "iso8859-3",
    "8859/4": "iso8859-4",
    "8859/5": "iso8859-5",
    "8859/6": "iso8859-6",
    "8859/7": "iso8859-7",
    "8859/8": "iso8859-8",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "UTF-8": "utf-8",
    "ISO IR14": "iso2022_jp",
    "ISO IR87": "iso2022_jp",
    "ISO IR159": "iso2022_jp_2",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "CNS 11643-1992": "big5",
    "BIG-5": "big5",
}


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators declared in MSH-1 and MSH-2."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str | None = None  # v2.7+: fifth encoding character


@dataclass(slots=True)
class Segment:
    """One segment, split into fields. `fields[n]` is field n (SEG-n); for MSH, fields[1] is MSH-1."""

    name: str
    fields: list[str]
    ordinal: int  # 1-based occurrence of this segment id in the message (OBX[3])
    offset: int  # character offset of the segment in the decoded text
    line: int  # 1-based segment number in the message

    def get(self, n: int) -> str:
        """Field n as raw text ('' when absent)."""
        f = self.fields
        return f[n] if n < len(f) else ""

    def where(self, n: int | None = None, component: int | None = None) -> str:
        """Position label: 'OBX[3]-5' or 'OBX[3]-5.2'."""
        base = f"{self.name}[{self.ordinal}]" if self.name != "MSH" else "MSH"
        if n is None:
            return base
        return f"{base}-{n}" + (f".{component}" if component else "")


@dataclass(slots=True)
class ParsedMessage:
    """A tokenized message: delimiters, segments, what was tolerated."""

    delimiters: Delimiters
    segments: list[Segment]
    charset: str
    issues: list[Issue] = field(default_factory=list)

    def first(self, name: str) -> Segment | None:
        """The first segment with id `name`."""
        for seg in self.segments:
            if seg.name == name:
                return seg
        return None


def _fail(msg: str, position: str, expected: str, offset: int | None) -> DecodeError:
    return DecodeError(msg, standard=STANDARD, position=position, expected=expected, offset=offset)


def strip_framing(data: bytes) -> tuple[bytes, int]:
    """Remove MLLP block characters, a UTF-8 BOM and leading blank lines; returns (payload, start offset)."""
    start = 0
    if data.startswith(b"\xef\xbb\xbf"):
        start = 3
    if data[start:start + 1] == MLLP_START:
        start += 1
    n = len(data)
    while start < n and data[start] in b"\r\n \t":
        start += 1
    end = data.find(MLLP_END, start)
    if end < 0:
        end = n
    return data[start:end], start


def read_delimiters(head: bytes, offset: int = 0) -> Delimiters:
    """Delimiters from the first bytes of an MSH segment; raises DecodeError naming MSH-1/MSH-2."""
    # what they are read from ("MSH|^~\\&|") recurs in every message of a sender: read once per text
    end = head.find(head[3:4], 4) if len(head) > 4 else -1
    if end > 4:
        hit = _DELIMITERS.get(head[:end + 1])
        if hit is not None:
            return hit
    delimiters = _read_delimiters(head, offset)
    if end > 4:
        if len(_DELIMITERS) >= 256:
            _DELIMITERS.clear()
        _DELIMITERS[head[:end + 1]] = delimiters  # only what read without error: errors are raised anew
    return delimiters


_DELIMITERS: dict[bytes, Delimiters] = {}  # MSH prefix up to MSH-2 and the separator after it -> Delimiters


def _read_delimiters(head: bytes, offset: int) -> Delimiters:
    if not head.startswith(b"MSH"):
        found = head[:3].decode("latin-1")
        raise _fail(f"message starts with {found!r}", "MSH-0 (segment id)", "'MSH' as the first segment",
                    offset)
    if len(head) < 8:
        raise _fail(f"MSH segment truncated after {len(head)} bytes", "MSH-2",
                    "field separator and 4 encoding characters after 'MSH'", offset + len(head))
    fs = chr(head[3])
    if fs.isalnum() or fs in " \r\n\t":
        raise _fail(f"field separator {fs!r} is not allowed", "MSH-1",
                    "a printable, non-alphanumeric field separator (normally '|')", offset + 3)
    end = head.find(head[3:4], 4)
    enc = head[4:end if end >= 0 else min(len(head), 9)]
    for cut in (b"\r", b"\n"):
        if cut in enc:
            enc = enc[:enc.index(cut)]
    chars = enc.decode("latin-1")
    if len(chars) not in (4, 5):
        raise _fail(f"encoding characters {chars!r} have length {len(chars)}", "MSH-2",
                    "4 encoding characters (component, repetition, escape, subcomponent), e.g. '^~\\&'",
                    offset + 4)
    all_chars = fs + chars
    if len(set(all_chars)) != len(all_chars):
        raise _fail(f"encoding characters {chars!r} repeat a delimiter", "MSH-2",
                    "5 distinct delimiter characters", offset + 4)
    for i, ch in enumerate(chars):
        if ch.isalnum() or ch in " \r\n\t":
            raise _fail(f"encoding character {ch!r} is not allowed", "MSH-2",
                        "printable, non-alphanumeric encoding characters", offset + 4 + i)
    return Delimiters(fs, chars[0], chars[1], chars[2], chars[3], chars[4] if len(chars) == 5 else None)


def _charset_from_msh(payload: bytes, fs: bytes) -> str | None:
    line_end = len(payload)
    for sep in (b"\r", b"\n"):
        i = payload.find(sep)
        if 0 <= i < line_end:
            line_end = i
    fields = payload[:line_end].split(fs)
    # fields[0] = "MSH", fields[1] = MSH-2, so MSH-18 is fields[17]
    if len(fields) > 17 and fields[17]:
        return fields[17].split(b"~")[0].decode("latin-1").strip()
    return None


def tokenize(data: bytes, *, strict: bool = False, accept: frozenset[str] = frozenset()) -> ParsedMessage:
    """Split a message into segments and fields; tolerated deviations become issues (strict: raise, except
    the finding codes in `accept`: those a chosen quirk profile tolerates, codecs.hl7v2.quirks)."""
    payload, base = strip_framing(data)
    if not payload:
        raise _fail("no HL7 content (empty or only framing/whitespace)", "byte 0", "an MSH segment", 0)
    delims = read_delimiters(payload[:64], base)
    issues: list[Issue] = []
    after = base + len(payload)  # where an MLLP end block cut the payload short, if one did

    def tolerate(code: str, location: str, message: str, offset: int | None = None,
                 severity: str = "warning") -> None:
        if strict and severity != "info" and code not in accept:
            raise _fail(message, location, "a message following HL7 v2 chapter 2 encoding rules", offset)
        issues.append(Issue(severity=severity, code=code, location=location, message=message, offset=offset))

    if data[after:after + 1] == MLLP_END and data[after + 1:].strip(b"\r\n \t\x1c\x0b"):
        tolerate("hl7v2.after-mllp-block", f"byte {after + 1}", "more content follows the MLLP end block (another "
                 "message?); not read here (interop.decode_all and `interop translate` read every message)",
                 after + 1)
    declared = _charset_from_msh(payload, delims.field.encode("latin-1"))
    codec_name = CHARSETS.get(declared.upper(), None) if declared else None
    if declared and codec_name is None:
        tolerate("hl7v2.unknown-charset", "MSH-18", f"character set {declared!r} is not in HL7 table 0211; "
                 "decoded as UTF-8 with Latin-1 fallback")
    if codec_name == "latin-1" and _is_utf8_beyond_ascii(payload):
        # a frequent real-world mismatch: MSH-18 says 8859/1 but the sender wrote UTF-8
        tolerate("hl7v2.charset-mismatch", "MSH-18", f"declared {declared!r} but the bytes are UTF-8 "
                 "(multi-byte sequences); decoded as UTF-8")
        codec_name = "utf-8"
    try:
        text = payload.decode(codec_name or "utf-8")
        charset = codec_name or "utf-8"
    except UnicodeDecodeError as exc:
        if codec_name and codec_name != "utf-8":
            raise _fail(f"bytes are not valid {declared}", f"byte {base + exc.start}",
                        f"text in the MSH-18 character set {declared!r}", base + exc.start) from None
        tolerate("hl7v2.charset-fallback", f"byte {base + exc.start}",
                 "bytes are not valid UTF-8 and no MSH-18 character set was declared; decoded as Latin-1",
                 base + exc.start)
        text = payload.decode("latin-1")
        charset = "latin-1"

    if "\n" in text:
        tolerate("hl7v2.line-ends", "message", "segments end with LF or CR LF instead of CR; accepted",
                 None, severity="info" if not strict else "warning")
        text = text.replace("\r\n", "\r").replace("\n", "\r")

    fs = delims.field
    segments: list[Segment] = []
    counts: dict[str, int] = {}
    seen = _SEEN_IDS
    end = base + len(text)
    pos = base
    line = 0
    for raw in text.split("\r"):
        line += 1
        offset = pos
        pos += len(raw) + 1
        name = raw[:3]
        # the common case first: a segment id seen before, then the field separator
        if name not in seen or raw[3:4] != fs:
            if not raw or raw.isspace():  # blank (same test as `not raw.strip()`, without a copy)
                if raw or pos < end:
                    tolerate("hl7v2.blank-line", f"segment {line}", "blank line between segments ignored", offset)
                continue
            if raw[0] in " \t":
                tolerate("hl7v2.leading-space", f"segment {line}", "segment starts with whitespace; stripped",
                         offset)
                raw = raw.lstrip(" \t")
                name = raw[:3]
            if len(raw) > 3 and raw[3] != fs or name not in seen and not _valid_segment_id(name):
                if strict:
                    raise _fail(f"segment {line} starts with {name!r}", f"segment {line}",
                                "a 3-character segment id followed by the field separator", offset)
                tolerate("hl7v2.bad-segment", f"segment {line}",
                         f"line does not start with a segment id and field separator; kept as unparsed segment {line}",
                         offset, severity="error")
                name = "???"
        fields = raw.split(fs)
        if name == "MSH":
            fields.insert(1, fs)
        n = counts[name] = counts.get(name, 0) + 1
        segments.append(Segment(name, fields, n, offset, line))
    return ParsedMessage(delims, segments, charset, issues)


def _is_utf8_beyond_ascii(payload: bytes) -> bool:
    if payload.isascii():
        return False
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _valid_segment_id(name: str) -> bool:
    valid = len(name) == 3 and name.isascii() and name[0].isalpha() and name.isalnum() and name == name.upper()
    if valid and len(_SEEN_IDS) < 1024:  # segment ids recur in every message (MSH, PID, OBX ...)
        _SEEN_IDS.add(name)
    return valid


_SEEN_IDS: set[str] = set()  # segment ids already checked by `_valid_segment_id`


# ---------------------------------------------------------------------------------------------
# Components, repetitions, escapes


def repetitions(value: str, d: Delimiters) -> list[str]:
    """Repetitions of a field (never empty: '' → [''])."""
    return value.split(d.repetition) if d.repetition in value else [value]


def components(value: str, d: Delimiters) -> list[str]:
    """Components of one repetition."""
    return value.split(d.component) if d.component in value else [value]


def subcomponents(value: str, d: Delimiters) -> list[str]:
    """Subcomponents of one component."""
    return value.split(d.subcomponent) if d.subcomponent in value else [value]


def unescape(value: str, d: Delimiters) -> str:
    r"""Resolve escape sequences (\F\ \S\ \T\ \R\ \E\ \Xhh..\ \.br\ ...) in one leaf value.

    Unknown sequences and highlighting (\H\ \N\) are dropped from text only when they are formatting;
    anything unrecognised is kept verbatim so nothing is lost.
    """
    esc = d.escape
    if esc not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch != esc:
            out.append(ch)
            i += 1
            continue
        j = value.find(esc, i + 1)
        if j < 0:  # lone escape character: keep it
            out.append(value[i:])
            break
        seq = value[i + 1:j]
        rep = _ESCAPES.get(seq)
        if rep is not None and getattr(d, rep) is not None:
            out.append(getattr(d, rep))
        elif seq.startswith("X") and len(seq) > 1 and len(seq) % 2 == 1:
            try:
                out.append(bytes.fromhex(seq[1:]).decode("utf-8", errors="replace"))
            except ValueError:
                out.append(value[i:j + 1])
        elif seq in ("H", "N"):
            pass  # start/end highlighting: presentation only
        elif seq.startswith(".br"):
            out.append("\n")
        elif seq.startswith((".sp", ".in", ".ti", ".ce", ".fi", ".nf", ".sk")):
            out.append("\n" if seq.startswith(".sp") else "")
        else:
            out.append(value[i:j + 1])
        i = j + 1
    return "".join(out)


_ESCAPES = {"F": "field", "S": "component", "T": "subcomponent", "R": "repetition", "E": "escape",
            "P": "truncation"}
