"""Coding Scheme Designators (PS3.16 Table 8-1) → FHIR code system URIs, MDC codes, laterality."""

from __future__ import annotations

from interop.model import DCM_SYSTEM, LOINC_SYSTEM, MDC_SYSTEM, SNOMED_SYSTEM, UCUM_SYSTEM
from interop.text import is_ascii_digits

# PS3.16 Table 8-1 designators with the URIs FHIR uses for them (HL7 terminology, DICOM PS3.16 Annex).
SCHEME_URIS = {
    "DCM": DCM_SYSTEM,
    "SCT": SNOMED_SYSTEM,
    "SRT": SNOMED_SYSTEM,  # legacy SNOMED-RT style designator; codes are SNOMED identifiers since 2019
    "LN": LOINC_SYSTEM,
    "UCUM": UCUM_SYSTEM,
    "MDC": MDC_SYSTEM,
    "RADLEX": "http://radlex.org",
    "NCIt": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
    "FMA": "http://purl.org/sig/ont/fma",
    "UMLS": "http://www.nlm.nih.gov/research/umls",
}
LOCAL_SCHEME_PREFIX = "urn:dicom:coding-scheme:"
"""System for a designator without a known URI and without Coding Scheme UID (designator appended)."""


def mdc_code(value: str) -> str:
    """IEEE 11073-10101 context-free code of a DICOM MDC code value: "2:1" → partition*65536 + code."""
    partition, sep, term = value.partition(":")
    if sep and is_ascii_digits(partition) and is_ascii_digits(term):
        return str(int(partition) * 65536 + int(term))
    return value


def coding_system(scheme: str, value: str, scheme_uid: str | None = None) -> tuple[str, str]:
    """(system URI, code) for a DICOM code triplet's designator and value."""
    system = SCHEME_URIS.get(scheme)
    if system is None:
        system = SCHEME_URIS.get(scheme.upper()) if scheme.upper() in ("SCT", "DCM", "LN", "UCUM", "MDC") else None
    if system == MDC_SYSTEM:
        return system, mdc_code(value)
    if system is not None:
        return system, value
    if scheme_uid:
        return f"urn:oid:{scheme_uid}", value
    return LOCAL_SCHEME_PREFIX + scheme, value


# (0020,0060) Laterality / (0020,0062) Image Laterality → SNOMED CT (DICOM CID 244 "Laterality").
LATERALITY = {
    "R": ("24028007", "Right"),
    "L": ("7771000", "Left"),
    "B": ("51440002", "Right and left"),
}
