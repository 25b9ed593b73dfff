"""The speed paths of HL7 v2 → FHIR keep the plain behaviour: cached fragments are copied on use,
faster formatters write the same text as the obvious ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st
from interop.mappings.fhir import datatypes as fd
from interop.mappings.fhir.bundle import _default

from interop import decode, to_fhir

ROOT = Path(__file__).resolve().parents[2]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"  # IHE PCD-01 example of this repository


def test_mutating_one_bundle_leaves_the_next_untouched() -> None:
    first = to_fhir(decode(VITALS), "R4")
    expected = to_fhir(decode(VITALS), "R4").json()
    reachable: list[dict | list] = []

    def collect(value: object) -> None:
        if isinstance(value, dict | list):
            reachable.append(value)
            for item in value.values() if isinstance(value, dict) else value:
                collect(item)

    for res in first.resources:
        collect(res)
    for container in reachable:  # scribble over every dict and list a caller can reach
        container.clear()
    assert to_fhir(decode(VITALS), "R4").json() == expected


def _instant_reference(v: datetime) -> str:
    """The field-by-field formatter `fd.instant` replaced for whole-minute offsets."""
    if v.tzinfo is None:
        v = v.replace(tzinfo=UTC)
    text = f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if v.microsecond:
        text += f".{v.microsecond // 1000:03d}"
    return text + fd._offset(v)


zones = st.one_of(st.none(), st.just(UTC), st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m))),
                  st.integers(-86399, 86399).map(lambda s: timezone(timedelta(seconds=s))))


@given(st.datetimes(), zones)
def test_instant_text_unchanged(v: datetime, zone: timezone | None) -> None:
    v = v.replace(tzinfo=zone)
    assert fd.instant(v) == _instant_reference(v)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_json_text_unchanged(d: Decimal) -> None:
    old = format(d, "f") if d.as_tuple().exponent > 0 or "E" in str(d) else str(d)
    assert orjson.dumps([d], default=_default) == f"[{old}]".encode()
