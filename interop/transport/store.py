"""Durable store-and-forward queue: SQLite in WAL mode, synchronous=FULL (DESIGN.md, "Durable queue").

`put` / `put_many` return only after the rows are committed to disk, so a peer may be acknowledged
once they return: a crash afterwards never loses the data. `put_many` commits many rows in one
transaction (one fsync): the group commit the listeners use to acknowledge many connections at the
cost of one disk flush.

Two connections, two durability levels. Intake (`put_many`, `retry`, `purge`, reads) commits with
synchronous=FULL: the WAL is fsynced before `put_many` returns. Outcomes (`finish_many`, `defer`,
`mark_*`: what the forwarding worker records) commit with synchronous=NORMAL on a second connection:
no fsync of their own, so the worker's bookkeeping never makes an acknowledgement wait behind a disk
flush. They are still crash-safe against a killed process (the WAL is in the OS page cache); after
a power loss the last outcomes may be lost, which only re-emits those rows (every sink is idempotent:
same file name, conditional creates). The next intake commit's fsync makes them durable anyway.
Checkpoints (copying the WAL into the database file, two more fsyncs) are run by the worker
(`checkpoint`) outside the intake lock, never by a committing listener; the intake connection keeps a
high automatic checkpoint only as a safety net when no worker runs.

A row's life (`status`):

- ``pending``: received, not yet emitted. It is *ready* when it is sealed (a row of a group, e.g. the
  APDUs of one 20601 association, waits until its group is sealed) and its `next_at` has passed
  (a failed attempt puts it back with a later `next_at`, the exponential back-off).
- ``done``: translated and emitted; `output_ref` says where to.
- ``partial``: translated and emitted (`output_ref`), but the input lost data on the way (a 20601
  association whose reports were refused, named unknown handles or was aborted mid-transfer); `reason`
  says what was lost. Not retried: what was kept is out, what was lost cannot be had again.
- ``failed``: the input cannot be translated (decode/mapping error); `reason` says why.
- ``dead``: the sink refused it for good (a FHIR server's 4xx); `reason` carries the server's
  OperationOutcome text. ``failed`` and ``dead`` rows are the dead-letter queue: `retry` puts them
  back to pending (after the cause was fixed), `purge` deletes them.

Rows carry an optional `dedup` key (e.g. sender + HL7 MSH-10 control id) and a content `digest`:
`put_many` reports a row whose dedup key *and* digest are already stored as a duplicate instead of
storing it twice (a peer re-sending a message whose ACK it lost).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
"""
# columns added after the first release: added to an older store when it is opened
_COLUMNS = {
    "dedup": "TEXT",
    "digest": "TEXT",
    "grp": "TEXT",
    "sealed": "INTEGER NOT NULL DEFAULT 1",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "next_at": "REAL NOT NULL DEFAULT 0",
}
# small durable state a listener keeps besides the queue (e.g. MPPS steps): one row per (namespace, key),
# replaced on each change, never purged with the queue
_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    data BLOB NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (ns, key)
);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS item_status ON item(status, kind, id);
CREATE INDEX IF NOT EXISTS item_ready ON item(status, sealed, next_at);
CREATE INDEX IF NOT EXISTS item_dedup ON item(dedup) WHERE dedup IS NOT NULL;
CREATE INDEX IF NOT EXISTS item_grp ON item(grp) WHERE grp IS NOT NULL;
"""

DB_NAME = "store.sqlite3"
CHECKPOINT_PAGES = 1000  # the worker checkpoints past this WAL size (SQLite's own default)
SAFETY_CHECKPOINT_PAGES = 16384  # the intake connection's automatic checkpoint (64 MiB): only when no worker runs
STATUSES = ("pending", "done", "partial", "failed", "dead")


@dataclass(frozen=True)
class StoredItem:
    """One row of the store."""

    id: int
    kind: str  # producer's category: "dicom-instance", "hl7v2", "x73-apdu" ...
    key: str  # producer's key (SOP instance UID, MSH-10 ...)
    data: bytes  # the exact bytes received
    meta: dict[str, Any]  # JSON-able context (peer, study UID, received time ...)
    status: str  # "pending", "done", "failed", "dead"
    output_ref: str | None  # where the translation went (sink reference), once done
    reason: str | None  # why it failed / was dead-lettered / was deferred last
    created: float  # unix time of put
    group: str | None = None  # rows emitted together (one association, one study), or None
    attempts: int = 0  # emit attempts that failed and were deferred
    next_at: float = 0.0  # not ready before this unix time (back-off)


@dataclass
class NewItem:
    """A row to store with `put_many`."""

    kind: str
    key: str
    data: bytes
    meta: dict[str, Any] = field(default_factory=dict)
    dedup: str | None = None  # e.g. "hl7v2:<MSH-3>^<MSH-4>:<MSH-10>"
    digest: str | None = None  # content hash compared with a stored row of the same dedup key
    group: str | None = None  # rows of one group are emitted together once it is sealed
    sealed: bool = True  # False: wait for `seal(group)`


@dataclass(frozen=True)
class PutResult:
    """What `put_many` did with one NewItem."""

    id: int  # the new row, or the stored row it duplicates
    duplicate: bool  # same dedup key and digest already stored: nothing new written
    reused_key: bool = False  # same dedup key, different content: stored as a new row (logged by callers)


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
        self._odb: sqlite3.Connection | None = None  # outcomes (synchronous=NORMAL), opened on first use
        self._ckpt_lock = threading.Lock()  # guards `_cdb`, the checkpoint connection (used by nothing else)
        self._cdb: sqlite3.Connection | None = None
        try:
            self._db = sqlite3.connect(str(p), check_same_thread=False, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA wal_autocheckpoint={SAFETY_CHECKPOINT_PAGES}")
            self._db.executescript(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(item)")}
            for name, decl in _COLUMNS.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE item ADD COLUMN {name} {decl}")
            self._db.executescript(_INDEXES)
            self._db.executescript(_STATE_SCHEMA)
        except sqlite3.Error as exc:
            raise TransportError(f"cannot open store {p}: {exc}") from None

    # ------------------------------------------------------------------ intake
    def put(self, kind: str, key: str, data: bytes, meta: dict[str, Any] | None = None, *,
            group: str | None = None, sealed: bool = True) -> int:
        """Store `data`; durable (committed, fsynced) when this returns. Returns the row id."""
        return self.put_many([NewItem(kind, key, data, meta or {}, group=group, sealed=sealed)])[0].id

    def put_many(self, items: Sequence[NewItem]) -> list[PutResult]:
        """Store all `items` in one transaction (one fsync); durable when this returns.

        An item whose `dedup` key and `digest` match a stored row is not stored again (`duplicate`)."""
        now = time.time()
        out: list[PutResult] = []
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    for it in items:
                        reused = False
                        if it.dedup is not None:
                            rows = db.execute("SELECT id, digest FROM item WHERE dedup = ?", (it.dedup,)).fetchall()
                            same = next((r[0] for r in rows if r[1] == it.digest), None)
                            if same is not None:
                                out.append(PutResult(same, True))
                                continue
                            reused = bool(rows)
                        cur = db.execute(
                            "INSERT INTO item(kind, key, data, meta, created, updated, dedup, digest, grp, sealed)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (it.kind, it.key, bytes(it.data), orjson.dumps(it.meta, default=str), now, now,
                             it.dedup, it.digest, it.group, 1 if it.sealed else 0))
                        assert cur.lastrowid is not None
                        out.append(PutResult(cur.lastrowid, False, reused))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise TransportError(f"store write failed: {exc}") from None
        return out

    def put_state(self, ns: str, key: str, data: bytes) -> None:
        """Store (replace) the state `key` of namespace `ns`; durable (committed, fsynced) when this returns."""
        self._write("INSERT INTO state(ns, key, data, updated) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(ns, key) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                    (ns, key, bytes(data), time.time()))

    def states(self, ns: str) -> list[tuple[str, bytes]]:
        """Every (key, data) of namespace `ns`, oldest change first."""
        with self._lock:
            rows = self._db.execute("SELECT key, data FROM state WHERE ns = ? ORDER BY updated", (ns,)).fetchall()
        return [(k, bytes(d)) for k, d in rows]

    def seal(self, group: str) -> int:
        """Mark every row of `group` ready to emit; returns how many rows were sealed."""
        return self._write_outcome("UPDATE item SET sealed = 1, updated = ? WHERE grp = ? AND sealed = 0",
                           (time.time(), group))

    def seal_all(self) -> int:
        """Seal every open group (at start: the connections that were filling them are gone)."""
        return self._write("UPDATE item SET sealed = 1, updated = ? WHERE sealed = 0", (time.time(),))

    # ------------------------------------------------------------------ reading
    def get(self, item_id: int) -> StoredItem | None:
        """The row `item_id`, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLS} FROM item WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    def pending(self, kind: str | None = None) -> list[StoredItem]:
        """Rows not yet done, failed or dead, oldest first (optionally only of `kind`)."""
        return self.rows("pending", kind=kind)

    def rows(self, status: str | None = None, *, kind: str | None = None, limit: int | None = None,
             group: str | None = None) -> list[StoredItem]:
        """Rows with `status` (any when None), oldest first."""
        where, args = [], []
        for col, val in (("status", status), ("kind", kind), ("grp", group)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = f"SELECT {_COLS} FROM item" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_item(r) for r in rows]

    def ready(self, now: float | None = None, limit: int = 256) -> list[StoredItem]:
        """Pending, sealed rows whose back-off has passed, oldest first, whole groups together.

        A group is returned with all its pending rows (even past `limit`) or not at all."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLS} FROM item WHERE status = 'pending' AND sealed = 1 AND next_at <= ? "
                "ORDER BY id LIMIT ?", (now, limit)).fetchall()
            items = [_item(r) for r in rows]
            groups = {i.group for i in items if i.group is not None}
            if groups:
                seen = {i.id for i in items}
                for g in sorted(groups):
                    more = self._db.execute(
                        f"SELECT {_COLS} FROM item WHERE status = 'pending' AND grp = ? ORDER BY id", (g,)).fetchall()
                    items.extend(_item(r) for r in more if r[0] not in seen)
                items.sort(key=lambda i: i.id)
        return items

    def next_due(self) -> float | None:
        """The earliest `next_at` of a pending sealed row, or None when there is none."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_at) FROM item WHERE status = 'pending' AND sealed = 1").fetchone()
        return row[0] if row and row[0] is not None else None

    def counts(self) -> dict[str, int]:
        """Number of rows per status."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM item GROUP BY status").fetchall()
        return {s: n for s, n in rows}

    def stats(self) -> dict[str, Any]:
        """Counts per status and kind, the oldest pending row's age and the most attempts of a pending row."""
        with self._lock:
            per = self._db.execute("SELECT status, kind, COUNT(*) FROM item GROUP BY status, kind").fetchall()
            oldest, attempts = self._db.execute(
                "SELECT MIN(created), MAX(attempts) FROM item WHERE status = 'pending'").fetchone()
        return {"by_status_kind": [(s, k, n) for s, k, n in per],
                "oldest_pending_age": (time.time() - oldest) if oldest is not None else None,
                "max_attempts": attempts or 0}

    # ------------------------------------------------------------------ outcomes
    def mark_done(self, item_id: int, output_ref: str | None = None) -> None:
        """Record that `item_id` was translated and emitted to `output_ref`."""
        self._set(item_id, "done", output_ref=output_ref)

    def mark_failed(self, item_id: int, reason: str) -> None:
        """Record that `item_id` cannot be processed (kept for inspection, no longer pending)."""
        self._set(item_id, "failed", reason=reason)

    def mark_dead(self, item_id: int, reason: str) -> None:
        """Dead-letter `item_id`: the sink refused it for good (`reason`: the server's answer)."""
        self._set(item_id, "dead", reason=reason)

    def finish_many(self, outcomes: Iterable[tuple[int, str, str | None]]) -> None:
        """Set many rows at once, in one transaction: (id, status, output_ref or reason), or for ``partial``
        rows (id, "partial", output_ref, reason)."""
        now = time.time()
        rows = []
        for outcome in outcomes:
            i, status, ref = outcome[:3]
            if status == "partial":  # emitted, and what the input lost
                rows.append((status, ref, outcome[3] if len(outcome) > 3 else None, now, i))
            else:
                rows.append((status, ref if status == "done" else None, None if status == "done" else ref, now, i))
        if not rows:
            return
        with self._lock:
            try:
                db = self._outcomes()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany(
                        "UPDATE item SET status = ?, output_ref = ?, reason = ?, updated = ? WHERE id = ?", rows)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise TransportError(f"store update failed: {exc}") from None

    def defer(self, ids: Sequence[int], delay: float, reason: str) -> None:
        """A failed attempt: count it, keep the rows pending, not ready again for `delay` seconds."""
        now = time.time()
        with self._lock:
            try:
                self._outcomes().executemany(
                    "UPDATE item SET attempts = attempts + 1, next_at = ?, reason = ?, updated = ? "
                    "WHERE id = ? AND status = 'pending'", [(now + delay, reason, now, i) for i in ids])
            except sqlite3.Error as exc:
                raise TransportError(f"store update failed: {exc}") from None

    # ------------------------------------------------------------------ management (interop queue)
    def retry(self, ids: Sequence[int] | None = None, *, statuses: Sequence[str] = ("dead", "failed")) -> int:
        """Put rows back to pending, ready now: the given `ids`, or every row in `statuses`. Returns the count.

        Pending rows waiting for a back-off are made ready at once too."""
        now = time.time()
        marks = ",".join("?" * len(statuses))
        if ids is None:
            return self._write(
                f"UPDATE item SET status = 'pending', next_at = 0, attempts = 0, updated = ? "
                f"WHERE status IN ({marks}) OR (status = 'pending' AND next_at > ?)", (now, *statuses, now))
        n = 0
        for i in ids:
            n += self._write("UPDATE item SET status = 'pending', next_at = 0, attempts = 0, updated = ? "
                             "WHERE id = ? AND status != 'done'", (now, i))
        return n

    def reemit(self, item_id: int) -> bool:
        """Put a `done` row back to pending, ready now: its unit is translated and emitted again (a listener
        whose output changed, e.g. a study whose MPPS step completed). Returns False when it is not done."""
        return self._write("UPDATE item SET status = 'pending', next_at = 0, attempts = 0, updated = ? "
                           "WHERE id = ? AND status = 'done'", (time.time(), item_id)) == 1  # FULL: survives power loss

    def purge(self, statuses: Sequence[str] = ("done",), *, older_than: float = 0.0) -> int:
        """Delete rows in `statuses` last updated more than `older_than` seconds ago. Returns the count.

        Pending rows are never purged by default: they are what was acknowledged and not yet emitted."""
        marks = ",".join("?" * len(statuses))
        n = self._write(f"DELETE FROM item WHERE status IN ({marks}) AND updated <= ?",
                        (*statuses, time.time() - older_than))
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
        return n

    def preallocate_wal(self, size: int = 16 << 20) -> bool:
        """Grow the WAL file to `size` bytes now, if it is smaller, so that the commits after it overwrite
        blocks the file already has: on ext4 an fsync that changes no file size needs no journal commit
        (0.4–0.5 ms against 0.7 ms per commit of a 40 KB row here). A WAL keeps its size after checkpoints,
        so a store in use is in that state anyway; this gives a fresh one (or one purged) the same.

        How: a scratch row of `size` zero bytes is inserted with a small page cache, so SQLite spills its
        pages into the WAL before the commit, and then rolled back: the WAL file keeps the length, the
        database and its schema are unchanged. Returns True when the WAL has grown."""
        wal = Path(f"{self.path}-wal")

        def wal_size() -> int:
            try:
                return wal.stat().st_size
            except OSError:
                return 0

        if wal_size() >= size:
            return False
        with self._lock:
            db = self._db
            try:
                (cache,) = db.execute("PRAGMA cache_size").fetchone()
                db.execute("PRAGMA cache_size=64")
                try:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        db.execute("CREATE TABLE wal_preallocation(b BLOB)")
                        # the last pages stay in the cache, never written: ask for a little more
                        db.execute("INSERT INTO wal_preallocation VALUES (zeroblob(?))", (size + (1 << 20),))
                    finally:
                        db.execute("ROLLBACK")
                finally:
                    db.execute(f"PRAGMA cache_size={int(cache)}")
            except sqlite3.Error:
                return False  # commits append to the WAL then, as before: slower, as safe
        return wal_size() >= size

    def checkpoint(self, min_pages: int = CHECKPOINT_PAGES) -> bool:
        """Copy the WAL into the database file when it holds at least `min_pages` pages (PASSIVE: never
        waits for, nor blocks, a listener's commit). Called by the forwarding worker between batches;
        runs without the intake lock, on the outcome connection. Returns True when it checkpointed."""
        if not self._ckpt_lock.acquire(blocking=False):
            return False
        try:
            if self._cdb is None:
                self._cdb = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                            timeout=0)
                self._cdb.execute("PRAGMA wal_autocheckpoint=0")
            db = self._cdb
            wal = Path(f"{self.path}-wal")
            try:
                size = wal.stat().st_size
            except OSError:
                return False
            if size < min_pages * 4096:
                return False
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return True
        except sqlite3.Error:
            return False
        finally:
            self._ckpt_lock.release()

    def share_lock(self, lock: Any) -> None:
        """Serialize this store's statements with another process's through `lock` (a
        multiprocessing.Lock made before the fork): SQLite's own busy waiting sleeps in growing steps and
        lets a writer that commits continuously starve the other process; a shared lock wakes the waiter
        as soon as it is free."""
        self._lock = lock

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._ckpt_lock:
            if self._cdb is not None:
                try:
                    self._cdb.close()
                except sqlite3.Error:
                    pass
                self._cdb = None
        with self._lock:
            for db in (self._odb, self._db):
                if db is None:
                    continue
                try:
                    db.close()
                except sqlite3.Error:
                    pass
            self._odb = None

    def __enter__(self) -> DurableStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _outcomes(self) -> sqlite3.Connection:
        """The outcome connection (call with the lock held)."""
        if self._odb is None:
            db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30.0)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=0")
            self._odb = db
        return self._odb

    def _write_outcome(self, sql: str, args: Sequence[Any]) -> int:
        with self._lock:
            try:
                return self._outcomes().execute(sql, args).rowcount
            except sqlite3.Error as exc:
                raise TransportError(f"store update failed: {exc}") from None

    def _write(self, sql: str, args: Sequence[Any]) -> int:
        with self._lock:
            try:
                return self._db.execute(sql, args).rowcount
            except sqlite3.Error as exc:
                raise TransportError(f"store update failed: {exc}") from None

    def _set(self, item_id: int, status: str, *, output_ref: str | None = None, reason: str | None = None) -> None:
        n = self._write_outcome("UPDATE item SET status = ?, output_ref = ?, reason = ?, updated = ? WHERE id = ?",
                        (status, output_ref, reason, time.time(), item_id))
        if n != 1:
            raise TransportError(f"no stored item {item_id}")


_COLS = "id, kind, key, data, meta, status, output_ref, reason, created, grp, attempts, next_at"


def _item(row: tuple[Any, ...]) -> StoredItem:
    return StoredItem(id=row[0], kind=row[1], key=row[2], data=bytes(row[3]), meta=orjson.loads(row[4]),
                      status=row[5], output_ref=row[6], reason=row[7], created=row[8], group=row[9],
                      attempts=row[10], next_at=row[11])
