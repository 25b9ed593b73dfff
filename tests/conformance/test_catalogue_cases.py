"""The catalogue itself: every assertion well formed, with a passing and a failing case that behave.

This walks every catalogue file (HL7 v2, IHE PCD and the other standards' files alike): an
assertion without a `pass` or a `fail` case, or whose cases do not pass and fail, fails here, so
no assertion can be vacuous.
"""

from __future__ import annotations

import pytest
from interop.conformance.cases import evaluate
from interop.conformance.catalogue import catalogue
from interop.conformance.profiles import PROFILES

ASSERTIONS = catalogue()


def test_catalogue_loads_with_unique_ids_and_references():
    ids = [a.id for a in ASSERTIONS]
    assert len(ids) == len(set(ids))
    for a in ASSERTIONS:
        assert a.reference.strip(), a.id
        assert a.summary.strip(), a.id
        assert a.severity in ("error", "warning", "info"), a.id
        assert a.profiles and all(p in PROFILES for p in a.profiles), (a.id, a.profiles)


@pytest.mark.parametrize("assertion", ASSERTIONS, ids=lambda a: a.id)
def test_every_assertion_has_a_passing_and_a_failing_case(assertion):
    missing = [w for w in ("pass", "fail") if w not in assertion.cases]
    assert not missing, f"{assertion.id} ({assertion.source}) lacks its {' and '.join(missing)} case"
    passing = evaluate(assertion, "pass")
    assert passing == [], f"{assertion.id} reports on its passing case: {[f.message for f in passing]}"
    failing = evaluate(assertion, "fail")
    assert any(f.assertion == assertion.id for f in failing), f"{assertion.id} is silent on its failing case"
    assert all(f.message and f.location for f in failing)


def test_hl7v2_and_pcd_assertion_counts():
    by_profile = {}
    for a in ASSERTIONS:
        for p in a.profiles:
            by_profile[p] = by_profile.get(p, 0) + 1
    assert by_profile["hl7v2"] >= 30
    assert by_profile["ihe-pcd-01"] >= 30
    assert by_profile["ihe-pcd-04"] >= 20
    assert by_profile["hl7v2-xml"] >= 13


def test_at_least_150_assertions_across_the_standards():
    """Issue 10's floor for this round: 150 assertions, each with its spec reference (checked above)."""
    assert len(ASSERTIONS) >= 150
    assert len({a.input for a in ASSERTIONS}) >= 2
