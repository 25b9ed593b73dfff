"""Build canonical model objects without validation, faster than `model_construct` (~0.5 µs vs 2–9 µs).

Same result as `Model.model_construct(**fields)` for models whose defaults are immutable (all canonical
model defaults are None, (), literals or numbers): the instance dict is the defaults overlaid with `fields`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

M = TypeVar("M", bound=BaseModel)
_DEFAULTS: dict[type, dict[str, Any]] = {}
_REQUIRED: dict[type, frozenset[str]] = {}
_set = object.__setattr__


_MISSING = object()  # placeholder keeping a required field's position in the instance dict


def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        defaults[name] = _MISSING
        if info.default is not PydanticUndefined:
            defaults[name] = info.default
        elif info.default_factory is not None:
            defaults[name] = info.default_factory()  # type: ignore[call-arg]
    _DEFAULTS[cls] = defaults
    _REQUIRED[cls] = frozenset(n for n, v in defaults.items() if v is _MISSING)
    return defaults


def build(cls: type[M], **fields: Any) -> M:
    """`cls.model_construct(**fields)`, minus pydantic's per-call field walk."""
    defaults = _DEFAULTS.get(cls) or _defaults(cls)
    obj = cls.__new__(cls)
    values = defaults.copy()
    values.update(fields)  # keeps field order, so dumps match model_construct's
    if not _REQUIRED[cls] <= fields.keys():
        for name in _REQUIRED[cls] - fields.keys():
            del values[name]
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
