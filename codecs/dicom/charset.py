"""Specific Character Set (0008,0005) → how to turn element bytes into text (PS3.3 C.12.1.1.2, PS3.5 6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# Defined terms without code extensions → Python codec (PS3.3 Table C.12-2, C.12-4 for UTF-8/GB18030/GBK).
SINGLE_BYTE = {
    "": "ascii", "ISO_IR 6": "ascii", "ISO_IR 100": "latin_1", "ISO_IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3", "ISO_IR 110": "iso8859_4", "ISO_IR 144": "iso8859_5", "ISO_IR 127": "iso8859_6",
    "ISO_IR 126": "iso8859_7", "ISO_IR 138": "iso8859_8", "ISO_IR 148": "iso8859_9", "ISO_IR 203": "iso8859_15",
    "ISO_IR 13": "shift_jis", "ISO_IR 166": "iso8859_11", "ISO_IR 192": "utf_8", "GB18030": "gb18030",
    "GBK": "gbk",
}
# Defined terms with ISO 2022 code extensions (PS3.3 Table C.12-3, C.12-4): escape sequences switch sets.
ISO_2022 = {
    "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110",
    "ISO 2022 IR 144", "ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148",
    "ISO 2022 IR 203", "ISO 2022 IR 13", "ISO 2022 IR 166", "ISO 2022 IR 87", "ISO 2022 IR 159",
    "ISO 2022 IR 149", "ISO 2022 IR 58",
}


@dataclass(frozen=True, slots=True)
class Charset:
    """How text of one dataset decodes: one Python codec, or pydicom's ISO 2022 escape handling."""

    terms: tuple[str, ...]  # the Specific Character Set values as sent
    codec: str | None  # Python codec for a single stand-alone set; None when ISO 2022 switching applies
    unknown: tuple[str, ...] = ()  # terms that are not defined by PS3.3 (decoded with the default set)

    def decode(self, raw: bytes, delimiters: frozenset[int] = frozenset()) -> tuple[str, bool]:
        """Text of `raw` and whether every byte was valid in the declared set."""
        if self.codec is not None:
            try:
                return raw.decode(self.codec), True
            except UnicodeDecodeError:
                # Bytes outside the declared set: keep them readable, report the element.
                return raw.decode("latin_1" if self.codec == "ascii" else self.codec, "replace"), False
        import warnings

        from pydicom.charset import convert_encodings, decode_bytes

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = decode_bytes(raw, convert_encodings(list(self.terms)), set(delimiters))
        return text, not caught


DEFAULT = Charset(terms=(), codec="ascii")


@lru_cache(maxsize=128)
def charset_for(terms: tuple[str, ...]) -> Charset:
    """The `Charset` for the values of (0008,0005); unknown terms are listed, not fatal."""
    clean = tuple(t.strip() for t in terms)
    if not clean or clean == ("",):
        return DEFAULT
    unknown = tuple(t for t in clean if t not in SINGLE_BYTE and t not in ISO_2022)
    known = tuple(t for t in clean if t not in unknown)
    if not known:
        return Charset(terms=clean, codec="latin_1", unknown=unknown)
    if len(known) == 1 and known[0] in SINGLE_BYTE:
        return Charset(terms=clean, codec=SINGLE_BYTE[known[0]], unknown=unknown)
    if len(known) == 1 and known[0] == "ISO 2022 IR 6":
        return Charset(terms=clean, codec="ascii", unknown=unknown)
    # The first value may be empty (= ISO 2022 IR 6 as default G0) when extensions follow.
    return Charset(terms=tuple("ISO 2022 IR 6" if t == "" else t for t in clean if t not in unknown),
                   codec=None, unknown=unknown)
