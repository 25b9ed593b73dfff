"""The canonical model (frozen msgspec Structs): built without validation, so every codec owns the types
of what it puts in. These tests check, for every example of every codec, that each field of each model
object has exactly its declared type (tuples not lists, Decimal not float, literals from their set), and
pin the helpers the model exports in place of any library method."""

from __future__ import annotations

import types
import typing
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from interop import decode
from interop.model import (
    CodeableConcept,
    Coding,
    Frozen,
    Message,
    Metric,
    NumericValue,
    Quantity,
    StringValue,
    fields,
    from_json,
    replace,
    to_builtins,
    to_json,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))
PHILIPS = ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7"
_HINTS: dict[type, dict[str, typing.Any]] = {}


def _hints(cls: type) -> dict[str, typing.Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _check(value: object, hint: typing.Any, path: str) -> None:
    """Raise AssertionError unless `value` has exactly the type `hint` declares."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arm in typing.get_args(hint):
            try:
                _check(value, arm, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: {value!r} matches none of {hint}: {errors}")
    if origin is typing.Literal:
        assert value in typing.get_args(hint), f"{path}: {value!r} not in {hint}"
        return
    if origin is tuple:
        assert type(value) is tuple, f"{path}: {type(value).__name__}, expected a tuple"
        args = typing.get_args(hint)
        item = args[0]
        for n, v in enumerate(value):
            _check(v, item, f"{path}[{n}]")
        return
    if hint is type(None):
        assert value is None, f"{path}: {value!r} is not None"
        return
    if isinstance(hint, type) and issubclass(hint, Frozen):
        assert isinstance(value, hint), f"{path}: {type(value).__name__}, expected {hint.__name__}"
        for name, field_hint in _hints(type(value)).items():
            if name in value.__struct_fields__:
                _check(getattr(value, name), field_hint, f"{path}.{name}")
        return
    if hint is int:
        assert type(value) is int, f"{path}: {type(value).__name__}, expected int"
        return
    if hint in (str, bool, Decimal, datetime):
        assert type(value) is hint or (hint is datetime and isinstance(value, datetime)), \
            f"{path}: {type(value).__name__}, expected {hint.__name__}"
        return
    raise AssertionError(f"{path}: no check for {hint}")


@pytest.mark.parametrize("path", EXAMPLES + [PHILIPS], ids=lambda p: p.name)
def test_every_field_of_every_example_has_its_declared_type(path: Path) -> None:
    msg = decode(path)
    _check(msg, Message, "Message")
    assert from_json(to_json(msg)) == msg


def test_the_check_itself_finds_a_wrong_type() -> None:
    good = Quantity(value=Decimal("1.5"), unit="%")
    _check(good, Quantity, "q")
    for bad in (Quantity(value=1.5), Metric(code=CodeableConcept(codings=[Coding(code="1")])),  # type: ignore[arg-type]
                Metric(code=CodeableConcept(), data_absent_reason="gone")):  # type: ignore[arg-type]
        with pytest.raises(AssertionError):
            _check(bad, type(bad), "x")


def test_helpers() -> None:
    q = Quantity(value=Decimal("76.30"), unit="mm[Hg]")
    m = Metric(code=CodeableConcept(codings=(Coding(system="urn:iso:std:iso:11073:10101", code="150021"),)),
               value=NumericValue(quantity=q))
    assert m.value.kind == "numeric" and StringValue(text="x").kind == "string"
    changed = replace(m, group="OBR-1")
    assert changed.group == "OBR-1" and m.group is None and changed != m and replace(changed, group=None) == m
    assert fields(Quantity) == ("value", "comparator", "unit", "unit_mdc", "unit_text") == fields(q)
    assert to_builtins(m) == {"code": {"codings": ({"system": "urn:iso:std:iso:11073:10101", "code": "150021"},)},
                              "value": {"kind": "numeric", "quantity": {"value": "76.30", "unit": "mm[Hg]"}}}
    assert to_json(q) == b'{"value":"76.30","unit":"mm[Hg]"}'  # the source precision kept
    assert from_json(to_json(m), Metric) == m
    assert hash(m) == hash(replace(m)) and len({m, replace(m)}) == 1
    with pytest.raises(AttributeError):
        m.group = "x"  # type: ignore[misc]


@pytest.mark.parametrize("text,where", [
    (b'{"value":"1","units":"%"}', "units"),  # an unknown field
    (b'{"unit":"%"}', "value"),  # a required field missing
    (b'{"value":"abc"}', "value"),  # not a number
])
def test_from_json_validates(text: bytes, where: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=where):
        from_json(text, Quantity)


def test_from_json_reads_the_value_kind() -> None:
    text = b'{"code":{},"value":{"kind":"string","text":"on"}}'
    assert from_json(text, Metric).value == StringValue(text="on")
    with pytest.raises(msgspec.ValidationError, match="kind"):
        from_json(b'{"code":{},"value":{"kind":"colour","text":"on"}}', Metric)
