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


# Only the rows the oracle can judge are parametrized (no skipped cases); the count is pinned above.
@pytest.mark.parametrize("term", sorted((t for t in mdc._tables().terms.values() if _usable(TERMS.get(t.refid))),
                                        key=lambda t: t.code), ids=lambda t: t.refid)
def test_term_agrees_with_oracle(term: mdc.MdcTerm) -> None:
    row = TERMS[term.refid]
    assert int(row["cf_code10"]) == term.code
    assert int(row["code10"]) == term.term_code
    assert int(row["partition"]) == term.partition
    oracle_ucum = set(filter(None, row["ucum"].split("|")))
    if oracle_ucum:
        assert set(term.ucum_units) <= oracle_ucum


def _unit_usable(unit: mdc.MdcUnit) -> bool:
    row = UNITS.get(unit.refid)
    return bool(row and row["cf_code10"] and unit.refid not in ORACLE_DEFECTS)


@pytest.mark.parametrize("unit", sorted((u for u in mdc._tables().units.values() if _unit_usable(u)),
                                        key=lambda u: u.code), ids=lambda u: u.refid)
def test_unit_agrees_with_oracle(unit: mdc.MdcUnit) -> None:
    row = UNITS[unit.refid]
    assert int(row["cf_code10"]) == unit.code
    oracle_ucum = set(filter(None, row["ucum"].split("|")))
    if unit.ucum and oracle_ucum:
        assert unit.ucum in oracle_ucum


# Codes the oracle names differently, checked by hand. 68164-68169: IHE PCD-04 alert attributes in RTMMS
# (MDC_ATTR_ALERT_SOURCE ... MDC_ATTR_ALERT_TYPE) reuse the numbers IEEE 11073-20601 Annex A gives to DIM
# attributes (MDC_ATTR_DEV_CONFIG_ID 2628 ... MDC_ATTR_ENUM_OBS_VAL_SIMP_OID 2633, seen on the wire in the
# corpus antidote config reports); the table keeps the 20601 names. Public PCD-04 messages disagree on the
# alert codes (68164-68169 vs 68480-68485), so the alert attributes are left out.
CODE_COLLISIONS = {68164, 68165, 68166, 68167, 68168, 68169}


def test_oracle_names_the_same_codes_alike() -> None:
    by_code: dict[int, set[str]] = {}
    for r in TERMS.values():
        if _usable(r):
            by_code.setdefault(int(r["cf_code10"]), set()).add(r["refid"])
    t = mdc._tables()
    aliases = {refid for refid, term in t.terms_by_refid.items() if refid != term.refid}
    disagree = {code for code, term in t.terms.items()
                if code in by_code and term.refid not in by_code[code] and not (by_code[code] & aliases)}
    assert disagree == CODE_COLLISIONS
