"""The one-pass Part 10 reader (codecs/dicom/part10.py) against pydicom's read, and memoised against cold translations.

A well-formed file read in one pass must give the same canonical Message and the same FHIR Bundle as the
same file read by pydicom with the reader's checks; anything irregular must be left to pydicom (None), so
that findings and DecodeErrors on bad input stay those of the pydicom path.
"""

from __future__ import annotations

import struct

import orjson
import pytest
from dicom_fixtures import CODEC, EXAMPLES, packaged
from interop.codecs.dicom import part10
from interop.codecs.dicom.part10 import read_part10

from interop.errors import DecodeError
from interop.model import to_json
from interop.pipeline import clear_caches
from interop.registry import get_mapping

WELL_FORMED = {  # name -> (little endian, implicit VR) of the dataset
    "sr_tid1500_measurement_report.dcm": (True, False),
    "sr_ct_radiation_dose.dcm": (True, False),
    "ct_image.dcm": (True, False),
    "ct_image_iso2022_jp.dcm": (True, False),
    "ct_image_utf8.dcm": (True, False),
    "ecg_12lead.dcm": (True, False),
    "CT_small.dcm": (True, False),
    "MR_small.dcm": (True, False),
    "MR_small_implicit.dcm": (True, True),
    "MR_small_bigendian.dcm": (False, False),
    "rtplan.dcm": (True, True),
}


def _bytes(name: str) -> bytes:
    path = EXAMPLES / name
    return path.read_bytes() if path.is_file() else packaged(name)


def _pydicom_path(monkeypatch, data: bytes, **kw):
    """The codec's result when the one-pass reader steps aside (pydicom reads the file)."""
    with monkeypatch.context() as m:
        m.setattr(part10, "read_part10", lambda data: None)
        return CODEC.decode(data, **kw)


def _fhir(message, version: str = "fhir-r4", **options) -> dict:
    data = orjson.loads(get_mapping(version).map(message, **options).json())
    for entry in data.get("entry", []):
        if entry["resource"]["resourceType"] == "Provenance":
            entry["resource"].pop("recorded", None)
    return data


@pytest.mark.parametrize("name", sorted(WELL_FORMED))
def test_one_pass_read_equals_pydicom_read(name, monkeypatch):
    data = _bytes(name)
    ds = read_part10(data)
    assert ds is not None, f"{name} should be read in one pass"
    assert (ds.is_little_endian, ds.is_implicit_VR) == WELL_FORMED[name]
    import io

    import pydicom

    reference = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    assert list(ds._dict) == [int(t) for t in reference._dict]  # same elements, in file order
    for tag, elem in ds._dict.items():
        ref = reference._dict[tag]
        if getattr(ref, "is_raw", False):
            assert (elem.VR or None, elem.value or b"") == (ref.VR, ref.value or b""), hex(tag)
    fast = CODEC.decode(data, source=name)
    slow = _pydicom_path(monkeypatch, data, source=name)
    assert to_json(fast) == to_json(slow)
    assert _fhir(fast) == _fhir(slow)
    assert _fhir(fast, "fhir-r5", bundle_type="transaction") == _fhir(slow, "fhir-r5", bundle_type="transaction")


def _with_length(data: bytes, tag_offset: int, length: int) -> bytes:
    """`data` with the 16-bit explicit VR length of the element at `tag_offset` replaced."""
    return data[:tag_offset + 6] + struct.pack("<H", length) + data[tag_offset + 8:]


def _first_element_after_meta(data: bytes) -> int:
    return 144 + struct.unpack_from("<L", data, 140)[0]


@pytest.mark.parametrize("case", ["truncated", "partial-header", "wrong-length", "meta-length", "deflated",
                                  "charset-leading-space", "not-part10", "undefined-length-sequence"])
def test_irregular_files_are_left_to_pydicom(case, monkeypatch):
    data = _bytes("sr_tid1500_measurement_report.dcm")
    start = _first_element_after_meta(data)
    if case == "truncated":
        bad = data[:-3]
    elif case == "partial-header":
        bad = data + b"\x08\x00\x10"
    elif case == "wrong-length":
        bad = _with_length(data, start, struct.unpack_from("<H", data, start + 6)[0] + 2)
    elif case == "meta-length":
        bad = data[:140] + struct.pack("<L", struct.unpack_from("<L", data, 140)[0] - 2) + data[144:]
    elif case == "deflated":
        bad = data.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.1.99")  # same length: 20 bytes
    elif case == "charset-leading-space":
        assert b"ISO_IR 100" in data
        bad = data.replace(b"ISO_IR 100", b" ISO_IR 10", 1)  # pydicom keeps the leading space: its own value
    elif case == "not-part10":
        bad = data[132:]
    else:  # Content Sequence with undefined length: pydicom parses it into Datasets
        bad = _undefined_length(data, 0x0040A730)
    assert read_part10(bad) is None
    try:
        fast = CODEC.decode(bad, source="x.dcm")
    except DecodeError as exc:
        with pytest.raises(DecodeError) as slow:
            _pydicom_path(monkeypatch, bad, source="x.dcm")
        assert (str(exc), exc.position) == (str(slow.value), slow.value.position)
    else:
        assert to_json(fast) == to_json(_pydicom_path(monkeypatch, bad, source="x.dcm"))


def _undefined_length(data: bytes, tag: int) -> bytes:
    """`data` with the defined-length top-level sequence `tag` rewritten with undefined length (+ delimiter)."""
    needle = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"SQ\x00\x00"
    at = data.index(needle)
    length = struct.unpack_from("<L", data, at + 8)[0]
    value = data[at + 12:at + 12 + length]
    return (data[:at + 8] + b"\xff\xff\xff\xff" + value + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
            + data[at + 12 + length:])


@pytest.mark.parametrize("name", ["sr_tid1500_measurement_report.dcm", "sr_ct_radiation_dose.dcm", "ct_image.dcm",
                                  "CT_small.dcm", "MR_small_implicit.dcm"])
def test_memoised_translation_equals_cold_one(name):
    """What the codec and the mapping remember (concepts, units, Observation parts) changes nothing."""
    data = _bytes(name)
    clear_caches()
    cold = CODEC.decode(data, source=name)
    cold_r4, cold_r5 = _fhir(cold), _fhir(cold, "fhir-r5", bundle_type="transaction")
    for _ in range(3):
        warm = CODEC.decode(data, source=name)
        assert to_json(warm) == to_json(cold)
        assert _fhir(warm) == cold_r4
        assert _fhir(warm, "fhir-r5", bundle_type="transaction") == cold_r5
    # and after other documents filled the memos with their codes
    for other in WELL_FORMED:
        CODEC.decode(_bytes(other))
    assert to_json(CODEC.decode(data, source=name)) == to_json(cold)


def test_findings_are_never_remembered_away():
    """A module read with a finding (a malformed birth date) is read anew each time: the finding stays."""
    import io

    import pydicom

    ds = pydicom.dcmread(io.BytesIO(_bytes("ct_image.dcm")))
    ds.PatientBirthDate = "1970XX01"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    clear_caches()
    for _ in range(3):
        message = CODEC.decode(data, source="x.dcm")
        assert [(i.code, i.location) for i in message.issues if i.location == "(0010,0030)"] == [
            ("dicom.bad-value", "(0010,0030)")]
        assert message.patient is not None and message.patient.birth_date is None
    with pytest.raises(DecodeError) as exc:
        CODEC.decode(data, strict=True, source="x.dcm")
    assert exc.value.position == "(0010,0030)"
