"""Trusted construction: a canonical model object from values that already have their field types.

For codec hot paths only. `trusted(Metric, code=..., value=...)` gives the same object as
`Metric(code=..., value=...)` (same `__dict__`, same `model_fields_set`, equal and hashable alike)
when every value already has its field's type: tuples (not lists), `Decimal`, model instances,
literals from the field's set. Nothing is coerced or checked beyond field names, so a codec using
it owns that guarantee; its tests compare against the validating constructor.

Why: pydantic's validating `__init__` costs 1–5 µs per object (3 µs for a `Metric`), ~40 % of an
HL7 v2 OBX; this path costs 0.6–1.2 µs. Small models (`SourceRef`, `Coding`) validate about as
fast as this, so codecs keep the normal constructor for them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)

_set = object.__setattr__
_MISSING = object()  # keeps a required field's position in the template until the caller fills it
_TEMPLATES: dict[type, tuple[dict[str, Any], frozenset[str], int]] = {}


def _template(cls: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str], int]:
    """Field defaults in declaration order, the required names and the field count of `cls`."""
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        if info.default is not PydanticUndefined:
            values[name] = info.default
        elif info.default_factory is not None:  # not used by the canonical model; kept for safety
            raise TypeError(f"{cls.__name__}.{name} has a default factory; use the validating constructor")
        else:
            values[name] = _MISSING
    required = frozenset(n for n, v in values.items() if v is _MISSING)
    template = (values, required, len(values))
    _TEMPLATES[cls] = template
    return template


def trusted(cls: type[M], **fields: Any) -> M:
    """`cls(**fields)` without validation or coercion (see the module docstring for the contract)."""
    values, required, count = _TEMPLATES.get(cls) or _template(cls)
    if not required <= fields.keys():
        raise TypeError(f"{cls.__name__}: missing {sorted(required - fields.keys())}")
    own = values.copy()
    own.update(fields)  # keeps declaration order for known names
    if len(own) != count:
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(own.keys() - values.keys())}")
    obj = cls.__new__(cls)
    _set(obj, "__dict__", own)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def prefill(cls: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """A complete field dict of `cls` (defaults in declaration order, updated with `fields`) for
    `trusted_fill`: the fixed part of objects a codec makes many times with a few fields changed."""
    values, _, count = _TEMPLATES.get(cls) or _template(cls)
    own = values.copy()
    own.update(fields)
    if len(own) != count:
        raise TypeError(f"{cls.__name__}: unknown fields {sorted(own.keys() - values.keys())}")
    return own


def trusted_fill(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """`trusted(cls, **given)` for a complete field dict from `prefill` (taken over, not copied) and
    the names the caller gives (`model_fields_set`); the same contract as `trusted`."""
    obj = cls.__new__(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", fields_set)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
