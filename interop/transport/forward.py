"""The store-and-forward engine every listener uses (MLLP, IEEE 11073-20601, DICOM).

A listener hands what it received to the engine, waits until it is durable, then acknowledges
its peer; the engine's worker translates it and emits it to the sink, with retries, back-off and a
dead-letter queue, and replays whatever is still pending after a restart.

How a listener uses it::

    from interop.transport.forward import ForwardEngine, NewItem, RetryPolicy
    from interop.transport.sink import make_sink
    from interop.transport.store import DurableStore

    def translate(items):            # the rows of one unit: one row, or all rows of a sealed group
        msg = decode(b"".join(i.data for i in items))
        bundle = to_fhir(msg, "R4", bundle_type="transaction")
        return [(f"x73-{items[0].group}", bundle.json())]    # (name, Bundle JSON) pairs; [] = nothing

    engine = ForwardEngine(DurableStore(store_dir), make_sink(store_dir, forward_url),
                           {"x73-apdu": translate})
    engine.start()                   # seals groups left open by a crash, replays pending rows;
                                     # start(worker="process") translates in a forked child process
                                     # (what `serve mllp` does: the event loop never waits for it)

    # in the connection handler, BEFORE answering the peer:
    receipt = await engine.accept_async(NewItem("x73-apdu", key, apdu, meta, group=conn_id, sealed=False))
    #   (threads, e.g. pynetdicom handlers: engine.accept(item); several items: engine.accept_many(items);
    #    asyncio without awaiting yet: fut = engine.submit_async(item), in order, then await each)
    #   -> durable now; receipt.id is the row, receipt.duplicate says it was already stored
    ...
    engine.seal(conn_id)             # the association ended: its rows are now emitted together
    ...
    engine.stop()                    # on shutdown; pending rows stay for the next start

Rules:

- Durability: `accept*` returns (or its awaitable completes) only after the row is committed with
  fsync. Calls from many connections are committed together (group commit: one fsync for all that
  arrived while the previous commit ran; from asyncio, what one turn of the loop received goes as
  one batch), so acknowledging costs one disk flush per batch, not one per message. A
  `TransportError` from `accept*` means *not stored*: answer the peer negatively.
- Units: a row without a group is one unit; rows of a group form one unit once the group is sealed
  (`seal`, or `start` after a restart: the connection that filled it is gone). The translator gets
  the unit's rows in arrival order and returns (name, Bundle JSON) pairs. Names must be stable for
  the same input (re-delivery overwrites the same file) and distinct for distinct inputs.
- Deduplication: a `NewItem` with a `dedup` key (e.g. sender + MSH-10) and a `digest` already
  stored is not stored again; the receipt says `duplicate` and the listener acknowledges it as
  accepted. Same key, different content: stored as a new row (`reused_key`), never dropped.
- Outcomes: the translator raising `InteropError` (bad input) → row `failed` with the reason; the
  sink raising `SinkRejected` (FHIR 4xx) → row `dead` with the server's OperationOutcome text;
  `SinkUnavailable`/other `TransportError` (down, 5xx, timeout, disk full) → row stays pending,
  retried after `RetryPolicy.delay(attempts)` (exponential, capped, with jitter); when the sink is
  unavailable the rest of the batch is deferred too, so a dead server is not hammered. `interop
  queue status|retry|purge --store DIR` shows and manages the rows.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import logging
import multiprocessing
import os
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from interop.errors import InteropError, TransportError
from interop.transport.sink import Sink, SinkRejected, emit_many
from interop.transport.store import DurableStore, NewItem, PutResult, StoredItem

__all__ = ["Emission", "ForwardEngine", "NewItem", "Receipt", "RetryPolicy", "Translator"]

log = logging.getLogger("interop.forward")

Emission = tuple[str, bytes] | tuple[str, bytes, str | None]  # (output name, Bundle JSON[, what the input lost])
Translator = Callable[[Sequence[StoredItem]], Sequence[Emission]]
Receipt = PutResult  # id, duplicate, reused_key


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off for a sink that is unavailable: initial × factor^attempts, capped, ±jitter."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    jitter: float = 0.1  # fraction of the delay, drawn uniformly in ±jitter

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (0-based)."""
        base = min(self.maximum, self.initial * self.factor ** min(attempts, 64))
        return max(0.0, base * (1.0 + random.uniform(-self.jitter, self.jitter)))


@dataclass
class EngineStats:
    """Counters since start (for logs, benchmarks and tests)."""

    accepted: int = 0
    duplicates: int = 0
    commits: int = 0  # group commits (fsyncs) on the intake path
    emitted: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    replayed: int = 0  # pending rows found at start
    last_error: str | None = None
    batch_sizes: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=4096))
    commit_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=4096))
    commit_rows: collections.deque[int] = field(default_factory=lambda: collections.deque(maxlen=4096))

    def summary(self) -> str:
        """One log line of counters and the recent intake commits (no message content)."""
        ms = sorted(self.commit_ms)
        rows = self.commit_rows
        commits = (f"commit p50 {ms[len(ms) // 2]:.1f} ms p99 {ms[int(len(ms) * 0.99)]:.1f} ms max {ms[-1]:.1f} ms, "
                   f"{sum(rows) / len(rows):.1f} rows per commit" if ms else "no commits")
        return (f"accepted {self.accepted}, duplicates {self.duplicates}, commits {self.commits} ({commits}); "
                f"replayed at start {self.replayed}")


class ForwardEngine:
    """Durable intake with group commit, plus one worker thread that translates, emits and retries."""

    def __init__(self, store: DurableStore, sink: Sink, translators: Mapping[str, Translator], *,
                 retry: RetryPolicy | None = None, batch_size: int = 128, max_commit: int = 512,
                 idle_poll: float = 1.0) -> None:
        self.store = store
        self.sink = sink
        self.translators = dict(translators)
        self.retry_policy = retry or RetryPolicy()
        self.batch_size = batch_size
        self.max_commit = max_commit
        self.idle_poll = idle_poll
        self.stats = EngineStats()
        self._intake: queue.SimpleQueue[Any] = queue.SimpleQueue()  # (item, future), a list of them, or None
        self._loop_batches: dict[asyncio.AbstractEventLoop, list[tuple[NewItem, Any]]] = {}
        self._wake = threading.Event()
        self._stopping: Any = threading.Event()
        self._committer: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._mp_wake: Any = None  # multiprocessing.Event shared with a worker process
        self._mp_stop: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, worker: bool | str = True) -> int:
        """Seal groups left open by an earlier run, start the intake committer and the forwarding worker.
        Returns the number of pending rows that will be replayed.

        `worker`: True or "thread": a thread of this process; "process": a child process (forked before
        any thread of the engine starts, with its own SQLite connection), so translating never holds
        the listener's GIL: acknowledgement latency stays that of the intake alone (what `serve mllp`
        uses); it dies with its parent. False: no worker (intake only)."""
        self.store.seal_all()
        pending = self.store.counts().get("pending", 0)
        self.stats.replayed = pending
        if pending:
            log.info("replaying %d pending row(s) from an earlier run", pending)
        self._stopping.clear()
        if worker == "process":
            self._start_process()
        self._committer = threading.Thread(target=self._commit_loop, name="forward-commit", daemon=True)
        self._committer.start()
        if worker and worker != "process":
            self._worker = threading.Thread(target=self._work_loop, name="forward-worker", daemon=True)
            self._worker.start()
        return pending

    def _start_process(self) -> None:
        ctx = multiprocessing.get_context("fork")  # translators may be closures: inherited, never pickled
        self._mp_wake, self._mp_stop = ctx.Event(), ctx.Event()
        self._mp_lock = ctx.Lock()
        self.store.share_lock(self._mp_lock)
        self._process = ctx.Process(target=self._child_main, name="forward-worker", daemon=True)
        self._process.start()

    def _child_main(self) -> None:
        """The worker process: its own store connection, the same loop as the worker thread."""
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us (Ctrl-C reaches the whole group)
        inherited = self.store  # never used nor closed here: a SQLite connection must not cross a fork
        self.store = DurableStore(inherited.path)
        self.store.share_lock(self._mp_lock)
        self._inherited = inherited
        self._wake, self._stopping = self._mp_wake, self._mp_stop
        parent = os.getppid()
        self._parent = parent
        try:
            self._work_loop()
        finally:
            self.store.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads after the current batch; pending rows stay in the store. Idempotent.
        Does not close the store (its owner does)."""
        self._stopping.set()
        self._intake.put(None)
        self._notify()
        if self._mp_stop is not None:
            self._mp_stop.set()
        for t in (self._committer, self._worker):
            if t is not None and t.is_alive():
                t.join(timeout)
        self._committer = self._worker = None
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(5)
            self._process = None

    def _notify(self) -> None:
        self._wake.set()
        if self._mp_wake is not None:
            self._mp_wake.set()

    # ------------------------------------------------------------------ intake (durable before ack)
    def submit(self, item: NewItem) -> Future[PutResult]:
        """Queue `item` for the next group commit; the future resolves once it is durable (or raises
        TransportError when it could not be stored)."""
        fut: Future[PutResult] = Future()
        if self._committer is None or self._stopping.is_set():
            fut.set_exception(TransportError("store-and-forward engine is not running"))
            return fut
        self._intake.put((item, fut))
        return fut

    def accept(self, item: NewItem, timeout: float | None = 60.0) -> Receipt:
        """Store `item` durably (group-committed with other callers); returns once it is on disk."""
        return self.submit(item).result(timeout)

    def accept_many(self, items: Sequence[NewItem]) -> list[Receipt]:
        """Store several items durably (one transaction)."""
        futures = [self.submit(i) for i in items]
        return [f.result(60.0) for f in futures]

    def submit_async(self, item: NewItem) -> asyncio.Future[PutResult]:
        """`submit` for asyncio listeners (call it in the event loop): an asyncio future.

        The items submitted during one turn of the event loop (from every connection whose data arrived
        together) go to the committer thread as one batch at the end of the turn, and their futures
        come back with one call into the loop: two thread hand-overs per batch, not per message. The
        loop meanwhile reads and checks the next messages, which form the next batch."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[PutResult] = loop.create_future()
        if self._committer is None or self._stopping.is_set():
            fut.set_exception(TransportError("store-and-forward engine is not running"))
            return fut
        batch = self._loop_batches.get(loop)
        if batch is None:
            batch = self._loop_batches[loop] = []
            loop.call_soon(self._flush_loop_batch, loop)
        batch.append((item, fut))
        return fut

    def _flush_loop_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._loop_batches.pop(loop, None)
        if batch:
            self._intake.put(batch)

    async def accept_async(self, item: NewItem) -> Receipt:
        """`accept` for asyncio listeners: awaits the group commit without blocking the event loop."""
        return await self.submit_async(item)

    def seal(self, group: str) -> None:
        """The group is complete (association ended, study closed): emit its rows as one unit."""
        if self.store.seal(group):
            self._notify()

    def wake(self) -> None:
        """Look for ready rows now (after `interop queue retry`, or a sink known to be back)."""
        self._notify()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every sealed row is emitted, failed or dead (rows of open groups do not count);
        False when some are still pending after `timeout` seconds (e.g. waiting for a back-off)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._has_ready():
                return True
            self._notify()
            time.sleep(0.02)
        return not self._has_ready()

    def _has_ready(self) -> bool:
        return self.store.next_due() is not None

    def _commit_loop(self) -> None:
        """Group commit: take everything queued while the previous commit ran, store it in one transaction."""
        intake = self._intake
        while True:
            first = intake.get()
            if first is None:
                if self._stopping.is_set():
                    self._fail_queued()
                    return
                continue
            batch = list(first) if isinstance(first, list) else [first]
            while len(batch) < self.max_commit:
                try:
                    nxt = intake.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    intake.put(None)  # handled after this batch
                    break
                if isinstance(nxt, list):
                    batch.extend(nxt)
                else:
                    batch.append(nxt)
            for start in range(0, len(batch), self.max_commit):
                self._commit(batch[start:start + self.max_commit])

    def _commit(self, batch: list[tuple[NewItem, Any]]) -> None:
        """Store one batch in one transaction and complete its futures."""
        t0 = time.perf_counter()
        try:
            results: list[PutResult] | None = self.store.put_many([it for it, _ in batch])
            error: BaseException | None = None
        except TransportError as exc:
            log.error("store write failed; %d message(s) not acknowledged: %s", len(batch), exc)
            results, error = None, exc
        except Exception as exc:  # never leave a peer waiting on a future that will not resolve
            log.exception("store write failed")
            results, error = None, TransportError(f"store write failed: {type(exc).__name__}")
        if results is not None:
            self.stats.commit_ms.append((time.perf_counter() - t0) * 1000)
            self.stats.commit_rows.append(len(batch))
            self.stats.commits += 1
            new = sum(1 for r in results if not r.duplicate)
            self.stats.duplicates += len(results) - new
            self.stats.accepted += new
            # wake the worker only for rows it can take now: rows of an open group (a DICOM study being
            # received) wait for `seal`, which wakes it; waking it per commit would run its queue look-up
            # and WAL checkpoint beside every acknowledgement
            if any(not r.duplicate and it.sealed for (it, _), r in zip(batch, results, strict=True)):
                self._notify()
        _resolve([fut for _, fut in batch], results, error)

    def _fail_queued(self) -> None:
        while True:
            try:
                nxt = self._intake.get_nowait()
            except queue.Empty:
                return
            for _, fut in (nxt if isinstance(nxt, list) else [nxt] if nxt is not None else []):
                _resolve([fut], None, TransportError("store-and-forward engine stopped"))

    # ------------------------------------------------------------------ forwarding
    def _work_loop(self) -> None:
        parent = getattr(self, "_parent", None)
        while not self._stopping.is_set():
            if parent is not None and os.getppid() != parent:
                return  # the listener is gone (killed): its successor replays what is pending
            self._wake.clear()  # before looking: a commit after the look wakes the wait below at once
            try:
                items = self.store.ready(limit=self.batch_size)
            except TransportError as exc:
                log.error("cannot read the queue: %s", exc)
                items = []
            if not items:
                due = None
                try:
                    due = self.store.next_due()
                except TransportError:
                    pass
                wait = self.idle_poll if due is None else max(0.01, min(self.idle_poll, due - time.time()))
                self.store.checkpoint(1)  # idle: fold the whole WAL back into the database file
                self._wake.wait(wait)
                continue
            try:
                self.process(items)
            except Exception:  # the worker must survive anything; rows stay pending
                log.exception("forwarding batch failed; rows stay pending")
                time.sleep(self.retry_policy.initial)
            self.store.checkpoint()  # here, not in a listener's commit: acknowledgements never wait for it

    def process(self, items: Sequence[StoredItem]) -> None:
        """Translate and emit one batch of ready rows, then record each unit's outcome."""
        units = _units(items)
        finished: list[tuple[int, str, str | None]] = []
        to_emit: list[tuple[list[StoredItem], list[Emission]]] = []
        for unit in units:
            kind = unit[0].kind
            translator = self.translators.get(kind)
            if translator is None:
                reason = f"no translator for {kind!r} rows in this listener"
                finished.extend((i.id, "failed", reason) for i in unit)
                continue
            try:
                emissions = list(translator(unit))
            except InteropError as exc:
                reason = _one_line(exc)
                log.warning("%s row %d not translated: %s", kind, unit[0].id, reason)
                finished.extend((i.id, "failed", reason) for i in unit)
                self.stats.failed += len(unit)
                continue
            except Exception as exc:
                log.exception("%s row %d: translator crashed", kind, unit[0].id)
                reason = f"internal error: {type(exc).__name__}"
                finished.extend((i.id, "failed", reason) for i in unit)
                self.stats.failed += len(unit)
                continue
            to_emit.append((unit, emissions))
        flat = [em for _, ems in to_emit for em in ems]
        self.stats.batch_sizes.append(len(flat))
        results = emit_many(self.sink, [(em[1], em[0]) for em in flat]) if flat else []
        pos = 0
        deferred: dict[int, list[int]] = {}
        reasons: dict[int, str] = {}
        for unit, ems in to_emit:
            res = results[pos:pos + len(ems)]
            pos += len(ems)
            errors = [r for r in res if isinstance(r, Exception)]
            if not errors:
                ref = " ".join(r for r in res if isinstance(r, str)) or "(nothing to emit)"
                # an emission (name, data, what was lost) of an input that lost data: row `partial`, not done
                lost = "; ".join(em[2] for em in ems if len(em) > 2 and em[2])
                if lost:
                    finished.extend((i.id, "partial", ref, lost) for i in unit)
                    self.stats.emitted += len(unit)
                    continue
                finished.extend((i.id, "done", ref) for i in unit)
                self.stats.emitted += len(unit)
                continue
            rejected = next((e for e in errors if isinstance(e, SinkRejected)), None)
            if rejected is not None:
                reason = _one_line(rejected)
                if rejected.outcome:
                    reason = f"{reason}\nOperationOutcome: {rejected.outcome}"
                finished.extend((i.id, "dead", reason) for i in unit)
                self.stats.dead += len(unit)
                log.warning("%s row %d dead-lettered: %s", unit[0].kind, unit[0].id, _one_line(rejected))
                continue
            attempts = max(i.attempts for i in unit)
            deferred.setdefault(attempts, []).extend(i.id for i in unit)
            reasons[attempts] = _one_line(errors[0])
            self.stats.last_error = reasons[attempts]
        self.store.finish_many(finished)
        for attempts, ids in deferred.items():
            delay = self.retry_policy.delay(attempts)
            self.store.defer(ids, delay, reasons[attempts])
            self.stats.deferred += len(ids)
            log.warning("sink unavailable (%s); %d row(s) retried in %.1f s (attempt %d)",
                        reasons[attempts], len(ids), delay, attempts + 1)


def _resolve(futures: list[Any], results: list[PutResult] | None, error: BaseException | None) -> None:
    """Complete the futures of one commit: concurrent ones and those of the running loop directly,
    those of another loop with one call into it."""
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    per_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[PutResult], PutResult | None]]] = {}
    for n, fut in enumerate(futures):
        res = results[n] if results is not None else None
        if isinstance(fut, asyncio.Future):
            per_loop.setdefault(fut.get_loop(), []).append((fut, res))
        elif res is not None:
            fut.set_result(res)
        else:
            fut.set_exception(error)
    for loop, pairs in per_loop.items():
        if loop is running:
            _settle(pairs, error)
            continue
        try:
            loop.call_soon_threadsafe(_settle, pairs, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass


def _settle(pairs: list[tuple[asyncio.Future[PutResult], PutResult | None]], error: BaseException | None) -> None:
    for fut, res in pairs:
        if fut.done():
            continue
        if res is not None:
            fut.set_result(res)
        else:
            fut.set_exception(error if error is not None else TransportError("not stored"))


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere the worker
    loop notices the new parent id within a second."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _units(items: Sequence[StoredItem]) -> list[list[StoredItem]]:
    """Rows without a group one by one; rows of a group together, in the order of the group's first row."""
    units: list[list[StoredItem]] = []
    groups: dict[str, list[StoredItem]] = {}
    for it in items:
        if it.group is None:
            units.append([it])
            continue
        unit = groups.get(it.group)
        if unit is None:
            unit = groups[it.group] = []
            units.append(unit)
        unit.append(it)
    return units


def _one_line(exc: BaseException) -> str:
    one = getattr(exc, "one_line", None)
    text = one() if callable(one) else str(exc)
    return text.replace("\n", " ")[:1000]
