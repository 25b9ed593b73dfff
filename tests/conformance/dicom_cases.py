"""Base DICOM files of the DCM-* crafted cases: conformant for every module the `dicom` profile checks.

Built from the example builders (examples/dicom/make_examples.py), with instance UIDs of their own
and a projection X-ray dose report the examples do not have. `python tests/conformance/dicom_cases.py` writes them to conformance/cases/dicom/; the
catalogue's `cases:` derive each pass/fail input from one base with a few edits
(`interop.conformance.checks.dicom.build_case`).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pydicom import Dataset, Sequence

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "conformance" / "cases" / "dicom"


def _builders():
    spec = importlib.util.spec_from_file_location("dicom_make_examples", ROOT / "examples/dicom/make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


B = _builders()


def _sr_complete(ds: Dataset) -> Dataset:
    ds.SOPInstanceUID = B.uid(f"case-{ds.SOPInstanceUID}")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def ct() -> Dataset:
    return B.ct_image()


def sr_tid1500() -> Dataset:
    return _sr_complete(B.tid1500_report())


def sr_ct_dose() -> Dataset:
    return _sr_complete(B.ct_dose_report())


def sr_xray_dose() -> Dataset:
    """TID 10001 projection X-ray dose: accumulated data and one irradiation event (TID 10003)."""
    ds = B.ct_dose_report()
    ds.ContentTemplateSequence[0].TemplateIdentifier = "10001"
    ds.SeriesInstanceUID = B.uid("xray-dose-series")
    ds.SOPInstanceUID = B.uid("xray-dose")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    event = B.container("CONTAINS", B.code("113706", "DCM", "Irradiation Event X-Ray Data"), [
        B._item("CONTAINS", "UIDREF", B.code("113769", "DCM", "Irradiation Event UID"), UID=B.uid("xray-event-1")),
        B.num(B.code("113738", "DCM", "Dose (RP)"), "0.42", "Gy", "Gy"),
    ])
    accumulated = B.container("CONTAINS", B.code("113702", "DCM", "Accumulated X-Ray Dose Data"), [
        B.num(B.code("113722", "DCM", "Dose Area Product Total"), "0.0012", "Gy.m2", "Gy.m2"),
    ])
    ds.ContentSequence = Sequence([ds.ContentSequence[0], ds.ContentSequence[1], accumulated, event])
    ds.ContentSequence[0].ConceptCodeSequence = Sequence([B.code("168537006", "SCT", "Plain radiography")])
    return _sr_complete(ds)


def ecg() -> Dataset:
    ds = B.ecg_12lead()
    ds.SOPInstanceUID = B.uid("case-ecg")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def mpps() -> Dataset:
    return B.mpps_n_create()


BASES = {"ct.dcm": ct, "sr_tid1500.dcm": sr_tid1500, "sr_ct_dose.dcm": sr_ct_dose,
         "sr_xray_dose.dcm": sr_xray_dose, "ecg.dcm": ecg, "mpps.dcm": mpps}


def files() -> dict[str, bytes]:
    out = {}
    for name, fn in BASES.items():
        ds = fn()
        out[name] = B.to_bytes(ds) if hasattr(ds, "file_meta") else _raw(ds)
    return out


def _raw(ds: Dataset) -> bytes:
    """A dataset without File Meta (an MPPS attribute list as a DIMSE carries it), Explicit VR Little Endian."""
    import io

    from pydicom.filewriter import dcmwrite

    buf = io.BytesIO()
    dcmwrite(buf, ds, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (OUT / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
