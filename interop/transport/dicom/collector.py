"""Per-study aggregation: instances of one study are merged and emitted as one FHIR Bundle.

A study is emitted when every association that contributed to it has ended, or when nothing new
arrived for `quiet_period` seconds (an SCU that keeps its association open). Later instances of
the same study re-emit the whole study (the sink name is stable, so a DirectorySink file is
replaced). Store rows become `done` only after the sink accepted the Bundle; on failure they
stay pending and the study is retried with backoff (`retry_delay` doubling up to `max_retry_delay`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from interop.errors import InteropError
from interop.transport.names import output_name

if TYPE_CHECKING:
    from interop.model import Message, ProcedureStep
    from interop.transport.sink import Sink
    from interop.transport.store import DurableStore

log = logging.getLogger("interop.dicom")


@dataclass
class StudyState:
    """What arrived for one study so far."""

    uid: str
    messages: dict[str, Message] = field(default_factory=dict)  # SOP Instance UID -> decoded instance
    pending_ids: list[int] = field(default_factory=list)  # store rows not yet emitted
    associations: set[int] = field(default_factory=set)  # open associations that sent instances
    last_seen: float = 0.0
    dirty: bool = False  # something arrived since the last emission
    emitted: int = 0  # how many times the study was emitted
    failures: int = 0  # consecutive failed emissions
    retry_at: float | None = None  # monotonic time of the next attempt after a failure


class StudyCollector:
    """Collects decoded instances per study and emits each study's Bundle to a sink."""

    def __init__(
        self,
        store: DurableStore,
        sink: Sink,
        translate: Callable[[Message], bytes],
        merge: Callable[[list[Message]], Message],
        *,
        quiet_period: float = 10.0,
        procedure_steps: Callable[[str], list[ProcedureStep]] | None = None,
        max_studies: int = 256,
        retry_delay: float = 2.0,
        max_retry_delay: float = 60.0,
    ) -> None:
        self.store, self.sink, self.translate, self.merge = store, sink, translate, merge
        self.quiet_period = quiet_period
        self.procedure_steps = procedure_steps
        self.max_studies = max_studies
        self.retry_delay, self.max_retry_delay = retry_delay, max_retry_delay
        self._studies: OrderedDict[str, StudyState] = OrderedDict()
        self._lock = threading.Lock()
        self._emit_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.emitted: list[tuple[str, str]] = []  # (study uid, sink reference), for status and tests

    # -- arrivals

    def add(self, study_uid: str, sop_instance_uid: str, message: Message, item_id: int,
            association: int | None = None) -> None:
        """Record one decoded instance (already durable as store row `item_id`)."""
        with self._lock:
            st = self._studies.get(study_uid)
            if st is None:
                st = self._studies[study_uid] = StudyState(study_uid)
                self._evict()
            self._studies.move_to_end(study_uid)
            st.messages[sop_instance_uid] = message
            st.pending_ids.append(item_id)
            if association is not None:
                st.associations.add(association)
            st.last_seen = time.monotonic()
            st.dirty = True

    def association_ended(self, association: int) -> None:
        """Emit the studies this association contributed to, unless another association still feeds them."""
        ready = []
        with self._lock:
            for st in self._studies.values():
                if association in st.associations:
                    st.associations.discard(association)
                    if not st.associations and st.dirty:
                        ready.append(st.uid)
        for uid in ready:
            self.flush(uid)

    # -- emission

    def flush(self, study_uid: str) -> str | None:
        """Merge, translate and emit one study now; returns the sink reference or None on failure."""
        with self._emit_lock:
            with self._lock:
                st = self._studies.get(study_uid)
                if st is None or not st.dirty:
                    return None
                messages = list(st.messages.values())
                ids = list(st.pending_ids)
                st.pending_ids.clear()
                st.dirty = False
            try:
                merged = self.merge(messages)
                if self.procedure_steps is not None:
                    steps = self.procedure_steps(study_uid)
                    if steps:
                        merged = merged.model_copy(update={"procedure_steps": merged.procedure_steps + tuple(steps)})
                ref = self.sink.emit(self.translate(merged), output_name("study", study_uid))
                for item_id in ids:  # a full disk fails here too: then the study is retried like a sink failure
                    self.store.mark_done(item_id, ref)
            except Exception as exc:  # noqa: BLE001 - the node keeps serving whatever the mapping or sink does
                level = logging.WARNING if isinstance(exc, InteropError) else logging.ERROR
                with self._lock:
                    st.pending_ids[:0] = ids
                    st.dirty = True
                    st.failures += 1
                    delay = min(self.max_retry_delay, self.retry_delay * 2 ** (st.failures - 1))
                    st.retry_at = time.monotonic() + delay
                log.log(level, "study %s not emitted (%s: %s); kept pending, retry in %.0f s",
                        study_uid, type(exc).__name__, exc, delay, exc_info=level == logging.ERROR)
                return None
            with self._lock:
                st.emitted += 1
                st.failures, st.retry_at = 0, None
            self.emitted.append((study_uid, ref))
            log.info("study %s: %d instance(s) emitted to %s", study_uid, len(messages), ref)
            return ref

    def flush_quiet(self, now: float | None = None) -> None:
        """Emit every dirty study quiet for `quiet_period` seconds (when > 0) or due for a retry."""
        now = time.monotonic() if now is None else now
        with self._lock:
            ready = [st.uid for st in self._studies.values() if st.dirty and (
                (st.retry_at is not None and now >= st.retry_at)
                or (st.retry_at is None and self.quiet_period > 0 and now - st.last_seen >= self.quiet_period))]
        for uid in ready:
            self.flush(uid)

    def flush_all(self) -> None:
        """Emit every dirty study (at shutdown)."""
        with self._lock:
            ready = [st.uid for st in self._studies.values() if st.dirty]
        for uid in ready:
            self.flush(uid)

    # -- quiet-period timer

    def start(self) -> None:
        """Start the background thread that applies the quiet period and retries failed studies."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="interop-dicom-quiet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer and emit what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush_all()

    def _run(self) -> None:
        interval = min(1.0, max(0.05, self.quiet_period / 4)) if self.quiet_period > 0 else 0.5
        while not self._stop.wait(interval):
            try:
                self.flush_quiet()
            except Exception:  # noqa: BLE001 - the timer must survive anything
                log.exception("quiet-period flush failed")

    def _evict(self) -> None:
        """Forget the oldest emitted studies beyond `max_studies` (their rows are already done)."""
        while len(self._studies) > self.max_studies:
            oldest_uid, oldest = next(iter(self._studies.items()))
            if oldest.dirty or oldest.associations:
                break
            del self._studies[oldest_uid]
