"""The MLLP server (asyncio): sessions, limits, TLS, allow-list; messages go through `receiver.inspect`
to the store-and-forward engine and are acknowledged once durable.

Limits and what a peer sees when it passes them:

- block size (`max_frame`): AR with ERR code 207 when the block's first bytes hold an MSH, the rest
  of the block discarded, the connection kept;
- partial block (`frame_timeout`): a block without <EB> in time is dropped (never acknowledged) and
  the connection closed;
- idle (`idle_timeout`): a connection without a byte for that long is closed;
- connections (`max_connections`): at the limit, the connection idle the longest (and at least
  `evict_after` seconds) is closed to make room; when none is idle the new one is refused. Either way
  one log line says so;
- a peer that does not read its acknowledgements (`write_timeout`): reading from it pauses while its
  acknowledgements back up, and it is aborted when they have not drained in time;
- allow-list (`allow`): connections from other addresses are closed at once, with a log line.

Logs name the peer address, the connection number, MSH-10 and the position of an error; never a
field value of a message (no patient data).
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from interop.errors import InteropError, TransportError, UsageError

from . import fsm
from .ack import DEFAULT, ERROR_CODES, AckError, build_ack, build_batch_ack, build_reply, reply_code
from .framing import Block, DiscardEnd, FrameScanner, Junk, Oversize, Start, frame
from .receiver import BatchVerdict, inspect, inspect_batch, is_batch, read_header

log = logging.getLogger("interop.mllp")
DEFAULT_PORT = 2575  # IANA: "hl7-mllp"
SEND_BUFFER = 128 * 1024  # SO_SNDBUF of each connection (Linux doubles it)


@dataclass
class MllpConfig:
    """How the server listens and the per-connection limits."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT  # 0 = any free port
    max_frame: int = 16 * 1024 * 1024  # bytes of one block (HL7 messages with embedded documents reach MBs)
    idle_timeout: float = 300.0  # seconds without a byte before a connection is closed
    frame_timeout: float = 30.0  # seconds from <SB> to <EB> before a partial block is dropped
    write_timeout: float = 30.0  # seconds acknowledgements may stay unread before the peer is aborted
    max_connections: int = 512
    evict_after: float = 5.0  # an idle connection may be closed to make room after this many seconds
    max_inflight: int = 256  # received, not yet acknowledged messages per connection before reading pauses
    allow: Sequence[str] = ()  # CIDR blocks (or addresses) allowed to connect; empty = any
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None  # require client certificates signed by this CA (mutual TLS)
    tls_handshake_timeout: float = 10.0
    backlog: int = 1024
    ora_r41: bool = False  # answer every ORU^R40 (IHE PCD-04) with ORA^R41, not only those naming IHE_PCD_ACM_001
    quirks: Sequence[str] = ()  # HL7 v2 quirk profiles (names or .toml paths) every message is decoded with
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        nets = []
        for a in self.allow:
            try:
                nets.append(ipaddress.ip_network(a, strict=False))
            except ValueError:
                raise UsageError(f"--allow {a!r} is not an address or CIDR block (e.g. 10.1.0.0/16)") from None
        self.networks = nets
        if self.quirks:  # an unknown name or a broken file: a usage error before the port opens
            from interop.codecs.hl7v2 import quirks
            from interop.errors import DecodeError

            try:
                quirks.combine(tuple(self.quirks))
            except DecodeError as exc:
                raise UsageError(f"--quirks: {exc.message}; expected {exc.expected}") from None
        if (self.tls_cert is None) != (self.tls_key is None):
            raise UsageError("--tls-cert and --tls-key go together")
        if self.tls_ca is not None and self.tls_cert is None:
            raise UsageError("--tls-ca (client certificates) needs --tls-cert and --tls-key")


def server_tls_context(cert: Path, key: Path, ca: Path | None) -> ssl.SSLContext:
    """TLS 1.2+ server context; with `ca`, clients must present a certificate signed by it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert), str(key))
        if ca is not None:
            ctx.load_verify_locations(cafile=str(ca))
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load TLS material: {exc}") from None
    return ctx


class _RateLimitedLog:
    """One log line per `every` seconds for a repeated condition, with how many were not logged."""

    def __init__(self, every: float = 1.0, first: int = 1) -> None:
        self.every = every
        self.first = first  # this many lines are always logged before the rate limit applies
        self.last = 0.0
        self.suppressed = 0

    def __call__(self, level: int, msg: str, *args: object) -> None:
        now = time.monotonic()
        if self.first > 0 or now - self.last >= self.every:
            self.first -= 1
            more = f" (+{self.suppressed} more like it)" if self.suppressed else ""
            log.log(level, msg + more, *args)
            self.last = now
            self.suppressed = 0
        else:
            self.suppressed += 1


class MllpSession(asyncio.Protocol):
    """One MLLP connection: the scanner feeds the state machine; messages are handled in order."""

    def __init__(self, server: MllpServer) -> None:
        self.server = server
        self.state = fsm.STA_AWAITING
        self.machine = fsm.Machine(self, keep_history=server.keep_history)
        self.scanner = FrameScanner(server.config.max_frame)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.number = 0
        self.last_activity = time.monotonic()
        self.block_started = 0.0
        self.block_serial = 0
        self.inbox: collections.deque[bytes] = collections.deque()
        self.pump: asyncio.Task[None] | None = None
        self.junk = 0
        self.messages = 0
        self.reading_paused = False
        self.writing_paused = False
        self._idle_handle: asyncio.TimerHandle | None = None
        self._block_handle: asyncio.TimerHandle | None = None
        self._write_handle: asyncio.TimerHandle | None = None
        self.closed = False
        self.refusals = _RateLimitedLog(first=5)  # a peer sending only bad messages must not flood the log

    # ------------------------------------------------------------------ asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if not self.server.admit(self, peer[0] if isinstance(peer, tuple) else None):
            self.closed = True
            self.state = fsm.STA_CLOSED
            transport.abort()
            return
        transport.set_write_buffer_limits(high=64 * 1024)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:  # acknowledgements are small: a fixed kernel buffer, not one autotuned up to megabytes per peer
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            except OSError:
                pass
        self.machine.handle("Evt1")

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_activity = time.monotonic()
        handle = self.machine.handle
        for ev in self.scanner.feed(data):
            if self.closed:
                return
            if isinstance(ev, Block):
                handle("Evt4", ev)
            elif isinstance(ev, Start):
                handle("Evt2")
            elif isinstance(ev, Junk):
                handle("Evt3", ev.size)
            elif isinstance(ev, Oversize):
                handle("Evt5", ev)
            elif isinstance(ev, DiscardEnd):
                handle("Evt6", ev.size)

    def eof_received(self) -> bool:
        if not self.closed:
            self.machine.handle("Evt10")  # closes once the acknowledgements already due are written
        return True  # keep the write side open until then

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.machine.handle("Evt10")
        self._cancel_timers()
        self.server.forget(self)

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._pause_reading()
        loop = asyncio.get_running_loop()
        self._write_handle = loop.call_later(self.server.config.write_timeout, self._write_stalled)

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self._write_handle is not None:
            self._write_handle.cancel()
            self._write_handle = None
        if len(self.inbox) < self.server.config.max_inflight:
            self._resume_reading()

    # ------------------------------------------------------------------ actions used by fsm
    def start_idle_timer(self) -> None:
        if self._idle_handle is None and not self.closed:
            loop = asyncio.get_running_loop()
            self._idle_handle = loop.call_later(self.server.config.idle_timeout, self._idle_check)

    def stop_idle_timer(self) -> None:
        pass  # the idle timer checks `last_activity` when it fires: no per-block cancel/re-arm

    def start_block_timer(self) -> None:
        self.block_serial += 1
        self.block_started = time.monotonic()
        if self._block_handle is not None:
            self._block_handle.cancel()
        loop = asyncio.get_running_loop()
        self._block_handle = loop.call_later(self.server.config.frame_timeout, self._block_check,
                                             self.block_serial)

    def stop_block_timer(self) -> None:
        if self._block_handle is not None:
            self._block_handle.cancel()
            self._block_handle = None

    def note_junk(self, size: int) -> None:
        self.junk += size
        if self.junk == size:  # first time on this connection
            log.warning("mllp %s #%d: %d byte(s) outside an MLLP block discarded (expected <SB> 0x0B)",
                        self.peer, self.number, size)

    def note_restart(self) -> None:
        held = self.scanner.buffered
        log.warning("mllp %s #%d: <SB> inside an open block; the incomplete block was dropped, never "
                    "acknowledged (%s bytes)", self.peer, self.number, held)

    def note_discarded(self, size: int) -> None:
        log.warning("mllp %s #%d: oversized block of %d bytes discarded (limit %d)", self.peer, self.number,
                    size, self.server.config.max_frame)

    def deliver(self, block: Block) -> None:
        self.messages += 1
        self.inbox.append(block.payload)
        if self.pump is None:
            self.pump = asyncio.get_running_loop().create_task(self._pump())
        if len(self.inbox) >= self.server.config.max_inflight:
            self._pause_reading()

    def refuse_oversize(self, ev: Oversize) -> None:
        self.start_block_timer()  # the rest of the block must arrive in time too
        limit = ev.limit
        try:
            header = read_header(ev.head)
        except InteropError:
            header = None
        err = AckError("207", f"message larger than this receiver's limit of {limit} bytes; not stored", "MSH")
        log.warning("mllp %s #%d: block larger than %d bytes refused (AR 207)%s", self.peer, self.number, limit,
                    f", control id {header.control_id!r}" if header else ", no MSH")
        code = reply_code(header, "AR")
        if header is not None and code:
            self._queue_ack(build_ack(header, code, (err,)))

    def send_block(self, payload: bytes) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(frame(payload))

    def close(self, why: str, level: str = "info") -> None:
        if self.closed:
            return
        self.closed = True
        getattr(log, level)("mllp %s #%d: closed: %s (%d message(s))", self.peer, self.number, why, self.messages)
        self._cancel_timers()
        if self.transport is not None:
            if self.pump is not None and not self.pump.done():
                self.pump.add_done_callback(lambda _t: self.transport.close() if self.transport else None)
            else:
                self.transport.close()

    def abort(self, why: str) -> None:
        if self.closed:
            return
        self.closed = True
        log.warning("mllp %s #%d: aborted: %s", self.peer, self.number, why)
        self._cancel_timers()
        if self.pump is not None:
            self.pump.cancel()
        if self.transport is not None:
            self.transport.abort()

    # ------------------------------------------------------------------ internals
    def is_idle(self) -> bool:
        """Between blocks, nothing waiting to be acknowledged."""
        return self.state == fsm.STA_AWAITING and not self.inbox and self.pump is None and not self.closed

    def _idle_check(self) -> None:
        self._idle_handle = None
        if self.closed:
            return
        timeout = self.server.config.idle_timeout
        quiet = time.monotonic() - self.last_activity
        if quiet >= timeout and self.is_idle():
            self.machine.handle("Evt8", quiet)
        else:
            loop = asyncio.get_running_loop()
            self._idle_handle = loop.call_later(max(0.05, timeout - quiet), self._idle_check)

    def _block_check(self, serial: int) -> None:
        self._block_handle = None
        if not self.closed and serial == self.block_serial and self.scanner.in_block:
            self.machine.handle("Evt9")

    def _write_stalled(self) -> None:
        self._write_handle = None
        if self.writing_paused and not self.closed:
            self.machine.handle("Evt11")

    def _pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

    def _cancel_timers(self) -> None:
        for h in (self._idle_handle, self._block_handle, self._write_handle):
            if h is not None:
                h.cancel()
        self._idle_handle = self._block_handle = self._write_handle = None

    def _queue_ack(self, ack: bytes) -> None:
        self.machine.handle("Evt7", ack)

    async def _pump(self) -> None:
        """Handle received messages in order: inspect, store (group commit), acknowledge."""
        engine = self.server.engine
        try:
            while self.inbox:
                batch = list(self.inbox)
                self.inbox.clear()
                if not self.writing_paused:
                    self._resume_reading()
                # every message of every block is submitted before any is awaited: one group commit
                received: list[tuple[object, object]] = []
                for p in batch:
                    if is_batch(p):  # an HL7 batch in one block: each message as if alone, one batch answer
                        bv = inspect_batch(p, self.peer)
                        received.append((bv, [engine.submit_async(v.item) if v.item is not None else None
                                              for v in bv.verdicts]))
                    else:
                        v = inspect(p, self.peer)
                        received.append((v, engine.submit_async(v.item) if v.item is not None else None))
                for verdict, fut in received:
                    if isinstance(verdict, BatchVerdict):
                        ack = await self._answer_batch(verdict, fut)
                    else:
                        ack = await self._answer(verdict, fut)
                    if ack is not None:
                        self._queue_ack(ack)
        finally:
            self.pump = None
            self.last_activity = time.monotonic()

    async def _answer_batch(self, bv: BatchVerdict, futures: list) -> bytes:
        """The batch acknowledgement: each message answered as `_answer` would (once it is durable), in one
        batch block; a batch whose FHS/BHS cannot be read is refused whole (its BTS-2 says why)."""
        acks = []
        for v, fut in zip(bv.verdicts, futures, strict=True):
            ack = await self._answer(v, fut)
            if ack is not None:
                acks.append(ack)
        h = bv.header
        accepted = sum(1 for v in bv.verdicts if v.item is not None)
        if h is None:
            e = bv.errors[0]
            self.refusals(logging.WARNING, "mllp %s #%d: batch refused, %s: %s %s", self.peer, self.number,
                          e.location, e.code, ERROR_CODES.get(e.code, ""))
            return build_batch_ack(DEFAULT, None, (), [], errors=bv.errors)
        comment = bv.comment
        log.info("mllp %s #%d: batch of %d messages, %d accepted%s", self.peer, self.number, len(bv.verdicts),
                 accepted, f" ({comment})" if comment else "")
        return build_batch_ack(h.delimiters, h.file, h.batch, acks, comment=comment)

    async def _answer(self, v, fut) -> bytes | None:
        header = v.header
        if v.is_ack:
            log.info("mllp %s #%d: an acknowledgement was received (control id %r); acknowledgements are not "
                     "answered", self.peer, self.number, header.control_id if header else "")
            return None
        if fut is None:
            e = v.errors[0]
            code = reply_code(header, v.code)
            self.refusals(logging.WARNING, "mllp %s #%d: %s, %s: %s %s (control id %r)", self.peer, self.number,
                          f"{code} sent" if code else f"{v.code} (no acknowledgement asked for)", e.location, e.code,
                          ERROR_CODES.get(e.code, ""), header.control_id if header else None)
            return build_reply(header, code, v.errors, ora_r41=self.server.config.ora_r41) if code else None
        try:
            receipt = await fut
        except TransportError as exc:
            log.error("mllp %s #%d: message not stored (%s); AE 207 sent (control id %r)", self.peer, self.number,
                      exc, header.control_id if header else None)
            err = AckError("207", "message could not be stored; send it again later", "MSH")
            code = reply_code(header, "AE")
            return build_reply(header, code, (err,), ora_r41=self.server.config.ora_r41) if code else None
        if receipt.duplicate:
            log.info("mllp %s #%d: duplicate of stored row %d (sender %r, control id %r): acknowledged, not stored "
                     "again", self.peer, self.number, receipt.id, header.sender, header.control_id)
        elif receipt.reused_key:
            log.warning("mllp %s #%d: control id %r of sender %r reused with different content; stored as row %d",
                        self.peer, self.number, header.control_id, header.sender, receipt.id)
        self.server.acknowledged += 1
        code = reply_code(header, "AA")
        return build_reply(header, code, ora_r41=self.server.config.ora_r41) if code else None


class MllpServer:
    """The listening socket and its sessions; messages go to `engine` (a ForwardEngine).

    `session_class` builds each connection's protocol object: a subclass of `MllpSession` may observe
    what crosses the wire (the conformance endpoint records messages and acknowledgements that way)."""

    session_class: type[MllpSession] = MllpSession

    def __init__(self, config: MllpConfig, engine, *, keep_history: bool = False) -> None:
        self.config = config
        self.engine = engine
        self.keep_history = keep_history
        self.sessions: set[MllpSession] = set()
        self.port: int | None = None
        self.acknowledged = 0
        self.refused = 0  # connections refused (allow-list, limit)
        self.evicted = 0  # idle connections closed to make room
        self._counter = 0
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._refused = _RateLimitedLog()
        self._stopped: asyncio.Event | None = None
        self.ssl = (server_tls_context(config.tls_cert, config.tls_key, config.tls_ca)
                    if config.tls_cert is not None and config.tls_key is not None else None)

    # ------------------------------------------------------------------ admission
    def admit(self, session: MllpSession, address: str | None) -> bool:
        """Allow-list and connection limit for a new session; logs what it refuses."""
        cfg = self.config
        if cfg.networks:
            try:
                ip = ipaddress.ip_address(address or "")
            except ValueError:
                ip = None
            if ip is None or not any(ip in n for n in cfg.networks):
                self.refused += 1
                self._refused(logging.WARNING, "mllp %s: refused, address not in --allow", session.peer)
                return False
        if len(self.sessions) >= cfg.max_connections:
            now = time.monotonic()
            idle = [s for s in self.sessions if s.is_idle() and now - s.last_activity >= cfg.evict_after]
            if not idle:
                self.refused += 1
                self._refused(logging.WARNING, "mllp %s: refused, connection limit (%d) reached and no connection "
                              "is idle", session.peer, cfg.max_connections)
                return False
            victim = min(idle, key=lambda s: s.last_activity)
            self.evicted += 1
            self._refused(logging.WARNING, "mllp: connection limit (%d) reached: closing %s #%d, idle %.0f s, to "
                          "admit %s", cfg.max_connections, victim.peer, victim.number, now - victim.last_activity,
                          session.peer)
            victim.machine.handle("Evt8", "closed to make room (connection limit)")
            self.sessions.discard(victim)
        self._counter += 1
        session.number = self._counter
        self.sessions.add(session)
        log.info("mllp %s #%d: connected", session.peer, session.number)
        return True

    def forget(self, session: MllpSession) -> None:
        self.sessions.discard(session)

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> int:
        """Listen; returns the port."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopped = asyncio.Event()
        try:
            self._server = await loop.create_server(
                lambda: self.session_class(self), self.config.host, self.config.port, ssl=self.ssl,
                ssl_handshake_timeout=self.config.tls_handshake_timeout if self.ssl else None,
                backlog=self.config.backlog, reuse_address=True)
        except OSError as exc:
            raise TransportError(f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        """Stop listening, close every session (after the acknowledgements already due)."""
        if self._server is not None:
            self._server.close()
        for s in list(self.sessions):
            s.machine.handle("Evt12")
        pumps = [s.pump for s in self.sessions if s.pump is not None]
        if pumps:
            await asyncio.wait(pumps, timeout=5)
        if self._stopped is not None:
            self._stopped.set()

    async def serve(self, on_started: Callable[[int], None] | None = None) -> None:
        """Listen until `request_stop` (or `close`)."""
        port = await self.open()
        if on_started is not None:
            on_started(port)
        assert self._stopped is not None
        await self._stopped.wait()

    def request_stop(self) -> None:
        """Stop serving; safe from signal handlers and other threads."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: loop.create_task(self.close()))

    def start(self) -> int:
        """Serve in a background thread (tests, embedding); returns the port."""
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                try:
                    await self.open()
                except BaseException as exc:
                    errors.append(exc)
                    started.set()
                    return
                started.set()
                assert self._stopped is not None
                await self._stopped.wait()

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="mllp-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        assert self.port is not None
        return self.port

    def stop(self) -> None:
        """Stop a server started with `start` and wait for its thread."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(10)
