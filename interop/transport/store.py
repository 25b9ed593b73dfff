"""Durable store-and-forward queue: SQLite in WAL mode, synchronous=FULL (DESIGN.md, "Durable queue").

`put` returns only after the row is committed to disk, so a peer may be acknowledged once it
returns: a crash afterwards never loses the data. Rows stay `pending` until `mark_done` or
`mark_failed`; `pending()` after a restart lists what still has to be translated/forwarded.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from interop.errors import TransportError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    data BLOB NOT NULL,
    meta BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    output_ref TEXT,
    reason TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS item_status ON item(status, kind, id);
"""

DB_NAME = "store.sqlite3"


@dataclass(frozen=True)
class StoredItem:
    """One row of the store."""

    id: int
    kind: str  # producer's category: "dicom-instance", "hl7v2", "x73-association" ...
    key: str  # producer's key (SOP instance UID, MSH-10 ...)
    data: bytes  # the exact bytes received
    meta: dict[str, Any]  # JSON-able context (peer AE, study UID, received time ...)
    status: str  # "pending", "done", "failed"
    output_ref: str | None  # where the translation went (sink reference), once done
    reason: str | None  # why it failed, once failed
    created: float  # unix time of put


class DurableStore:
    """A crash-safe queue of received payloads in one SQLite file; safe from several threads."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if p.suffix not in (".sqlite3", ".sqlite", ".db"):
            p.mkdir(parents=True, exist_ok=True)
            p = p / DB_NAME
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
        self.path = p
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(p), check_same_thread=False, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise TransportError(f"cannot open store {p}: {exc}") from None

    def put(self, kind: str, key: str, data: bytes, meta: dict[str, Any] | None = None) -> int:
        """Store `data`; durable (committed, fsynced) when this returns. Returns the row id."""
        now = time.time()
        blob = orjson.dumps(meta or {}, default=str)
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO item(kind, key, data, meta, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (kind, key, bytes(data), blob, now, now),
                )
            except sqlite3.Error as exc:
                raise TransportError(f"store write failed: {exc}") from None
            rowid = cur.lastrowid
        assert rowid is not None
        return rowid

    def get(self, item_id: int) -> StoredItem | None:
        """The row `item_id`, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLS} FROM item WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def pending(self, kind: str | None = None) -> list[StoredItem]:
        """Rows not yet done or failed, oldest first (optionally only of `kind`)."""
        with self._lock:
            if kind is None:
                rows = self._db.execute(f"SELECT {_COLS} FROM item WHERE status = 'pending' ORDER BY id").fetchall()
            else:
                rows = self._db.execute(
                    f"SELECT {_COLS} FROM item WHERE status = 'pending' AND kind = ? ORDER BY id", (kind,)
                ).fetchall()
        return [_item(r) for r in rows]

    def mark_done(self, item_id: int, output_ref: str | None = None) -> None:
        """Record that `item_id` was translated and emitted to `output_ref`."""
        self._set(item_id, "done", output_ref=output_ref)

    def mark_failed(self, item_id: int, reason: str) -> None:
        """Record that `item_id` cannot be processed (kept for inspection, no longer pending)."""
        self._set(item_id, "failed", reason=reason)

    def counts(self) -> dict[str, int]:
        """Number of rows per status."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM item GROUP BY status").fetchall()
        return {s: n for s, n in rows}

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass

    def __enter__(self) -> DurableStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _set(self, item_id: int, status: str, *, output_ref: str | None = None, reason: str | None = None) -> None:
        with self._lock:
            try:
                cur = self._db.execute(
                    "UPDATE item SET status = ?, output_ref = ?, reason = ?, updated = ? WHERE id = ?",
                    (status, output_ref, reason, time.time(), item_id),
                )
            except sqlite3.Error as exc:
                raise TransportError(f"store update failed: {exc}") from None
        if cur.rowcount != 1:
            raise TransportError(f"no stored item {item_id}")


_COLS = "id, kind, key, data, meta, status, output_ref, reason, created"


def _item(row: tuple[Any, ...]) -> StoredItem:
    return StoredItem(id=row[0], kind=row[1], key=row[2], data=bytes(row[3]), meta=orjson.loads(row[4]),
                      status=row[5], output_ref=row[6], reason=row[7], created=row[8])
