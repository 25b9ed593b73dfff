"""Recurring resources and fragments, built once and shared by the Bundles that carry them.

A device feed repeats most of itself: the same Device tree, DeviceMetrics, Patient and Encounter,
the same codes, categories and alarm-limit ranges in every message; only values, times and ids
change. The builders keep what recurs (keyed by everything it is built from, so a hit is the same
resource they would build) and put it into each new Bundle as is.

The rule that makes sharing safe: the structure a Bundle is assembled from is never mutated after
`FhirContext.add`, and users never see it. `Bundle.data` (and `.resources`) is a private deep copy
made on first use; `Bundle.json()` serialises the shared structure directly, and a `Prepared`
resource is written from the JSON bytes it was rendered to once.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

import orjson

from interop.memo import Memo


class _Rendered:
    """Shared structure that writes itself from JSON bytes rendered on first use (never mutated)."""

    __slots__ = ()
    _fragment: orjson.Fragment | None

    @property
    def fragment(self) -> orjson.Fragment:
        if self._fragment is None:
            # without OPT_PASSTHROUGH_SUBCLASS orjson writes a dict or list subclass as the dict or list it is
            self._fragment = orjson.Fragment(orjson.dumps(self, default=default))
        return self._fragment


class Prepared(_Rendered, dict):
    """A resource (a dict) plus its compact JSON, rendered on first use and then reused; shared by
    many Bundles, never mutated."""

    __slots__ = ("_fragment", "ref", "url")

    def __init__(self, resource: dict[str, Any], url: str) -> None:
        super().__init__(resource)
        self._fragment = None  # rendered when first written (a miss may never be)
        self.ref = f"{resource['resourceType']}/{resource['id']}"  # relative reference
        self.url = url  # Bundle.entry.fullUrl


class RenderedDict(_Rendered, dict):
    """A shared fragment holding decimals (such as a valueQuantity) plus its JSON: writing it again costs
    one lookup instead of a decimal conversion per number."""

    __slots__ = ("_fragment",)

    def __init__(self, fragment: dict[str, Any]) -> None:
        super().__init__(fragment)
        self._fragment = None


class RenderedList(_Rendered, list):
    """`RenderedDict` for a shared list (such as an Observation.referenceRange)."""

    __slots__ = ("_fragment",)

    def __init__(self, fragment: list[Any]) -> None:
        super().__init__(fragment)
        self._fragment = None


_RENDERED = frozenset({Prepared, RenderedDict, RenderedList})


def default(obj: Any) -> Any:
    """orjson `default`: FHIR decimals with their written precision; `Prepared` and other rendered
    fragments from their JSON."""
    if type(obj) in _RENDERED:
        return obj._fragment or obj.fragment  # rendered once, on first use
    if type(obj) is Decimal or isinstance(obj, Decimal):
        # FHIR decimals keep their written precision ("76.30"); never exponent form. str() writes
        # an exponent exactly when one is needed (always for a positive exponent), so one str()
        # call decides; format(..., "f") only then.
        text = str(obj)
        if "E" in text:
            text = format(obj, "f")
        return orjson.Fragment(text)
    # OPT_PASSTHROUGH_SUBCLASS hands every subclass of str/int/dict/list here: write it as its base
    for base in (str, int, dict, list):
        if isinstance(obj, base):
            return base(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def default_plain(obj: Any) -> Any:
    """orjson `default` for indented output: a `Prepared` resource as a dict, so it is indented too."""
    if type(obj) is Prepared or type(obj) is RenderedDict:
        return dict(obj)
    if type(obj) is RenderedList:
        return list(obj)
    return default(obj)


def private_copy(node: Any) -> Any:
    """A deep copy of a Bundle structure (dicts, lists, scalars), `Prepared` resources as plain dicts."""
    if isinstance(node, dict):
        return {k: private_copy(v) if type(v) in _CONTAINERS else v for k, v in node.items()}
    if isinstance(node, list):
        return [private_copy(v) if type(v) in _CONTAINERS else v for v in node]
    return node


_CONTAINERS = frozenset({dict, list, Prepared, RenderedDict, RenderedList})


class Recurring:
    """A bounded memo of what recurs from message to message, keyed by what it is built from.

    Codecs hand out one canonical object per distinct code, unit, range and identifier (their own
    caches), so the same objects recur in every message of a feed. A key names such objects by
    `id()` (hashing a frozen model walks all its fields; `id` costs nothing) and plain values
    (str, int, None) as they are. Safe because each entry keeps the objects its key names alive
    (`keep`): while an entry exists, no other object can have one of its ids, so a hit means the
    very same objects. Objects made anew per message simply miss. Bounded, least recently used out
    first: a feed of ever-new identities (a new patient per message) must not grow it forever, nor push
    out the monitors that recur.
    """

    def __init__(self, size: int = 4096) -> None:
        self.table: Memo = Memo(size)  # evicts the least recently used entries (interop.memo)
        _ALL.append(self)

    def get(self, key: Hashable) -> Any:
        hit = self.table.get(key) or self.table.recall(key)
        return None if hit is None else hit[0]

    def put(self, key: Hashable, value: Any, keep: object) -> Any:
        """Remember `value` under `key`; `keep` must hold every object whose id() is in `key` (an entry
        and what it keeps alive are evicted together)."""
        self.table.put(key, (value, keep))
        return value


_ALL: list[Recurring] = []


def forget() -> None:
    """Empty every memo of recurring resources and fragments (each refills on use)."""
    for memo in _ALL:
        memo.table.forget()


def ids(objects: tuple) -> tuple[int, ...]:
    """The `id()`s of a tuple of canonical objects (a Recurring key part; keep the tuple)."""
    return tuple(map(id, objects)) if objects else ()
