"""Presentation contexts the node accepts: storage SOP classes, Verification, MPPS (PS3.4 Annexes A, B, F)."""

from __future__ import annotations

from typing import Any

VERIFICATION = "1.2.840.10008.1.1"  # PS3.4 A.4 Verification SOP Class
MPPS = "1.2.840.10008.3.1.2.3.3"  # PS3.4 F.7.3 Modality Performed Procedure Step SOP Class

STORAGE_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian (preferred: keeps the VRs)
    "1.2.840.10008.1.2",  # Implicit VR Little Endian (the default every peer supports)
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still sent)
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless, Non-Hierarchical (Process 14)
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless, First-Order Prediction (Process 14 [SV1])
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",  # JPEG-LS Lossy (Near-Lossless)
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless Only
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.201",  # HTJ2K Lossless
    "1.2.840.10008.1.2.4.203",  # HTJ2K
    "1.2.840.10008.1.2.5",  # RLE Lossless
)
"""Transfer syntaxes accepted for storage: the node reads headers only, so compressed pixel data is fine."""

NON_STORAGE_TRANSFER_SYNTAXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2")


def storage_sop_classes() -> list[str]:
    """Every storage SOP class UID pynetdicom knows (PS3.4 Annex B table B.5-1, incl. SR and waveforms)."""
    from pynetdicom import AllStoragePresentationContexts

    return [str(cx.abstract_syntax) for cx in AllStoragePresentationContexts]


def add_supported_contexts(ae: Any) -> None:
    """Register Verification, MPPS and every storage SOP class (SCP role) on a pynetdicom AE."""
    ae.add_supported_context(VERIFICATION, list(NON_STORAGE_TRANSFER_SYNTAXES))
    ae.add_supported_context(MPPS, list(NON_STORAGE_TRANSFER_SYNTAXES))
    for uid in storage_sop_classes():
        ae.add_supported_context(uid, list(STORAGE_TRANSFER_SYNTAXES))
