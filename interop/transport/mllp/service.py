"""`interop serve mllp` as one object: durable store + store-and-forward engine + MLLP server.

    service = MllpService(MllpConfig(port=0), store_dir=Path("store"), forward_url=None)
    port = service.start()          # replays pending rows, listens in a thread
    ...
    service.stop()

The engine translates each stored HL7 v2 message (decode → FHIR Bundle) and emits it to the sink:
`DIR/fhir/<name>.json` with a store directory, the FHIR server of `forward_url`, or both.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from interop.transport.forward import ForwardEngine, RetryPolicy
from interop.transport.sink import Sink, make_sink
from interop.transport.store import DurableStore, StoredItem

from .receiver import KIND
from .server import MllpConfig, MllpServer

log = logging.getLogger("interop.mllp")
stats_log = logging.getLogger("interop.mllp.stats")


def output_name(item: StoredItem) -> str:
    """`hl7v2-<MSH-10>-<12 hex of the message's SHA-256>`: the same message always gets the same name
    (a re-delivery replaces its file), two different messages never do (even with one control id)."""
    return f"{KIND}-{item.key}-{hashlib.sha256(item.data).hexdigest()[:12]}"


def hl7v2_translator(version: Literal["R4", "R5"] = "R4",
                     bundle_type: Literal["collection", "transaction"] = "transaction", quirks: Sequence[str] = ()):
    """The engine translator for `hl7v2` rows: one Bundle per message (decode → to_fhir), decoded with the
    quirk profiles `quirks` (codecs.hl7v2.quirks; none: detected per message from MSH-3/4/21, else default)."""
    from contextlib import nullcontext

    from interop.codecs.hl7v2 import quirks as hl7v2_quirks
    from interop.pipeline import fhir_json

    chosen = tuple(quirks)

    def translate(items: Sequence[StoredItem]) -> list[tuple[str, bytes]]:
        out = []
        with hl7v2_quirks.use(*chosen) if chosen else nullcontext():  # the worker thread / forked child's own
            for item in items:
                name = output_name(item)
                out.append((name, fhir_json(item.data, version, bundle_type=bundle_type, standard="hl7v2",
                                            label=f"{name}.hl7")))
        return out

    return translate


class MllpService:
    """The MLLP listener with its durable queue and forwarding worker."""

    def __init__(self, config: MllpConfig, *, store_dir: Path, write_fhir: bool = True,
                 forward_url: str | None = None, sink: Sink | None = None,
                 fhir_version: Literal["R4", "R5"] = "R4",
                 bundle_type: Literal["collection", "transaction"] = "transaction",
                 retry: RetryPolicy | None = None, keep_history: bool = False, worker: str = "thread") -> None:
        self.store = DurableStore(store_dir)
        self.sink = sink or make_sink(store_dir if write_fhir else None, forward_url)
        self.engine = ForwardEngine(self.store, self.sink, {KIND: hl7v2_translator(fhir_version, bundle_type,
                                                                                      config.quirks)},
                                    retry=retry)
        self.server = MllpServer(config, self.engine, keep_history=keep_history)
        self.worker = worker  # "thread" or "process" (ForwardEngine.start)
        from interop.registry import get_codec, get_mapping

        get_codec("hl7v2")  # import codec and mapping now, not in the worker's first batch
        get_mapping(f"fhir-{fhir_version.lower()}")

    @property
    def port(self) -> int | None:
        return self.server.port

    def start(self) -> int:
        """Replay pending rows, start the worker, listen in a background thread; returns the port."""
        self.engine.start(worker=self.worker)
        try:
            return self.server.start()
        except BaseException:
            self.engine.stop()
            self.store.close()
            raise

    def stop(self) -> None:
        """Stop listening, stop the worker (pending rows stay), close the store."""
        self.server.stop()
        self.engine.stop()
        self.store.close()

    def stats_line(self) -> str:
        """Counters for the operator's log: connections, acknowledgements, intake commits, queue (no message
        content, no identifiers)."""
        srv = self.server
        try:
            counts = self.store.counts()
            queue = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "done", "failed", "dead"))
        except Exception as exc:  # the line must never stop the server
            queue = f"unreadable ({type(exc).__name__})"
        return (f"mllp stats: {len(srv.sessions)} connection(s) open, {srv.acknowledged} acknowledged, "
                f"{srv.refused} refused, {srv.evicted} evicted; {self.engine.stats.summary()}; queue: {queue}")

    async def serve(self, on_started=None, *, stats_interval: float = 0.0) -> None:
        """Run in the current event loop until `request_stop` (the CLI). With `stats_interval`, a stats line
        is logged that often (and once at the end)."""
        import asyncio

        self.engine.start(worker=self.worker)
        ticker = None

        async def tick() -> None:
            while True:
                await asyncio.sleep(stats_interval)
                stats_log.info("%s", self.stats_line())

        try:
            if stats_interval > 0:
                ticker = asyncio.get_running_loop().create_task(tick())
            await self.server.serve(on_started)
        finally:
            if ticker is not None:
                ticker.cancel()
            self.engine.stop()
            stats_log.info("%s", self.stats_line())
            self.store.close()

    def request_stop(self) -> None:
        """Stop `serve` from a signal handler or another thread."""
        self.server.request_stop()
