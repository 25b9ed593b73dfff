"""The passing and failing case of each assertion (catalogue `cases:`), built and evaluated.

Every assertion carries one input on which it must stay silent (`pass`) and one on which it must
report (`fail`); tests/conformance/test_catalogue_cases.py walks the whole catalogue with
`evaluate`, so no assertion can be vacuous. A case spec is read by the input kind of the
assertion (`build_case`); the key `xml_profile` (a file in `cases/`) attaches a user XML profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalogue import Assertion, kinds
from .finding import Finding
from .runner import check_context

CASES_DIR = Path(__file__).resolve().parent / "cases"


def build(assertion: Assertion, which: str) -> tuple[bytes, Any]:
    """(input bytes, user profile or None) of the assertion's `pass` or `fail` case."""
    spec = assertion.cases.get(which)
    if spec is None:
        raise KeyError(f"{assertion.id} has no {which!r} case")
    user = None
    if isinstance(spec, dict) and "xml_profile" in spec:
        from .xmlprofile import load

        spec = dict(spec)
        user = load(CASES_DIR / spec.pop("xml_profile"))
    return kinds()[assertion.input].build_case(spec), user


def evaluate(assertion: Assertion, which: str) -> list[Finding]:
    """The findings of this one assertion on its `pass` or `fail` case (every message of it)."""
    data, user = build(assertion, which)
    out: list[Finding] = []
    for ctx in kinds()[assertion.input].contexts(data, f"{assertion.id}:{which}", user):
        findings, _ = check_context(ctx, [assertion])
        out.extend(findings)
    return out
