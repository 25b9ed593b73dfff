"""X73-* assertions: crafted traces, known-good examples, the shared corpus with every finding pinned."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from interop.conformance.checks import x73

from . import x73_cases
from .corpus_inputs import ROOT, x73_files

GOLDEN = Path(__file__).resolve().parent / "golden" / "x73_corpus.json"


def ids(data: bytes) -> Counter:
    return Counter(h[0] for h in x73.check(data))


def test_case_files_are_current():
    """The committed cases are exactly what the builder (codec declarations) produces."""
    files = x73_cases.files()
    assert len(files) == 2 * len(x73.RULES)
    for name, text in files.items():
        assert (x73_cases.CASES_DIR / name).read_text(encoding="utf-8") == text, name


@pytest.mark.parametrize("assertion", sorted(x73.RULES))
def test_crafted_pair(assertion):
    good = (x73_cases.CASES_DIR / f"{assertion}.pass.x73").read_bytes()
    bad = (x73_cases.CASES_DIR / f"{assertion}.fail.x73").read_bytes()
    assert assertion not in ids(good)
    assert assertion in ids(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "x73").glob("*.x73")), ids=lambda p: p.name)
def test_known_good_examples_have_no_finding(path):
    """The project's own example sessions (built from the declarations) are clean: not even info."""
    assert x73.check(path.read_bytes()) == []


def test_bp_session_exact_locations():
    """A crafted unknown handle is located at the observation's first octet."""
    bad = (x73_cases.CASES_DIR / "X73-CFG-008.fail.x73").read_bytes()
    hits = [h for h in x73.check(bad) if h[0] == "X73-CFG-008"]
    assert hits == [("X73-CFG-008", "APDU 5 line 7 byte 186",
                     "report for handle 9, which configuration 0x02BC does not hold")]
    session = x73.session_from_bytes(bad)
    apdu5 = next(p for p in session.pdus if p.number == 5)
    assert apdu5.offset == 134 and apdu5.raw[186 - 134:186 - 134 + 2] == b"\x00\x09"  # the handle's octets


def corpus_findings() -> dict[str, list[list[str]]]:
    return {p.name: [list(h) for h in x73.check(p.read_bytes())] for p in x73_files()}


def test_corpus_findings_pinned():
    """Every file of ../shared/corpus/ieee11073 is checked without a crash; each finding is pinned."""
    got = corpus_findings()
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(got) == sorted(want)
    for name in got:
        assert got[name] == want[name], name


def test_corpus_known_defects_found():
    """Defects documented for the corpus are each reported by the right assertion."""
    got = {name: Counter(f[0] for f in findings) for name, findings in corpus_findings().items()}
    # SOURCES.md: H221_ID_02BC declares an attribute count that does not match its bytes
    assert got["antidote_H221_ID_02BC.hex"]["X73-MDER-002"] == 1
    # the pedometer's configuration gives an 8-octet HighResRelativeTimeStamp 9 octets in its value map
    assert got["antidote_pedometer__pedometer_noti_config.hex"]["X73-CFG-006"] == 1
    # the NovoPen's numeric object 4 has no Unit-Code
    assert got["xdrip_novopen_C_REPORT.hex"]["X73-CFG-005"] == 1
    # GATT characteristic values are not 20601 APDUs
    assert got["gatt_plx_spotcheck_full.hex"]["X73-MDER-001"] == 1
    # a single AARE / scan report cut from a session is a fragment, said once
    assert got["antidote_rx_aare_example_one.hex"] == Counter({"X73-FSM-001": 1})


def write_golden() -> None:  # python -c "from tests.conformance.test_x73_rules import write_golden; write_golden()"
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(corpus_findings(), indent=1) + "\n", encoding="utf-8")
