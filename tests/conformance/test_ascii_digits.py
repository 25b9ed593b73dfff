"""HL7 v2 and DICOM numbers, dates and times are ASCII digits (HL7 v2.5 Ch. 2.A: NM "0 through 9";
DICOM PS3.5 Table 6.2-1: DA/TM/DS/IS "0"-"9"). Python's `\\d` and `str.isdigit` also accept other
scripts' digits (Arabic-Indic '٢', full-width '２', superscript '²'), and int() reads most of them,
so a value written with them passed the checks and was read as a number. Each row here is a real
value rewritten with such digits."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop.codecs.dicom.dates import date_time
from interop.conformance.checks.dicom import DA_RE, DS_RE, IS_RE, TM_RE
from interop.conformance.hl7v2.checks import NM, SI, valid_dtm
from interop.conformance.runner import run

from interop.text import is_ascii_digits

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hl7v2" / "pcd01-vitals.hl7"


@pytest.mark.parametrize("table", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
def test_hl7v2_nm_si_and_dtm_want_ascii_digits(table) -> None:
    for ascii_value, pattern in (("120", NM), ("37.20", NM), ("3", SI)):
        assert pattern.match(ascii_value)
        assert pattern.match(ascii_value.translate(table)) is None
    assert valid_dtm("20240315101500+0100")
    assert not valid_dtm("20240315101500+0100".translate(table))


@pytest.mark.parametrize("table", [ARABIC_INDIC, FULL_WIDTH], ids=["arabic-indic", "full-width"])
def test_dicom_da_tm_ds_is_want_ascii_digits(table) -> None:
    for ascii_value, pattern in (("20240315", DA_RE), ("101500.25", TM_RE), ("1.25", DS_RE), ("42", IS_RE)):
        assert pattern.match(ascii_value)
        assert pattern.match(ascii_value.translate(table)) is None
    stamp = date_time("20240315", "101500", None)
    assert (stamp.value.isoformat(), stamp.precision, stamp.raw) == ("2024-03-15T10:15:00", "second", "20240315101500")
    with pytest.raises(ValueError):
        date_time("20240315".translate(table), None, None)
    with pytest.raises(ValueError):
        date_time("20240315", "101500".translate(table), None)


def test_is_ascii_digits() -> None:
    assert is_ascii_digits("0123456789") and is_ascii_digits(b"42")
    assert not any(is_ascii_digits(t) for t in ("", "²", "٤٢", "４２", "4 2", "-4", "4.2"))


def test_an_obx_time_in_arabic_indic_digits_is_reported_where_it_is(tmp_path: Path) -> None:
    text = EXAMPLE.read_bytes().decode()
    segments = text.split("\r")
    at = next(i for i, s in enumerate(segments) if s.startswith("OBX|3|"))
    fields = segments[at].split("|")
    fields[14] = fields[14].translate(ARABIC_INDIC)
    segments[at] = "|".join(fields)
    path = tmp_path / "arabic-indic-time.hl7"
    path.write_bytes("\r".join(segments).encode())
    report = run([path], "hl7v2")
    hits = [(f.assertion, f.location) for res in report.results for f in res.findings
            if f.assertion == "HL7V2-DT-DTM"]
    assert hits == [("HL7V2-DT-DTM", "OBX[3].14")]
