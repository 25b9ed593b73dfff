"""DurableStore: durability across a killed process, status changes, thread safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from interop.errors import TransportError
from interop.transport.store import DB_NAME, DurableStore


def test_put_get_pending_done_failed(tmp_path: Path) -> None:
    with DurableStore(tmp_path) as store:
        a = store.put("dicom-instance", "1.2.3", b"\x00\x01", {"peer": "SCU", "n": 1})
        b = store.put("hl7v2", "MSG1", b"MSH|^~\\&|", {})
        assert (tmp_path / DB_NAME).exists()
        item = store.get(a)
        assert item is not None
        assert (item.kind, item.key, item.data, item.meta, item.status) == (
            "dicom-instance", "1.2.3", b"\x00\x01", {"peer": "SCU", "n": 1}, "pending")
        assert [i.id for i in store.pending()] == [a, b]
        assert [i.id for i in store.pending("hl7v2")] == [b]
        store.mark_done(a, "out/1.json")
        store.mark_failed(b, "cannot decode")
        assert store.pending() == []
        assert store.get(a).output_ref == "out/1.json"  # type: ignore[union-attr]
        assert store.get(b).reason == "cannot decode"  # type: ignore[union-attr]
        assert store.counts() == {"done": 1, "failed": 1}
        assert store.get(999) is None
        with pytest.raises(TransportError):
            store.mark_done(999)


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = DurableStore(tmp_path / "q.sqlite3")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_threads(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)

    def worker(t: int) -> None:
        for i in range(50):
            rid = store.put("k", f"{t}-{i}", bytes([t, i]), {"t": t})
            if i % 2:
                store.mark_done(rid, "x")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.counts() == {"pending": 200, "done": 200}
    assert len({i.key for i in store.pending()}) == 200
    store.close()


_CHILD = textwrap.dedent(
    """
    import os, sys
    from interop.transport.store import DurableStore
    s = DurableStore(sys.argv[1])
    s.put("dicom-instance", "1.2.840.1", b"payload-bytes", {"ae": "STORESCU"})
    rid = s.put("dicom-instance", "1.2.840.2", b"second", {})
    s.mark_done(rid, "sink-ref")
    sys.stdout.write("stored\\n"); sys.stdout.flush()
    os.kill(os.getpid(), 9)  # no close, no atexit: a crash right after the acknowledgement
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_survives_kill(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path)], capture_output=True, timeout=30,
                          env={**os.environ})
    assert proc.stdout == b"stored\n"
    assert proc.returncode == -signal.SIGKILL
    with DurableStore(tmp_path) as store:
        pending = store.pending()
        assert [(i.key, i.data, i.meta) for i in pending] == [("1.2.840.1", b"payload-bytes", {"ae": "STORESCU"})]
        assert store.counts() == {"pending": 1, "done": 1}


def test_preallocated_wal_is_overwritten_not_grown(tmp_path: Path) -> None:
    """`preallocate_wal`: the WAL file is grown once; the commits after it reuse its blocks (the file keeps its
    size), rows stay readable after reopening, and a second call does nothing."""
    wal = tmp_path / f"{DB_NAME}-wal"
    with DurableStore(tmp_path) as store:
        db_size = (tmp_path / DB_NAME).stat().st_size
        assert store.preallocate_wal(4 << 20) is True
        size = wal.stat().st_size
        assert size >= 4 << 20
        assert (tmp_path / DB_NAME).stat().st_size == db_size  # rolled back: the database is unchanged
        ids = [store.put("dicom-instance", f"1.2.{n}", bytes([n]) * 40_000, {}) for n in range(20)]
        assert wal.stat().st_size == size  # 800 KB committed inside the allocated file
        assert store.preallocate_wal(4 << 20) is False
    with DurableStore(tmp_path) as store:
        assert [store.get(i).data[:1] for i in ids] == [bytes([n]) for n in range(20)]
        assert store.counts() == {"pending": 20}
        tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}  # noqa: SLF001
        assert "wal_preallocation" not in tables
