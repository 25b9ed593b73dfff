"""`interop serve x73`: an IEEE 11073-20601 manager over TCP (asyncio), one `Association` per agent connection.

Each received APDU is handed to the store-and-forward engine (`interop.transport.forward`) and is
durable before the manager answers it (the answer is the agent's acknowledgement). The APDUs of
one association form one group of the store; when the association ends (released, aborted, or the
connection dropped) the group is sealed and the engine's worker replays the stored APDUs through a
fresh manager-side `Association`, maps the result to FHIR and emits one Bundle per association, with
retries and back-off while the sink is unavailable. After a crash the engine seals the groups the
dead connections left open and replays them the same way: what was acknowledged becomes FHIR.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from interop.codecs.ieee11073 import fsm
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.association import Association
from interop.codecs.ieee11073.configurations import ConfigStore
from interop.codecs.ieee11073.trace import APDU_CHOICES
from interop.errors import DecodeError, InteropError, TransportError
from interop.transport.limits import IDLE, OPENING, PARTIAL, Connection, ConnectionTable

if TYPE_CHECKING:
    from interop.transport.store import StoredItem

log = logging.getLogger("interop.x73")
DEFAULT_PORT = 6024
KIND_APDU = "x73-apdu"  # one store row per APDU received, grouped by association


@dataclass
class ManagerConfig:
    """How the manager listens and where its output goes."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0 = any free port
    store_dir: Path = Path("interop-store")
    write_fhir: bool = True  # Bundles as files under store_dir/fhir
    forward_url: str | None = None
    fhir_version: Literal["R4", "R5"] = "R4"
    bundle_type: Literal["collection", "transaction"] = "transaction"
    idle_timeout: float = 120.0  # seconds without an APDU before the connection is closed
    apdu_timeout: float = 10.0  # seconds for an APDU to arrive completely once its first byte did
    assoc_timeout: float = 10.0  # seconds from connecting to the first APDU (the AARQ)
    max_connections: int = 1024  # at the limit the most stalled connection is closed to admit a newcomer
    stall_grace: float = 2.0  # a connection stalled this long may be evicted at the limit
    max_apdu: int = 64 * 1024  # larger APDUs are refused with ABRT buffer-overflow
    system_id: bytes | None = None  # the manager's own EUI-64 (the PHG's identity); None: made once per store
    assume_tz: tzinfo | None = None  # zone of device-local times; None = the gateway's own zone (PHD IG)
    patient: str | dict[int, str] | None = None  # Observation.subject: a logical id, or one per 20601 person-id


@dataclass
class Outcome:
    """What happened to one association."""

    system_id: str | None
    apdus: int
    ended: str | None
    metrics: int
    output_ref: str | None
    error: str | None = None
    message: Any = None
    states: list[tuple[str, str, str]] = field(default_factory=list)


class X73Manager:
    """The TCP manager; `start()` in a thread for tests, `serve_forever()` for the CLI."""

    def __init__(self, config: ManagerConfig, *, sink: Any = None,
                 on_outcome: Callable[[Outcome], None] | None = None, retry: Any = None) -> None:
        from interop.transport.forward import ForwardEngine, RetryPolicy
        from interop.transport.sink import make_sink
        from interop.transport.store import DurableStore

        self.config = config
        self.store = DurableStore(config.store_dir)
        self.configs = ConfigStore(config.store_dir / "x73-configs")
        self.sink = sink or make_sink(config.store_dir if config.write_fhir else None, config.forward_url)
        self.engine = ForwardEngine(self.store, self.sink, {KIND_APDU: self.translate},
                                    retry=retry or RetryPolicy())
        self.on_outcome = on_outcome
        self._run_id = secrets.token_hex(4)  # connection ids stay distinct across restarts
        from interop.registry import get_mapping

        get_mapping(f"fhir-{config.fhir_version.lower()}")  # import the mapping now, not in the serving thread
        from interop.codecs.ieee11073 import apdu, attributes

        apdu.warm(tuple(set(attributes.ATTRIBUTE_TYPES.values())))
        attributes.layout("Apdu")  # the layouts derived from the same declarations (exec: not in threads)
        from interop.codecs.ieee11073.gateway import gateway_device, local_zone, phg_system_id

        if config.system_id is None:
            config.system_id = phg_system_id(config.store_dir)
        self.zone = config.assume_tz or local_zone()
        self.gateway = gateway_device(config.system_id)
        self.outcomes: list[Outcome] = []
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._connections = 0
        self.table = ConnectionTable(config.max_connections, grace=config.stall_grace, name="x73 manager",
                                     logger=log)

    # ------------------------------------------------------------------ lifecycle
    async def _open(self) -> None:
        replayed = self.engine.start()  # seals what a crash left open, replays what is pending
        if replayed:
            log.warning("x73 manager: %d stored APDU row(s) from an earlier run are being replayed", replayed)
        self._server = await asyncio.start_server(self._handle, self.config.host, self.config.port,
                                                  backlog=512)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("x73 manager listening on %s:%s", self.config.host, self.port)

    def start(self) -> int:
        """Serve in a background thread; returns the port."""
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._open())
            self._started.set()
            self._loop.run_forever()
            self._loop.close()
        self._thread = threading.Thread(target=run, name="x73-manager", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise InteropError("x73 manager did not start")
        assert self.port is not None
        return self.port

    def stop(self) -> None:
        """Stop serving (from any thread) and close the store."""
        loop = self._loop
        if loop is not None and loop.is_running():
            async def shutdown() -> None:
                if self._server is not None:
                    self._server.close()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                loop.stop()
            asyncio.run_coroutine_threadsafe(shutdown(), loop)
            if self._thread is not None:
                self._thread.join(10)
        self.engine.stop()
        self.store.close()

    def request_stop(self) -> None:
        """Ask `serve_forever` to return (safe from signal handlers and other threads)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def serve_forever(self, on_started: Callable[[int], None] | None = None) -> None:
        """Serve in the calling thread until `stop()` (or SIGINT/SIGTERM handled by the caller)."""
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._open())
        self._started.set()
        if on_started is not None:
            assert self.port is not None
            on_started(self.port)
        try:
            self._loop.run_forever()
        finally:
            self.engine.stop()
            self.store.close()

    # ------------------------------------------------------------------ one connection
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from interop.transport.store import NewItem

        self._connections += 1
        conn = f"{self._run_id}-{self._connections}"
        peer = writer.get_extra_info("peername")
        slot = Connection(peer=_peer(peer), close=writer.transport.abort)
        if not self.table.admit(slot):
            await self._refuse(reader, writer)
            return
        seq = 1
        assoc, group, count, offset = self._new_association(), f"{conn}-{seq}", 0, 0
        try:
            while True:
                frame = await self._read_apdu(reader, writer, slot, assoc)
                if frame is None:
                    assoc.disconnect()
                    break
                if isinstance(frame, list):  # answered an APDU that cannot be framed or is too long
                    await self._send(writer, frame)
                    break
                slot.busy += 1
                try:
                    count += 1
                    item = NewItem(KIND_APDU, f"{group}/{count}", frame,
                                   {"connection": conn, "association": group, "offset": offset}, group=group,
                                   sealed=False)
                    try:  # durable before the manager answers (acknowledges) this APDU
                        await self.engine.accept_async(item)
                    except TransportError as exc:
                        log.error("x73 %s: APDU not stored (%s); association aborted", conn, exc)
                        await self._send(writer, [_abrt(nom.ABORT_REASON_UNDEFINED)])
                        assoc.end_association("aborted")
                        break
                    try:
                        answers = assoc.receive(frame, offset)
                    except DecodeError as exc:
                        log.warning("x73 %s: %s", conn, exc.one_line())
                        assoc.issue("error", "x73.invalid-apdu", str(exc), exc.offset)
                        answers = assoc.invalid_apdu()
                    offset += len(frame)
                    await self._send(writer, answers)
                finally:
                    slot.busy -= 1
                self.table.phase(slot, IDLE)
                if assoc.state == fsm.UNASSOCIATED and assoc.ended:
                    self._ended(assoc, group, count)
                    seq += 1
                    assoc, group, count, offset = self._new_association(), f"{conn}-{seq}", 0, 0
        finally:
            self.table.remove(slot)
            if count:
                self._ended(assoc, group, count)
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    def _ended(self, assoc: Association, group: str, count: int) -> None:
        """The association is over: its stored APDUs become one unit of the engine."""
        sysid = assoc.system_id.hex().upper() if assoc.system_id else None
        log.info("x73 %s: association %s %s, %d APDUs stored", group, sysid, assoc.ended or "disconnected", count)
        try:
            self.engine.seal(group)
        except TransportError as exc:  # the rows are durable; the next start seals and replays them
            log.error("x73 %s: association not sealed (%s); replayed at the next start", group, exc)

    async def _read_apdu(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slot: Connection,
                         assoc: Association) -> bytes | list[bytes] | None:
        """The next APDU (header included); None when the peer went away or was too slow; a list of
        answers to send before closing when the APDU cannot be framed or exceeds the size limit.

        Waiting for the first byte is bounded by the association timeout (no AARQ yet) or the idle
        timeout; once it arrived the whole APDU must follow within `apdu_timeout`, however it trickles."""
        cfg = self.config
        loop = asyncio.get_running_loop()
        wait = cfg.assoc_timeout if slot.phase == OPENING else cfg.idle_timeout
        try:
            first = await asyncio.wait_for(reader.readexactly(1), wait)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            if slot.phase == OPENING and not slot.evicted:
                log.info("x73 %s: no AARQ within %.0f s; connection closed", slot.peer, wait)
            return None
        deadline = loop.time() + cfg.apdu_timeout
        if slot.phase != OPENING:
            self.table.phase(slot, PARTIAL)
        try:
            rest = await asyncio.wait_for(reader.readexactly(3), max(0.0, deadline - loop.time()))
            header = first + rest
            if header[0] not in APDU_CHOICES or header[1] != 0:
                return assoc.invalid_apdu()  # cannot re-frame after an unknown choice
            length = int.from_bytes(header[2:4], "big")
            if length + 4 > cfg.max_apdu:
                assoc.end_association("aborted")
                return [_abrt(nom.ABORT_REASON_BUFFER_OVERFLOW)]
            body = await asyncio.wait_for(reader.readexactly(length), max(0.0, deadline - loop.time()))
        except TimeoutError:
            log.warning("x73 %s: APDU not complete within %.0f s; connection closed", slot.peer, cfg.apdu_timeout)
            return None
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return header + body

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """At the limit with every connection making progress: answer the AARQ with AARE
        rejected-transient (20601 A.8 AssociateResult) when it comes promptly, then close."""
        try:
            header = await asyncio.wait_for(reader.readexactly(4), 2.0)
            if int.from_bytes(header[:2], "big") == nom.AARQ_CHOSEN:
                length = int.from_bytes(header[2:4], "big")
                if length + 4 <= self.config.max_apdu:
                    await asyncio.wait_for(reader.readexactly(length), 2.0)
                    refusal = self._new_association()
                    refusal.send_aare(nom.REJECTED_TRANSIENT)
                    await self._send(writer, refusal.outbox)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, InteropError):
            pass
        finally:
            writer.transport.abort()

    def _new_association(self) -> Association:
        return Association(mode="manager", store=self.configs, manager_system_id=self.config.system_id,
                           local_tz=self.zone)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, answers: list[bytes]) -> None:
        for octets in answers:
            writer.write(octets)
        if answers:
            try:
                await writer.drain()
            except ConnectionError:
                pass

    def translate(self, items: Sequence[StoredItem]) -> list[tuple[str, bytes]]:
        """Engine translator: the stored APDUs of one association → one Bundle (the worker thread).

        The APDUs are replayed through a fresh manager-side `Association`, the very state machine that
        answered them live, so a replay after a crash gives the same result as the live association."""
        from interop import to_fhir

        group = items[0].group or f"row-{items[0].id}"
        from datetime import datetime

        received = datetime.fromtimestamp(items[0].created, self.zone)  # when the AARQ was stored
        assoc = replay_association([i.data for i in items], self.configs, self.config.system_id,
                                   local_tz=self.zone, clock=lambda: received)
        sysid = assoc.system_id.hex().upper() if assoc.system_id else None
        outcome = Outcome(sysid, len(items), assoc.ended, len(assoc.metrics), None, states=list(assoc.fsm.history))
        try:
            # the PHG (PHD IG): its own Device, a Provenance/Bundle per association (its group id, the same
            # when replayed), subject from --patient, device-local times on the gateway's timeline
            message = assoc.message(source=f"x73-{group}", gateway=self.gateway, association_id=group)
            outcome.message = message
            options = {"patient": self.config.patient} if self.config.patient else {}
            bundle = to_fhir(message, self.config.fhir_version, bundle_type=self.config.bundle_type,
                             assume_tz=self.zone, **options)
            lost = assoc.lost_data
            if lost:  # emitted with what it kept; the loss is logged and on the outcome
                outcome.error = "lost data: " + "; ".join(lost)
                log.warning("x73 %s: association lost data: %s", group, outcome.error)
        except InteropError as exc:
            outcome.error = exc.one_line() if hasattr(exc, "one_line") else str(exc)
            self._record(outcome)
            raise
        self._record(outcome)
        name = f"x73-{sysid or 'unknown'}-{group}"
        # an association that lost data is emitted with what it kept and stored `partial` (not done)
        return [(name, bundle.json(), outcome.error)] if outcome.error else [(name, bundle.json())]

    def _record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def replay_association(frames: Sequence[bytes], configs: ConfigStore, system_id: bytes, *,
                       local_tz: tzinfo | None = None, clock: Callable[[], Any] | None = None) -> Association:
    """Feed stored agent APDUs to a new manager-side Association (its answers are dropped); end it.

    An association whose stream carries its configuration report is replayed against the standard
    configurations only, so the report is processed as it was live (the agent's extended
    configuration was unknown then); otherwise the configurations remembered in `configs` are used."""
    from interop.codecs.ieee11073 import apdu

    def is_config_report(frame: bytes) -> bool:
        if int.from_bytes(frame[:2], "big") != nom.PRST_CHOSEN:
            return False
        try:
            value = apdu.parse_apdu(frame)
            return (value.apdu.choice in (nom.ROIV_CMIP_EVENT_REPORT_CHOSEN,
                                          nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN)
                    and value.apdu.message.event_type == nom.MDC_NOTI_CONFIG)
        except Exception:  # noqa: BLE001 - an APDU that does not parse is reported by the replay itself
            return False

    store = ConfigStore() if any(is_config_report(f) for f in frames) else configs
    assoc = Association(mode="manager", store=store, manager_system_id=system_id, local_tz=local_tz, clock=clock)
    offset = 0
    for frame in frames:
        try:
            assoc.receive(frame, offset)
        except DecodeError as exc:
            assoc.issue("error", "x73.invalid-apdu", str(exc), exc.offset)
            assoc.invalid_apdu()
        offset += len(frame)
    if not assoc.ended:
        assoc.disconnect()
    return assoc


def _peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _abrt(reason: int) -> bytes:
    from interop.codecs.ieee11073 import apdu

    return apdu.build_apdu({"choice": nom.ABRT_CHOSEN, "apdu": {"reason": reason}})
