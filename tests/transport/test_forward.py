"""The store-and-forward engine: durable group-committed intake, retries with back-off, dead letters,
deduplication, groups, replay after a kill."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from interop.errors import DecodeError, TransportError
from interop.transport.forward import ForwardEngine, NewItem, RetryPolicy
from interop.transport.sink import DirectorySink, FhirServerSink, SinkRejected, SinkUnavailable
from interop.transport.store import DurableStore

FAST = RetryPolicy(initial=0.05, factor=2.0, maximum=0.4, jitter=0.0)


def echo(items):
    """Translator used by these tests: one 'Bundle' per unit holding the rows' data."""
    if items[0].data == b"bad":
        raise DecodeError("not a message", standard="test", position="byte 0", expected="good")
    body = b"|".join(i.data for i in items)
    return [(f"{items[0].kind}-{items[0].key}", json.dumps({"resourceType": "Bundle", "type": "collection",
                                                             "id": items[0].key, "data": body.decode()}).encode())]


class FlakySink:
    """Unavailable for the first `down` calls, then records what it gets; rejects data 'reject'."""

    def __init__(self, down: int = 0) -> None:
        self.down = down
        self.calls = 0
        self.got: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()

    def emit(self, bundle_json: bytes, name: str) -> str:
        with self.lock:
            self.calls += 1
            if self.calls <= self.down:
                raise SinkUnavailable("server down (test)")
            if b'"reject"' in bundle_json:
                raise SinkRejected("FHIR server answered 422", status=422,
                                   outcome='{"resourceType":"OperationOutcome","issue":[{"diagnostics":"no"}]}')
            self.got.append((name, bundle_json))
            return f"sink/{name}"


def test_accept_durable_then_emitted(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    sink = DirectorySink(tmp_path / "fhir")
    engine = ForwardEngine(store, sink, {"t": echo}, retry=FAST)
    engine.start()
    receipts = [engine.accept(NewItem("t", f"k{i}", f"m{i}".encode())) for i in range(5)]
    assert [r.duplicate for r in receipts] == [False] * 5
    assert engine.drain(10)
    engine.stop()
    assert store.counts() == {"done": 5}
    assert sorted(p.name for p in (tmp_path / "fhir").iterdir()) == [f"t-k{i}.json" for i in range(5)]
    assert json.loads((tmp_path / "fhir" / "t-k3.json").read_bytes())["data"] == "m3"
    store.close()


def test_group_commit_many_threads(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    engine = ForwardEngine(store, FlakySink(), {"t": echo})
    engine.start(worker=False)

    def client(t: int) -> None:
        for i in range(40):
            engine.accept(NewItem("t", f"{t}-{i}", b"x"))

    threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    engine.stop()
    assert store.counts() == {"pending": 320}
    assert engine.stats.accepted == 320
    assert engine.stats.commits < 320  # commits were shared between connections
    store.close()


def test_accept_async(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    engine = ForwardEngine(store, FlakySink(), {"t": echo})
    engine.start(worker=False)

    async def main() -> list[int]:
        rs = await asyncio.gather(*(engine.accept_async(NewItem("t", str(i), b"x")) for i in range(50)))
        return [r.id for r in rs]

    ids = asyncio.run(main())
    engine.stop()
    assert len(set(ids)) == 50 and store.counts() == {"pending": 50}
    with pytest.raises(TransportError, match="not running"):
        engine.accept(NewItem("t", "late", b"x"))
    store.close()


def test_dedup_on_sender_and_control_id(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    sink = FlakySink()
    engine = ForwardEngine(store, sink, {"t": echo})
    engine.start()
    a = engine.accept(NewItem("t", "MSG1", b"one", dedup="APP^FAC:MSG1", digest="d1"))
    b = engine.accept(NewItem("t", "MSG1", b"one", dedup="APP^FAC:MSG1", digest="d1"))  # re-sent
    c = engine.accept(NewItem("t", "MSG1b", b"other", dedup="APP^FAC:MSG1", digest="d2"))  # id reused
    d = engine.accept(NewItem("t", "MSG1c", b"one", dedup="OTHER^FAC:MSG1", digest="d1"))  # other sender
    assert (a.duplicate, b.duplicate, c.duplicate, d.duplicate) == (False, True, False, False)
    assert b.id == a.id and c.reused_key and not d.reused_key
    assert engine.drain(10)
    engine.stop()
    assert sorted(n for n, _ in sink.got) == ["t-MSG1", "t-MSG1b", "t-MSG1c"]
    assert engine.stats.duplicates == 1
    store.close()


def test_unavailable_backs_off_then_delivers(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    sink = FlakySink(down=3)
    engine = ForwardEngine(store, sink, {"t": echo}, retry=FAST)
    engine.start()
    engine.accept(NewItem("t", "k", b"v"))
    assert engine.drain(10)
    row = store.rows()[0]
    engine.stop()
    assert row.status == "done" and row.output_ref == "sink/t-k"
    assert row.attempts == 3  # three deferred attempts, then success
    assert sink.got == [("t-k", sink.got[0][1])]
    assert engine.stats.deferred == 3
    store.close()


def test_backoff_grows() -> None:
    p = RetryPolicy(initial=1.0, factor=2.0, maximum=30.0, jitter=0.0)
    assert [p.delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    j = RetryPolicy(initial=10.0, jitter=0.1)
    assert all(9.0 <= j.delay(0) <= 11.0 for _ in range(50))


def test_rejected_goes_to_dead_letters_with_outcome(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    engine = ForwardEngine(store, FlakySink(), {"t": echo}, retry=FAST)
    engine.start()
    engine.accept(NewItem("t", "k1", b"reject"))
    engine.accept(NewItem("t", "k2", b"bad"))
    engine.accept(NewItem("zzz", "k3", b"x"))
    assert engine.drain(10)
    engine.stop()
    rows = {r.key: r for r in store.rows()}
    assert rows["k1"].status == "dead" and "422" in rows["k1"].reason and '"diagnostics":"no"' in rows["k1"].reason
    assert rows["k2"].status == "failed" and "byte 0" in rows["k2"].reason
    assert rows["k3"].status == "failed" and "no translator" in rows["k3"].reason
    # retry puts dead letters back; they are dead again (the server still says no)
    assert store.retry() == 3
    assert store.counts() == {"pending": 3}
    assert store.purge(("pending",)) == 3
    store.close()


def test_real_http_server_422_is_dead_letter(tmp_path: Path, fhir_server) -> None:
    url, reqs = fhir_server
    store = DurableStore(tmp_path)
    engine = ForwardEngine(store, FhirServerSink(url + "/fail", timeout=5), {"t": echo}, retry=FAST)
    engine.start()
    engine.accept(NewItem("t", "k", b"v"))
    assert engine.drain(10)
    engine.stop()
    row = store.rows()[0]
    assert row.status == "dead" and "422" in row.reason and "bad bundle" in row.reason
    store.close()


def test_groups_wait_for_seal(tmp_path: Path) -> None:
    store = DurableStore(tmp_path)
    sink = FlakySink()
    engine = ForwardEngine(store, sink, {"t": echo}, retry=FAST)
    engine.start()
    for i in range(3):
        engine.accept(NewItem("t", f"a{i}", f"apdu{i}".encode(), group="conn-1", sealed=False))
    assert engine.drain(5)
    assert sink.got == [] and store.counts() == {"pending": 3}
    engine.seal("conn-1")
    assert engine.drain(5)
    engine.stop()
    assert [n for n, _ in sink.got] == ["t-a0"]
    assert json.loads(sink.got[0][1])["data"] == "apdu0|apdu1|apdu2"
    store.close()


_CHILD = textwrap.dedent(
    """
    import os, sys
    from interop.transport.forward import ForwardEngine, NewItem
    from interop.transport.store import DurableStore

    class Never:
        def emit(self, data, name):
            raise AssertionError("not reached")

    engine = ForwardEngine(DurableStore(sys.argv[1]), Never(), {})
    engine.start(worker=False)
    for i in range(20):
        engine.accept(NewItem("t", f"k{i}", b"v%d" % i))
    engine.accept(NewItem("t", "open", b"g1", group="assoc", sealed=False))
    sys.stdout.write("acked\\n"); sys.stdout.flush()
    os.kill(os.getpid(), 9)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_replay_after_kill(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path)], capture_output=True, timeout=60)
    assert proc.stdout == b"acked\n", proc.stderr
    assert proc.returncode == -signal.SIGKILL
    store = DurableStore(tmp_path)
    sink = FlakySink()
    engine = ForwardEngine(store, sink, {"t": echo}, retry=FAST)
    assert engine.start() == 21
    assert engine.drain(10)
    engine.stop()
    assert sorted(n for n, _ in sink.got) == sorted([f"t-k{i}" for i in range(20)] + ["t-open"])
    assert store.counts() == {"done": 21}
    store.close()
    assert not os.path.exists(tmp_path / "fhir")
