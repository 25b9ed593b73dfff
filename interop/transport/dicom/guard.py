"""Admission control for the DICOM node: connection limit with eviction, deadline on every PDU.

pynetdicom's acceptor has one limit (`maximum_associations`, checked only once the A-ASSOCIATE-RQ
has been read) and one per-`recv` timeout (`network_timeout`): eleven peers that send half a PDU,
or trickle one byte per timeout, hold every slot and everybody else is rejected. This module adds,
around pynetdicom's own server:

- a `ConnectionTable` (see `interop.transport.limits`) consulted when the TCP connection is accepted,
  which evicts the most stalled connection (no A-ASSOCIATE-RQ yet, or mid-PDU, then idle) to make
  room, and refuses a newcomer only when every connection is making progress;
- a deadline on each PDU: once its first byte arrived, the whole PDU must arrive within
  `pdu_timeout` seconds whatever the trickle rate, and its length must not exceed `max_pdu_length`;
- a refusal that follows the protocol: the A-ASSOCIATE-RQ is read (under the same deadline) and
  answered with A-ASSOCIATE-RJ, rejected-transient, service-provider (presentation),
  local-limit-exceeded (PS3.8 9.3.4), then the connection is closed.

pynetdicom's reading loop (`AssociationSocket.recv`) is replaced on each accepted socket because it
has no notion of a deadline spanning several `recv` calls; everything else stays pynetdicom's.
"""

from __future__ import annotations

import copy
import logging
import select
import socket
import ssl
import struct
import threading
import time
from typing import Any

from interop.transport.limits import IDLE, OPENING, PARTIAL, Connection, ConnectionTable

from . import dimse, reactor

log = logging.getLogger("interop.dicom")

A_ASSOCIATE_RQ = 0x01
PDU_TYPES = frozenset(range(0x01, 0x08))
# A-ASSOCIATE-RJ: type 03, reserved, length 4, reserved, result 2 (rejected-transient),
# source 3 (service-provider, presentation related), reason 2 (local-limit-exceeded); PS3.8 Table 9-21
REJECT_LOCAL_LIMIT = bytes([0x03, 0x00, 0, 0, 0, 4, 0x00, 0x02, 0x03, 0x02])
MAX_REFUSERS = 32  # threads answering refused connections at once; beyond that they are just closed
# pynetdicom's DUL thread polls its queues every millisecond (`_run_loop_delay`) even before the peer
# has sent anything: 256 silent connections would keep both cores busy. Until the A-ASSOCIATE-RQ has
# arrived the poll runs every 50 ms (it only has the ARTIM timer to watch); then at pynetdicom's pace.
OPENING_LOOP_DELAY = 0.05


class SharedContexts(list):
    """The server's supported presentation contexts, copied shallowly for each association.

    pynetdicom deep-copies the server's contexts for every association it accepts; with every storage
    SOP class (about 170 contexts of up to 15 transfer syntaxes) that alone costs about 5 ms of CPU
    per association, a tenth of a 200-association burst's budget. Negotiation only reads them.
    """

    def __deepcopy__(self, memo: dict) -> list:
        return [copy.copy(cx) for cx in self]


class PduDeadline(TimeoutError):
    """A PDU did not arrive completely in time, or announced a length beyond the limit."""


def peer_of(address: Any) -> str:
    """'host:port' of a socket address."""
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _wait_readable(sock: socket.socket, deadline: float) -> None:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise PduDeadline("PDU deadline passed")
    ready, _, _ = select.select([sock], [], [], remaining)
    if not ready:
        raise PduDeadline("PDU deadline passed")


def read_exact(sock: socket.socket, n: int, deadline: float) -> bytearray:
    """Read `n` bytes before `deadline` (monotonic); fewer if the peer closed; PduDeadline if late."""
    buf = bytearray()
    while len(buf) < n:
        _wait_readable(sock, deadline)
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            break
        buf += chunk
    return buf


class GuardedReader:
    """Replaces `AssociationSocket.recv`: one deadline per PDU, a length limit, phases for the table."""

    def __init__(self, asock: Any, conn: Connection, table: ConnectionTable, pdu_timeout: float,
                 max_pdu_length: int, dul: Any = None, loop_delay: float = 0.001) -> None:
        self.asock, self.conn, self.table = asock, conn, table
        self.dul, self.loop_delay = dul, loop_delay
        self.pdu_timeout, self.max_pdu_length = pdu_timeout, max_pdu_length
        self._deadline: float | None = None  # set while a PDU is being read
        self._type = 0

    def recv(self, nr_bytes: int) -> bytearray:
        raw = self.asock.socket
        if self._deadline is None:  # pynetdicom reads the 6-byte header first, then the rest
            self._deadline = time.monotonic() + self.pdu_timeout
            if self.conn.phase != OPENING:
                self.table.phase(self.conn, PARTIAL)
            header = True
        else:
            header = False
        try:
            data = read_exact(raw, nr_bytes, self._deadline)
        except PduDeadline:
            self._deadline = None
            log.warning("DICOM peer %s: PDU not complete within %.0f s (%s); connection closed",
                        self.conn.peer, self.pdu_timeout, "no association yet" if self.conn.phase == OPENING
                        else "mid-PDU")
            _shutdown(raw)
            raise
        if header and len(data) == 6:
            pdu_type, _, length = struct.unpack(">BBL", data)
            if pdu_type in PDU_TYPES and length > self.max_pdu_length:
                self._deadline = None
                log.warning("DICOM peer %s: PDU of %d bytes announced, limit %d; connection closed",
                            self.conn.peer, length, self.max_pdu_length)
                _shutdown(raw)
                raise PduDeadline("PDU too long")
            if pdu_type in PDU_TYPES and length:
                self._type = pdu_type
                return data  # the body follows under the same deadline
        self._deadline = None
        if not header and self._type == A_ASSOCIATE_RQ or self.conn.phase != OPENING:
            if self.conn.phase == OPENING and self.dul is not None:
                self.dul._run_loop_delay = self.loop_delay  # noqa: SLF001 - associating: pynetdicom's own pace
            self.table.phase(self.conn, IDLE)
        return data


def make_server_class(table: ConnectionTable, pdu_timeout: float, max_pdu_length: int) -> type:
    """A pynetdicom ThreadedAssociationServer subclass that applies `table` when accepting."""
    from pynetdicom.transport import ThreadedAssociationServer

    class GuardedServer(ThreadedAssociationServer):
        daemon_threads = True
        request_queue_size = 512  # listen backlog: a burst of connections is queued, not dropped at SYN
        block_on_close = False  # shutting down does not wait for stalled peers' PDU deadlines

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.contexts = SharedContexts(self.contexts)
            self.guard_table = table
            self._accepted: dict[int, Connection] = {}
            self._by_assoc: dict[int, Connection] = {}
            self._refusers = threading.BoundedSemaphore(MAX_REFUSERS)
            self._glock = threading.Lock()

        def process_request(self, request: Any, client_address: Any) -> None:
            conn = Connection(peer=peer_of(client_address), close=lambda: _shutdown(request))
            if not table.admit(conn):
                self._refuse(request, conn.peer)
                return
            with self._glock:
                self._accepted[id(request)] = conn
            super().process_request(request, client_address)

        def _refuse(self, request: socket.socket, peer: str) -> None:
            if not self._refusers.acquire(blocking=False):
                self.shutdown_request(request)
                return

            def answer() -> None:
                try:
                    deadline = time.monotonic() + min(pdu_timeout, 5.0)
                    head = read_exact(request, 6, deadline)
                    if len(head) == 6 and head[0] == A_ASSOCIATE_RQ:
                        length = struct.unpack(">L", head[2:6])[0]
                        if length <= max_pdu_length:
                            read_exact(request, length, deadline)
                            request.sendall(REJECT_LOCAL_LIMIT)
                            log.info("DICOM peer %s: A-ASSOCIATE-RJ (transient, local-limit-exceeded)", peer)
                except (OSError, PduDeadline):
                    pass
                finally:
                    self.shutdown_request(request)
                    self._refusers.release()

            threading.Thread(target=answer, name="interop-dicom-refuse", daemon=True).start()

        # -- called from the node's event handlers

        def attach(self, assoc: Any) -> Connection | None:
            """EVT_CONN_OPEN: hook the reader of `assoc`'s socket; returns its table entry."""
            asock = assoc.dul.socket
            with self._glock:
                conn = self._accepted.pop(id(asock.socket), None)
                if conn is None:
                    return None
                self._by_assoc[id(assoc)] = conn
            dul = assoc.dul
            if reactor.install(assoc):  # the DUL sleeps until data or work arrives, whatever the phase
                reader = GuardedReader(asock, conn, table, pdu_timeout, max_pdu_length)
            else:  # pynetdicom's polling: slowed down until the A-ASSOCIATE-RQ has arrived
                reader = GuardedReader(asock, conn, table, pdu_timeout, max_pdu_length, dul,
                                       getattr(dul, "_run_loop_delay", 0.001))
                if hasattr(dul, "_run_loop_delay"):
                    dul._run_loop_delay = OPENING_LOOP_DELAY  # noqa: SLF001 - see OPENING_LOOP_DELAY
            asock.recv = reader.recv
            dimse.install(assoc)  # plain C-STORE-RSPs written directly
            return conn

        def connection(self, assoc: Any) -> Connection | None:
            with self._glock:
                return self._by_assoc.get(id(assoc))

        def detach(self, assoc: Any) -> None:
            """EVT_CONN_CLOSE: forget the connection."""
            with self._glock:
                conn = self._by_assoc.pop(id(assoc), None)
            if conn is not None:
                table.remove(conn)
            reactor.release(assoc)

    return GuardedServer
