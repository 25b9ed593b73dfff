"""Where a finding's spec reference can be read: a link for the standards published on the web.

DICOM parts are linked to their single-page HTML edition at the section anchor (`sect_C.17.1`,
`sect_TID_1500`); IHE PCD TF-2 to the Volume 2 PDF the catalogue cites (Revision 9.0); HL7 FHIR and
its IGs to their published pages. IEEE 11073 and HL7 v2 are not freely published: no link.
"""

from __future__ import annotations

import re

_DICOM = re.compile(r"PS3\.(\d+)(?:\s+(?:§\s*)?((?:[A-Z]\.)?[0-9][0-9.]*[0-9]|[A-Z]\.[0-9][0-9.]*)|\s+TID\s*(\d+))?")
_LINKS = (
    ("IHE PCD TF-2", "https://www.ihe.net/uploadedFiles/Documents/PCD/IHE_PCD_TF_Vol2.pdf"),
    ("PHD IG", "https://hl7.org/fhir/uv/phd/"),
    ("PoCD", "https://build.fhir.org/ig/HL7/uv-pocd/"),
    ("vital signs", "https://hl7.org/fhir/R4/observation-vitalsigns.html"),
    ("FHIR R5", "https://hl7.org/fhir/R5/"),
    ("FHIR R4", "https://hl7.org/fhir/R4/"),
    ("FHIR", "https://hl7.org/fhir/R4/"),
)


def reference_url(reference: str) -> str | None:
    """A link to the text a reference cites, or None."""
    m = _DICOM.search(reference)
    if m and "DICOM" in reference:
        part = int(m.group(1))
        url = f"https://dicom.nema.org/medical/dicom/current/output/html/part{part:02d}.html"
        if m.group(3):
            return f"{url}#sect_TID_{m.group(3)}"
        section = (m.group(2) or "").rstrip(".")
        return f"{url}#sect_{section}" if section else url
    for needle, url in _LINKS:
        if needle.lower() in reference.lower():
            return url
    return None
