"""`--to canonical` JSON reads back into the identical Message, for every codec's examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from interop import decode, translate
from interop.model import Message, from_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*")
                  if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))


def test_examples_found():
    assert {p.suffix for p in EXAMPLES} == {".hl7", ".x73", ".gatt", ".dcm"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_canonical_round_trip(path):
    msg = decode(path)
    again = from_json(translate(msg, "canonical").json(), Message)  # validated decode
    assert again == msg
