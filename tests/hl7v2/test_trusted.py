"""The decoder builds its Message through `interop.model.trusted` (no validation): every object it
builds must be exactly what the validating constructors would give."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode
from interop.model import Coding, Message, Metric, NumericValue, Quantity
from interop.model.trusted import trusted

ROOT = Path(__file__).resolve().parents[2]
INPUTS = sorted((ROOT / "examples" / "hl7v2").glob("*.hl7")) + sorted((Path(__file__).parent / "data").glob("*.hl7"))


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_decoded_message_survives_validation(path: Path) -> None:
    msg = decode(path)
    again = Message.model_validate(msg.model_dump())  # every field re-validated from plain data
    assert again == msg
    assert again.model_dump_json() == msg.model_dump_json()


def test_trusted_equals_validating_constructor() -> None:
    unit = Coding(system="urn:iso:std:iso:11073:10101", code="262688", display="MDC_DIM_PERCENT")
    fields = {"value": Decimal("97"), "unit": "%", "unit_mdc": unit}
    q = trusted(Quantity, **fields)
    assert q == Quantity(**fields)
    assert q.model_fields_set == Quantity(**fields).model_fields_set == {"value", "unit", "unit_mdc"}
    assert hash(q) == hash(Quantity(**fields))
    assert trusted(NumericValue, quantity=q).kind == "numeric"


def test_trusted_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TypeError, match="unknown"):
        trusted(Quantity, value=Decimal(1), units="%")
    with pytest.raises(TypeError, match="missing"):
        trusted(Metric, value=None)
