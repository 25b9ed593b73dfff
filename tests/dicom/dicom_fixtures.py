"""Shared helpers for the DICOM codec tests: packaged pydicom files and the example builders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from interop.codecs.dicom.codec import DicomCodec
from pydicom.data import get_testdata_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "dicom"
CODEC = DicomCodec()


def _load_builders():
    spec = importlib.util.spec_from_file_location("dicom_make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builders = _load_builders()


def packaged(name: str) -> bytes:
    """Bytes of a DICOM file shipped inside the pydicom wheel (never downloaded)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not packaged with pydicom"
    return Path(path).read_bytes()


def decode(data: bytes, strict: bool = False, source: str | None = None):
    """DicomCodec().decode shortcut."""
    return CODEC.decode(data, strict=strict, source=source)
