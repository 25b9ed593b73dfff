"""Cross-check every shipped MDC row against the NIST RTMMS / IHE PCD Rosetta export (test-only oracle).

Oracle files: tests/data/terminology/rtmms_*.csv (provenance in SOURCES.md there). The oracle is not
shipped; where it has a term or unit, the shipped row must agree on code and its UCUM units must be
among the oracle's.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from interop.terminology import mdc

ORACLE = Path(__file__).resolve().parents[1] / "data" / "terminology"

# Oracle rows known to be wrong or about another term, with the reason (checked by hand).
ORACLE_DEFECTS: dict[str, str] = {}


def _oracle(name: str) -> dict[str, dict[str, str]]:
    with open(ORACLE / name, encoding="utf-8", newline="") as f:
        return {r["refid"]: r for r in csv.DictReader(f)}


TERMS = _oracle("rtmms_rosetta_terms_extract.csv")
UNITS = _oracle("rtmms_unit_terms_extract.csv")


def _usable(row: dict[str, str] | None) -> bool:
    """An oracle row with a context-free code in a real partition (partition 0 rows repeat the term code)."""
    return bool(row and row["cf_code10"] and row["partition"] not in ("", "0") and row["refid"] not in ORACLE_DEFECTS)


def test_oracle_covers_the_vital_signs() -> None:
    checked = [t for t in mdc._tables().terms.values() if _usable(TERMS.get(t.refid))]
    assert len(checked) >= 30
    assert {"MDC_PULS_OXIM_SAT_O2", "MDC_TEMP_BODY", "MDC_PRESS_BLD_NONINV_SYS"} <= {t.refid for t in checked}


@pytest.mark.parametrize("term", sorted(mdc._tables().terms.values(), key=lambda t: t.code), ids=lambda t: t.refid)
def test_term_agrees_with_oracle(term: mdc.MdcTerm) -> None:
    row = TERMS.get(term.refid)
    if not _usable(row):
        pytest.skip("not in the oracle")
    assert int(row["cf_code10"]) == term.code
    assert int(row["code10"]) == term.term_code
    assert int(row["partition"]) == term.partition
    oracle_ucum = set(filter(None, row["ucum"].split("|")))
    if oracle_ucum:
        assert set(term.ucum_units) <= oracle_ucum


@pytest.mark.parametrize("unit", sorted(mdc._tables().units.values(), key=lambda u: u.code), ids=lambda u: u.refid)
def test_unit_agrees_with_oracle(unit: mdc.MdcUnit) -> None:
    row = UNITS.get(unit.refid)
    if not row or not row["cf_code10"] or unit.refid in ORACLE_DEFECTS:
        pytest.skip("not in the oracle")
    assert int(row["cf_code10"]) == unit.code
    oracle_ucum = set(filter(None, row["ucum"].split("|")))
    if unit.ucum and oracle_ucum:
        assert unit.ucum in oracle_ucum
