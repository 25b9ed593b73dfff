"""The MLLP session state machine (receiving side), in the manner of pynetdicom's `fsm.py`.

MLLP (HL7 Transport Specification, MLLP Release 2) defines the block format and that the receiver
answers each message in the order received; it names no states. The states and events below are
the receiver's view of that protocol, plus the per-connection limits a server needs (block size,
partial-block and idle timers, a peer that does not read its acknowledgements). Each action is one
small function whose docstring gives the event, the action and the next state; the table is what a
reviewer checks line by line; `Machine.handle` is a lookup and a call.

States
    Sta1  awaiting a block: connected, between messages (idle timer running)
    Sta2  receiving a block: <SB> read, waiting for <EB><CR> (partial-block timer running)
    Sta3  discarding an oversized block until its <EB>
    Sta4  closed

Events
    Evt1  connection accepted (after the allow-list and connection-limit checks)
    Evt2  <SB> read
    Evt3  bytes outside a block (neither <SB> nor white space)
    Evt4  <EB> read: a block is complete (its message goes to the application, in order)
    Evt5  the block passed the size limit
    Evt6  end of a discarded block
    Evt7  acknowledgement ready (the application committed or refused the message)
    Evt8  idle timer expired
    Evt9  partial-block timer expired (a half frame, then silence)
    Evt10 peer closed the connection (or it broke)
    Evt11 write stalled: the peer has not read its acknowledgements within the write timeout
    Evt12 server stopping
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import MllpSession

STA_AWAITING, STA_RECEIVING, STA_DISCARDING, STA_CLOSED = "Sta1", "Sta2", "Sta3", "Sta4"
STATES = {
    STA_AWAITING: "awaiting a block",
    STA_RECEIVING: "receiving a block",
    STA_DISCARDING: "discarding an oversized block",
    STA_CLOSED: "closed",
}
EVENTS = {
    "Evt1": "connection accepted",
    "Evt2": "start block <SB> read",
    "Evt3": "bytes outside a block",
    "Evt4": "block complete (<EB><CR>)",
    "Evt5": "block larger than the size limit",
    "Evt6": "end of a discarded block",
    "Evt7": "acknowledgement ready",
    "Evt8": "idle timer expired",
    "Evt9": "partial-block timer expired",
    "Evt10": "peer closed the connection",
    "Evt11": "peer does not read its acknowledgements",
    "Evt12": "server stopping",
}


def MLLP_1(s: MllpSession, arg: Any) -> str:
    """Evt1 connection accepted: start the idle timer. Next Sta1."""
    s.start_idle_timer()
    return STA_AWAITING


def MLLP_2(s: MllpSession, arg: Any) -> str:
    """Evt2 <SB> read while awaiting a block: stop the idle timer, start the partial-block timer. Next Sta2."""
    s.stop_idle_timer()
    s.start_block_timer()
    return STA_RECEIVING


def MLLP_3(s: MllpSession, arg: Any) -> str:
    """Evt3 bytes outside a block: discard them (not a message, nothing to acknowledge); count and log
    once per connection. Next Sta1."""
    s.note_junk(arg)
    return STA_AWAITING


def MLLP_4(s: MllpSession, arg: Any) -> str:
    """Evt4 block complete: stop the partial-block timer, hand the message to the application (its
    acknowledgement is sent in arrival order), restart the idle timer. Next Sta1."""
    s.stop_block_timer()
    s.deliver(arg)
    s.start_idle_timer()
    return STA_AWAITING


def MLLP_5(s: MllpSession, arg: Any) -> str:
    """Evt5 block larger than the limit: answer AR (table 0357 code 207) when its first bytes hold an
    MSH, else nothing; discard the rest of the block. Next Sta3."""
    s.refuse_oversize(arg)
    return STA_DISCARDING


def MLLP_6(s: MllpSession, arg: Any) -> str:
    """Evt6 end of a discarded block: log its size, restart the idle timer. Next Sta1."""
    s.stop_block_timer()
    s.note_discarded(arg)
    s.start_idle_timer()
    return STA_AWAITING


def MLLP_7(s: MllpSession, arg: Any) -> str:
    """Evt7 acknowledgement ready: send it as one block (also while a graceful close waits for the
    acknowledgements already due; not after an abort). Next: the same state."""
    s.send_block(arg)
    return s.state


def MLLP_8(s: MllpSession, arg: Any) -> str:
    """Evt8 idle timer expired (or the connection was the idlest when the limit was reached): close. Next Sta4."""
    s.close(f"idle for {arg:.0f} s" if isinstance(arg, int | float) else str(arg or "idle"))
    return STA_CLOSED


def MLLP_9(s: MllpSession, arg: Any) -> str:
    """Evt9 partial-block timer expired: the block is incomplete and is never acknowledged; close. Next Sta4."""
    s.close(f"block incomplete after {s.server.config.frame_timeout:.0f} s ({s.scanner.buffered} bytes, no <EB>)",
            level="warning")
    return STA_CLOSED


def MLLP_10(s: MllpSession, arg: Any) -> str:
    """Evt10 peer closed: drop a partial block (it was never acknowledged). Next Sta4."""
    held = s.scanner.reset()
    s.close("peer closed" + (f"; {held} bytes of an incomplete block dropped (never acknowledged)" if held else ""),
            level="warning" if held else "info")
    return STA_CLOSED


def MLLP_11(s: MllpSession, arg: Any) -> str:
    """Evt11 the peer does not read its acknowledgements: abort the connection. Next Sta4."""
    s.abort(f"peer has not read its acknowledgements for {s.server.config.write_timeout:.0f} s")
    return STA_CLOSED


def MLLP_12(s: MllpSession, arg: Any) -> str:
    """Evt12 server stopping: close after the acknowledgements already due. Next Sta4."""
    s.close("server stopping")
    return STA_CLOSED


def MLLP_13(s: MllpSession, arg: Any) -> str:
    """Evt2 <SB> read inside a block: the open block had no <EB>; drop it (never acknowledged, logged)
    and start the new one. Next Sta2."""
    s.note_restart()
    s.start_block_timer()
    return STA_RECEIVING


def MLLP_14(s: MllpSession, arg: Any) -> str:
    """Any event once closed: ignore. Next Sta4."""
    return STA_CLOSED


Action = Callable[["MllpSession", Any], str]

TRANSITION_TABLE: dict[tuple[str, str], Action] = {
    ("Evt1", STA_AWAITING): MLLP_1,
    ("Evt2", STA_AWAITING): MLLP_2,
    ("Evt2", STA_RECEIVING): MLLP_13,
    ("Evt3", STA_AWAITING): MLLP_3,
    ("Evt4", STA_RECEIVING): MLLP_4,
    ("Evt5", STA_RECEIVING): MLLP_5,
    ("Evt6", STA_DISCARDING): MLLP_6,
    ("Evt7", STA_AWAITING): MLLP_7,
    ("Evt7", STA_RECEIVING): MLLP_7,
    ("Evt7", STA_DISCARDING): MLLP_7,
    ("Evt8", STA_AWAITING): MLLP_8,
    ("Evt9", STA_RECEIVING): MLLP_9,
    ("Evt9", STA_DISCARDING): MLLP_9,
    ("Evt10", STA_AWAITING): MLLP_10,
    ("Evt10", STA_RECEIVING): MLLP_10,
    ("Evt10", STA_DISCARDING): MLLP_10,
    ("Evt11", STA_AWAITING): MLLP_11,
    ("Evt11", STA_RECEIVING): MLLP_11,
    ("Evt11", STA_DISCARDING): MLLP_11,
    ("Evt12", STA_AWAITING): MLLP_12,
    ("Evt12", STA_RECEIVING): MLLP_12,
    ("Evt12", STA_DISCARDING): MLLP_12,
    **{(f"Evt{n}", STA_CLOSED): MLLP_14 for n in range(1, 13) if n != 7},
    ("Evt7", STA_CLOSED): MLLP_7,
}


class InvalidTransition(Exception):
    """An event that the table has no row for in the current state (a bug, never the peer's input)."""


class Machine:
    """Looks the (event, state) pair up in TRANSITION_TABLE and runs the action."""

    __slots__ = ("session", "history")

    def __init__(self, session: MllpSession, keep_history: bool = False) -> None:
        self.session = session
        self.history: list[tuple[str, str, str]] | None = [] if keep_history else None

    def handle(self, event: str, arg: Any = None) -> None:
        """Run the action for `event` in the session's current state and move to the state it returns."""
        s = self.session
        action = TRANSITION_TABLE.get((event, s.state))
        if action is None:
            raise InvalidTransition(f"no transition for {event} in {s.state}")
        new = action(s, arg)
        if self.history is not None:
            self.history.append((s.state, event, new))
        s.state = new
