"""A bounded memo for what recurs from message to message (codes, units, OBX rows, devices, patients).

Codecs and mappings remember what they read or built from text and objects that recur in a feed, so
that the next message carrying them costs a lookup. Such a memo must stay bounded whatever comes in
(a feed of ever-new identities must not grow it forever) and must keep what is in use: wiping a full
table would throw a busy central station's 200 monitors out with the one-off entries that filled it.

`Memo` evicts the least recently used entries in generations: it is a dict (the young generation:
a hit costs one C-level `dict.get`, nothing is reordered) plus the previous generation. When the young
generation reaches `size` entries it becomes the old one and the former old one is dropped; an old
entry used again moves back to the young generation (`recall`). So an entry used at least once per
`size` insertions is never evicted, and at most `2 * size` entries are held. This is the usual
two-generation approximation of LRU (as in 2Q / segmented LRU), without the per-hit bookkeeping a
strict LRU order costs.

Use: `hit = memo.get(key)`; on None, `hit = memo.recall(key)`; on None again, build it and
`memo.put(key, value)`.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class Memo(dict):
    """A dict of at most about `2 * size` entries that evicts the least recently used (see the module)."""

    __slots__ = ("size", "old")

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self.size = size
        self.old: dict = {}

    def recall(self, key: Any, default: Any = None) -> Any:
        """After a miss in the young generation: the entry of the old one (moved back), else `default`."""
        value = self.old.pop(key, _MISSING)
        if value is _MISSING:
            return default
        self.put(key, value)
        return value

    def lookup(self, key: Any, default: Any = None) -> Any:
        """`get`, then `recall`: the entry under `key` in either generation, else `default`."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            return self.recall(key, default)
        return value

    def put(self, key: Any, value: Any) -> Any:
        """Remember `value` under `key` (a new generation starts when this one is full); returns `value`."""
        if len(self) >= self.size and not dict.__contains__(self, key):
            self.old = dict(self)
            self.clear()
        self[key] = value
        return value

    def forget(self) -> None:
        """Drop both generations."""
        self.clear()
        self.old.clear()

    def __contains__(self, key: object) -> bool:  # either generation
        return dict.__contains__(self, key) or key in self.old

    def entries(self) -> int:
        """Entries held in both generations."""
        return len(self) + len(self.old)
