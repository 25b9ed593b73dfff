"""Helpers on canonical model objects (frozen msgspec Structs), so that no caller depends on the
library's own API: copy with changes, field names, plain data, JSON out and validated JSON in."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from msgspec.structs import replace

from .common import Frozen

T = TypeVar("T")

__all__ = ["fields", "from_json", "replace", "to_builtins", "to_json"]

_ENCODER = msgspec.json.Encoder(decimal_format="string")
_DECODERS: dict[Any, msgspec.json.Decoder] = {}


def fields(model: type[Frozen] | Frozen) -> tuple[str, ...]:
    """The field names of a model class (or object), in declaration order."""
    return model.__struct_fields__


def to_builtins(obj: Any) -> Any:
    """`obj` as plain dicts, tuples, str, int, bool and None (Decimal, datetime as text; fields left at
    their default omitted, value kinds kept as "kind")."""
    return msgspec.to_builtins(obj)


def to_json(obj: Any, *, indent: bool = False) -> bytes:
    """JSON bytes of a model object (Decimal as a string keeping its precision, times as RFC 3339)."""
    data = _ENCODER.encode(obj)
    return msgspec.json.format(data, indent=2) if indent else data


def from_json(data: bytes | str, type: Any = None) -> Any:  # noqa: A002 - the msgspec spelling
    """A validated model object (a `Message` unless `type` says otherwise) from `to_json` output.
    Raises `msgspec.ValidationError` (a ValueError) naming the path of the first bad value."""
    if type is None:
        from .message import Message

        type = Message  # noqa: A001
    decoder = _DECODERS.get(type)
    if decoder is None:
        decoder = _DECODERS[type] = msgspec.json.Decoder(type)
    return decoder.decode(data)


replace = replace  # re-exported: `replace(obj, field=value)` is a copy with those fields changed
