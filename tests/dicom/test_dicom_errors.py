"""Bad files → DecodeError naming the tag (CLI: exit 2, one line with file and tag); fuzz: only DecodeError."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from dicom_fixtures import builders, decode, packaged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop.errors import DecodeError


def _manufacturer_offset(data: bytes) -> int:
    i = data.find(b"\x08\x00\x70\x00LO")  # (0008,0070) Manufacturer, explicit VR little endian
    assert i > 0
    return i


def test_not_dicom():
    with pytest.raises(DecodeError) as err:
        decode(b"this is not a DICOM file at all" * 10, source="x.dcm")
    assert err.value.position == "byte 0" or err.value.position == "byte 128"


def test_truncated_file_names_the_tag():
    # pydicom test file rtplan_truncated.dcm: cut inside (300A,00B0) Beam Sequence
    with pytest.raises(DecodeError) as err:
        decode(packaged("rtplan_truncated.dcm"))
    assert err.value.position == "(300A,00B0)"
    assert "truncated" in err.value.message


def test_truncated_content_sequence():
    data = builders.to_bytes(builders.ct_dose_report())
    with pytest.raises(DecodeError) as err:
        decode(data[: len(data) - 700], source="dose.dcm")
    assert err.value.position == "(0040,A730)"
    assert err.value.one_line().startswith("dose.dcm: (0040,A730): dicom decode error: truncated")


# CT_small.dcm (pydicom test file) layout: File Meta Group Length 192 → dataset at byte 336; (0008,0005)
# Specific Character Set "ISO_IR 100" (header 336-343, value 344-353); (0008,0008) header at 354; (0008,0012)
# header at 384. pydicom accepts each of these cuts silently (issue 5 QA).
@pytest.mark.parametrize(("cut", "tag"), [
    (138, "(0002,0000)"),  # inside the group length element
    (200, "(0002,0003)"),  # inside File Meta Information (Media Storage SOP Instance UID)
    (340, "(0002,0000)"),  # a partial header of the dataset's first element
    (350, "(0008,0005)"),  # inside Specific Character Set, which pydicom converts while reading
    (360, "(0008,0005)"),  # a partial header of (0008,0008) after a complete (0008,0005)
    (390, "(0008,0008)"),  # a partial header of (0008,0012)
])
def test_truncations_pydicom_accepts_name_the_tag(cut: int, tag: str):
    with pytest.raises(DecodeError) as err:
        decode(packaged("CT_small.dcm")[:cut], source="ct.dcm")
    assert err.value.position == tag and "truncated" in err.value.message
    assert err.value.one_line().startswith(f"ct.dcm: {tag}")


def test_deflated_and_complete_files_are_not_truncated():
    # Deflated Explicit VR Little Endian: element offsets count inflated bytes (pydicom test file image_dfl.dcm)
    assert decode(packaged("image_dfl.dcm")).standard == "dicom"
    assert decode(packaged("CT_small.dcm")[:384]).standard == "dicom"  # a cut at an element boundary reads


def test_wrong_value_length_too_long():
    data = bytearray(packaged("CT_small.dcm"))
    i = _manufacturer_offset(data)
    data[i + 6:i + 8] = struct.pack("<H", 0x7000)  # Manufacturer length swallows the following elements
    with pytest.raises(DecodeError) as err:
        decode(bytes(data))
    assert err.value.position == "(0008,0070)"


def test_wrong_value_length_too_short():
    data = bytearray(packaged("CT_small.dcm"))
    i = _manufacturer_offset(data)
    data[i + 6:i + 8] = struct.pack("<H", 3)  # the rest of the value is read as a tag
    with pytest.raises(DecodeError) as err:
        decode(bytes(data), source="ct.dcm")
    assert err.value.position == "(0008,0070)"
    assert err.value.one_line().startswith("ct.dcm: (0008,0070): dicom decode error: value length")


def test_binary_value_with_odd_length_is_a_finding():
    ds = builders.ecg_12lead()
    data = bytearray(builders.to_bytes(ds))
    # (003A,0005) Number of Waveform Channels US length 2 → 3 breaks the item; must not escape as another error
    i = data.find(b"\x3a\x00\x05\x00US\x02\x00")
    data[i + 6:i + 8] = struct.pack("<H", 3)
    try:
        m = decode(bytes(data))
    except DecodeError:
        return
    assert m.issues


@pytest.mark.parametrize("strict", [False, True])
def test_cli_bad_file_exit_2(tmp_path, strict):
    data = builders.to_bytes(builders.ct_dose_report())
    bad = tmp_path / "dose_cut.dcm"
    bad.write_bytes(data[: len(data) - 700])
    args = [sys.executable, "-m", "interop.cli.main", "translate", str(bad), "--to", "canonical"]
    if strict:
        args.append("--strict")
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=tmp_path)  # not the source tree
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(bad) in lines[0] and "(0040,A730)" in lines[0]


def test_cli_translates_example(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate",
                           str(builders.HERE / "sr_ct_radiation_dose.dcm"), "--to", "canonical"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "113813" in proc.stdout


_SEEDS = [builders.to_bytes(builders.ct_image()), builders.to_bytes(builders.tid1500_report()),
          builders.to_bytes(builders.mpps_file(builders.mpps_n_create()))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes(data):
    try:
        decode(data)
    except DecodeError:
        pass
    try:
        decode(b"\x00" * 128 + b"DICM" + data)
    except DecodeError:
        pass


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(_SEEDS))), st.integers(min_value=132, max_value=4000), st.binary(min_size=1,
                                                                                                   max_size=8),
       st.booleans())
def test_fuzz_mutated_files(seed, position, patch, strict):
    data = bytearray(_SEEDS[seed])
    position %= len(data)
    data[position:position + len(patch)] = patch
    try:
        decode(bytes(data), strict=strict)
    except DecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(range(len(_SEEDS))), st.integers(min_value=0, max_value=4000))
def test_fuzz_truncations(seed, cut):
    data = _SEEDS[seed]
    try:
        decode(data[: cut % len(data)])
    except DecodeError:
        pass


@pytest.mark.parametrize("garbage", [b"\xff" * 64, bytes(range(256)), b"", b"\x12\x34"])
def test_dicm_magic_followed_by_garbage_names_byte_132(garbage: bytes, tmp_path):
    # 0xFF.. once read as an undefined-length item and gave an empty Bundle with exit 0
    data = b"\0" * 128 + b"DICM" + garbage
    with pytest.raises(DecodeError) as err:
        decode(data, source="x.dcm")
    # garbage: the byte after the magic; too few bytes for an element: the element they cut short
    assert err.value.position == ("byte 132" if len(garbage) >= 8 else "(0002,0000)")
    path = tmp_path / "garbage.dcm"
    path.write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "garbage.dcm" in run.stderr
    assert "Traceback" not in run.stderr
