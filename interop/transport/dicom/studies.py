"""Studies on the store-and-forward engine: one group of the store per study, one Bundle per study.

Every instance received is a row of the group `study:<Study Instance UID>`, stored unsealed. A study
is sealed, and so handed to the engine's worker, when every association that contributed to it has
ended, or when nothing new arrived for `quiet_period` seconds (an SCU that keeps its association
open). The worker translates the study — all its instances, the ones emitted before included, so
the Bundle (whose name is stable: `study-<uid>`) always describes the whole study — and the engine
retries with back-off while the sink is unavailable. After a crash the engine seals and replays
what was left pending; instances decoded at reception are not decoded twice while the node runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from interop.errors import DecodeError

if TYPE_CHECKING:
    from interop.model import Message, ProcedureStep
    from interop.transport.store import DurableStore, StoredItem

    from .node import Decoded

log = logging.getLogger("interop.dicom")

GROUP_PREFIX = "study:"


def study_group(study_uid: str) -> str:
    """The store group of a study."""
    return GROUP_PREFIX + study_uid


@dataclass
class _Open:
    associations: set[int] = field(default_factory=set)
    last_seen: float = 0.0


class StudyTracker:
    """Which studies are still being filled; seals them through `seal(group)` when they are complete."""

    def __init__(self, seal: Callable[[str], None], *, quiet_period: float = 10.0) -> None:
        self.seal = seal
        self.quiet_period = quiet_period
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, study_uid: str, association: int) -> None:
        """An instance of `study_uid` arrived (durably) on `association`."""
        with self._lock:
            st = self._open.setdefault(study_uid, _Open())
            st.associations.add(association)
            st.last_seen = time.monotonic()

    def association_ended(self, association: int) -> None:
        """Seal the studies this association fed, unless another open association still feeds them."""
        ready = []
        with self._lock:
            for uid, st in list(self._open.items()):
                if association in st.associations:
                    st.associations.discard(association)
                    if not st.associations:
                        del self._open[uid]
                        ready.append(uid)
        for uid in ready:
            self._seal(uid)

    def seal_quiet(self, now: float | None = None) -> None:
        """Seal every study quiet for `quiet_period` seconds (when > 0), its associations still open."""
        if self.quiet_period <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            ready = [uid for uid, st in self._open.items() if now - st.last_seen >= self.quiet_period]
            for uid in ready:
                self._open[uid].last_seen = float("inf")  # sealed; a new instance makes it fresh again
        for uid in ready:
            self._seal(uid)

    def seal_all(self) -> None:
        """Seal every open study (at shutdown)."""
        with self._lock:
            ready, self._open = list(self._open), {}
        for uid in ready:
            self._seal(uid)

    def _seal(self, uid: str) -> None:
        try:
            self.seal(study_group(uid))
        except Exception as exc:  # noqa: BLE001 - the rows are durable: the next start seals them
            log.error("study %s not sealed (%s); emitted at the next start", uid, exc)

    def start(self) -> None:
        """Start the quiet-period timer."""
        if self._thread is None and self.quiet_period > 0:
            self._thread = threading.Thread(target=self._run, name="interop-dicom-quiet", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the timer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        interval = min(1.0, max(0.05, self.quiet_period / 4))
        while not self._stop.wait(interval):
            self.seal_quiet()


class DecodedCache:
    """Instances decoded at reception, by store row id, so the worker does not decode them again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[int, Decoded] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, row: int, decoded: Decoded) -> None:
        with self._lock:
            self._items[row] = decoded
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, row: int) -> Decoded | None:
        with self._lock:
            return self._items.get(row)


class StudyTranslator:
    """The engine's translator for `dicom-instance` rows: one study's rows → one Bundle."""

    def __init__(self, store: DurableStore, decode: Callable[[bytes, str | None], Decoded],
                 merge: Callable[[list[Message]], Message], translate: Callable[[Message], bytes],
                 procedure_steps: Callable[[str], list[ProcedureStep]] | None = None,
                 cache: DecodedCache | None = None) -> None:
        self.store, self.decode, self.merge, self.translate = store, decode, merge, translate
        self.procedure_steps = procedure_steps
        self.cache = cache or DecodedCache()
        self.emitted: list[str] = []  # study UIDs, in order (status and tests)

    def __call__(self, items: Sequence[StoredItem]) -> list[tuple[str, bytes] | tuple[str, bytes, str]]:
        group = items[0].group
        rows = list(items)
        if group is not None and group.startswith(GROUP_PREFIX):
            # the whole study: instances emitted earlier too, so the Bundle that replaces the last one is complete
            pending = {i.id for i in items}
            rows = [r for r in self.store.rows("done", group=group) if r.id not in pending] + rows
        decoded: dict[str, Message] = {}  # SOP Instance UID -> instance (a re-sent instance replaces the first)
        study_uid = None
        left_out: list[str] = []  # instances of this unit that cannot be decoded
        for row in sorted(rows, key=lambda r: r.id):
            d = self.cache.get(row.id)
            if d is None:
                try:
                    d = self.decode(row.data, row.key or None)
                except DecodeError as exc:
                    if row in items and len(items) == 1:
                        raise
                    log.warning("instance %s of row %d left out of its study: %s", row.key, row.id, exc.one_line())
                    if row in items:
                        left_out.append(f"instance {row.key} left out: {exc.one_line()}"[:300])
                    continue
                self.cache.put(row.id, d)
            decoded[d.sop_instance_uid or row.key] = d.message
            study_uid = d.study_uid
        if study_uid is None:
            raise DecodeError("no instance of the study can be decoded", standard="dicom", position="dataset",
                              expected="a DICOM dataset")
        merged = self.merge(list(decoded.values()))
        if self.procedure_steps is not None:
            steps = self.procedure_steps(study_uid)
            if steps:
                merged = _with_steps(merged, tuple(steps))
        bundle = self.translate(merged)
        self.emitted.append(study_uid)
        log.info("study %s: %d instance(s) translated", study_uid, len(decoded))
        if left_out:  # the unit's rows become `partial`, with the reason (interop queue status shows it)
            return [(f"study-{study_uid}", bundle, "; ".join(left_out))]
        return [(f"study-{study_uid}", bundle)]


def _with_steps(message: Message, steps: tuple[ProcedureStep, ...]) -> Message:
    """`message` with `steps` added to its procedure steps (the model is immutable)."""
    from interop.model import replace

    return replace(message, procedure_steps=message.procedure_steps + steps)
