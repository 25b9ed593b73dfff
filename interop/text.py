"""Text predicates shared by the codecs, the mappings and the conformance suite."""

from __future__ import annotations


def is_ascii_digits(text: str | bytes) -> bool:
    """True for a non-empty run of ASCII digits 0-9 only.

    `str.isdigit` alone also accepts superscripts and other scripts' digits ('²', '١'), some of which
    `int()` refuses and none of which any HL7 v2, DICOM or IEEE 11073 code or number uses."""
    return text.isascii() and text.isdigit()
