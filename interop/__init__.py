"""iomt-interop: device standards (IEEE 11073, HL7 v2, DICOM) → canonical model → FHIR R4/R5.

    from interop import decode, to_fhir
    msg = decode(raw_bytes)               # auto-detects the standard
    bundle = to_fhir(msg, version="R4")   # .json() -> bytes, .resources, .to_model()
    fhir_json(raw_bytes)                  # to_fhir(decode(raw_bytes)).json() in one call
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "decode", "decode_all", "to_fhir", "fhir_json", "translate", "clear_caches",
           "DecodeError", "InteropError"]

from .errors import DecodeError, InteropError


def __getattr__(name: str) -> Any:  # lazy: `import interop` stays cheap
    if name in ("decode", "decode_all", "to_fhir", "fhir_json", "translate", "clear_caches"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
