"""Test studies generated from the DICOM files packaged with pydicom (see tests' docstrings).

CT_small.dcm (pydicom test data, GE "RHAPSODE" CT): Study Instance UID
1.3.6.1.4.1.5962.1.2.1.20040119072730.12322, Series 1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322,
SOP Instance 1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322, CT Image Storage, Explicit VR LE.
Further instances of the same series get SOP Instance UIDs with a suffix ".<n>" and InstanceNumber n.
"""

from __future__ import annotations

from pathlib import Path

CT_STUDY = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
CT_SERIES = "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322"
CT_INSTANCE = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_SMALL_STUDY = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"  # MR_small.dcm
MR_SMALL_INSTANCE = "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457"


def ct_study(directory: Path, count: int = 3, study_uid: str = CT_STUDY) -> list[tuple[Path, str]]:
    """`count` instances of CT_small's series (instance 1 is the file as packaged, UIDs changed only when asked)."""
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(1, count + 1):
        ds = dcmread(get_testdata_file("CT_small.dcm"))
        uid = CT_INSTANCE if n == 1 else f"{CT_INSTANCE}.{n}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = n
        ds.StudyInstanceUID = study_uid
        path = directory / f"ct{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append((path, uid))
    return out


def corrupt_file(directory: Path) -> Path:
    """A Part 10 file with valid file meta whose dataset has an element with VR "ZZ" (not in PS3.5 Table 6.2-1)."""
    from pydicom.data import get_testdata_file

    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    meta_end = 132 + 12 + int.from_bytes(data[140:144], "little")  # (0002,0000) group length value
    first = 8 + int.from_bytes(data[meta_end + 6:meta_end + 8], "little")  # (0008,0005), explicit VR LE
    body = data[meta_end:meta_end + first] + b"\x08\x00\x16\x00ZZ\x04\x001.2\x00"
    path = directory / "corrupt.dcm"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[:meta_end] + body)
    return path


TEST_SR_INSTANCE = "1.2.276.0.7230010.3.1.4.2139363186.7819.982086466.4"  # test-SR.dcm (pydicom), Comprehensive SR


def sr_in_study(directory: Path, study_uid: str = CT_STUDY) -> tuple[Path, str]:
    """pydicom's test-SR.dcm (2 NUM items) moved into `study_uid`."""
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    ds = dcmread(get_testdata_file("test-SR.dcm"))
    ds.StudyInstanceUID = study_uid
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sr.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, str(ds.SOPInstanceUID)
