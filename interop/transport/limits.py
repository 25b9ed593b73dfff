"""Connection limits that slow or half-open peers cannot exhaust (the slowloris family).

A listener keeps one `ConnectionTable`. Every accepted connection is registered with `admit()`; the
protocol reader reports where the connection stands with `phase()`:

- `OPENING`: connected, the association (A-ASSOCIATE-RQ, AARQ) not yet received;
- `PARTIAL`: the first bytes of a PDU/APDU arrived, the rest has not;
- `IDLE`: associated, waiting for the next PDU/APDU.

A connection whose request the server itself is working on (`busy` > 0: storing, answering) is
never evicted.

Timeouts alone do not protect a listener: with a limit of N and a timeout of T, N+1 connections that
each trickle a byte per T seconds shut everybody else out. So when the table is full, `admit()`
evicts the connection that has been stalled longest (opening or mid-PDU first, then idle), provided
it has been stalled for at least `grace` seconds; only when every connection is making progress is
the newcomer refused, and the listener logs one clear line saying so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

OPENING, PARTIAL, IDLE = "opening", "partial", "idle"
_EVICT_ORDER = {OPENING: 0, PARTIAL: 0, IDLE: 1}  # lower is evicted first

DEFAULT_GRACE = 2.0  # seconds a connection may be stalled before it can be evicted at the limit


@dataclass(eq=False)
class Connection:
    """One accepted connection as the table sees it."""

    peer: str
    close: Callable[[], None]  # closes the transport (called at most once, from any thread)
    opened: float = field(default_factory=time.monotonic)
    phase: str = OPENING
    since: float = field(default_factory=time.monotonic)  # when the current phase began
    evicted: str | None = None  # why it was closed by the table
    busy: int = 0  # requests the server is working on for this connection (never evicted while > 0)

    def stalled(self, now: float) -> float:
        """Seconds without progress: since connecting while opening, since the phase began otherwise."""
        return now - (self.opened if self.phase == OPENING else self.since)


class ConnectionTable:
    """Bounded set of live connections with eviction of stalled ones; thread safe."""

    def __init__(self, limit: int, *, grace: float = DEFAULT_GRACE, name: str = "listener",
                 logger: logging.Logger | None = None) -> None:
        if limit < 1:
            raise ValueError("connection limit must be at least 1")
        self.limit = limit
        self.grace = grace
        self.name = name
        self.log = logger or logging.getLogger("interop.transport")
        self._live: set[Connection] = set()
        self._lock = threading.Lock()
        self.evictions = 0
        self.refusals = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    def admit(self, conn: Connection) -> bool:
        """Register `conn`; at the limit evict the most stalled connection first. False = refuse `conn`."""
        victim: Connection | None = None
        with self._lock:
            if len(self._live) >= self.limit:
                victim = self._victim(time.monotonic())
                if victim is None:
                    self.refusals += 1
                    count = len(self._live)
                else:
                    self._live.discard(victim)
                    self.evictions += 1
            if victim is not None or len(self._live) < self.limit:
                self._live.add(conn)
                admitted = True
            else:
                admitted = False
        if victim is not None:
            now = time.monotonic()
            victim.evicted = f"{victim.phase} for {victim.stalled(now):.1f} s"
            self.log.warning("%s: at its limit of %d connections; closed %s (stalled: %s) to admit %s",
                             self.name, self.limit, victim.peer, victim.evicted, conn.peer)
            _close(victim)
        elif not admitted:
            self.log.warning("%s: connection limit reached (%d/%d, all making progress); refusing %s",
                             self.name, count, self.limit, conn.peer)
        return admitted

    def phase(self, conn: Connection, phase: str) -> None:
        """Record that `conn` entered `phase` (only a change of phase restarts its clock)."""
        if conn.phase != phase:
            conn.phase = phase
            conn.since = time.monotonic()

    def remove(self, conn: Connection) -> None:
        """Forget `conn` (its transport closed)."""
        with self._lock:
            self._live.discard(conn)

    def close_all(self) -> None:
        """Close every live connection (at shutdown)."""
        with self._lock:
            live, self._live = list(self._live), set()
        for conn in live:
            _close(conn)

    def _victim(self, now: float) -> Connection | None:
        candidates = [c for c in self._live
                      if not c.busy and c.phase in _EVICT_ORDER and c.stalled(now) >= self.grace]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (_EVICT_ORDER[c.phase], -c.stalled(now)))


def _close(conn: Connection) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a dead transport must not break admission
        pass
