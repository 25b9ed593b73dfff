"""Event-driven wake-ups for pynetdicom's two per-association reactors (the node's C-STORE round trip).

pynetdicom 3.0 runs two threads per association, and both poll:

- the DUL reactor (`DULServiceProvider.run_reactor`) sleeps `_run_loop_delay` (1 ms) whenever a
  loop found nothing to do, then looks at its queue of primitives to send and, with a select of
  timeout 0, at the socket (`AssociationSocket.ready`);
- the association reactor (`Association._run_reactor`) sleeps 1 ms, then looks for a complete DIMSE
  message (`DIMSEServiceProvider.get_msg(block=False)`), a release or abort request.

A peer such as dcmtk's storescu sends one C-STORE and waits for its C-STORE-RSP before the next, so
every instance pays those polls: the request waits for both reactors to wake up, the response for
the DUL to wake up again. This module makes both wait on what they are waiting for instead, per
association, through hooks pynetdicom offers or tolerates (nothing in site-packages is changed):

- the association's socket becomes an `EventSocket` (a subclass of `AssociationSocket` whose
  `ready` blocks in `poll()` on the TCP socket and on a wake-up descriptor) and the DUL's loop delay
  is 0: the DUL sleeps in `ready` until data arrives, a primitive is queued to be sent, its ARTIM
  timer is due, or at most `MAX_WAIT`;
- the DUL's `to_provider_queue` signals that descriptor when a primitive is put on it (a response,
  an A-ASSOCIATE-AC, an A-ABORT);
- `dimse.get_msg(block=False)` waits on an event set when a DIMSE message or an A-RELEASE/A-ABORT
  primitive is queued for the association (`dimse.msg_queue`, `dul.to_user_queue`), or until its
  idle timer is due, or at most `MAX_WAIT`.

`compatible()` checks that pynetdicom still has every attribute and call this module and `dimse.py`
rely on; when it does not, `install` (and `dimse.install`) leave the association to pynetdicom's
polling and codecs, and the node logs it once at start.
`tests/dicom_net/test_reactor.py` fails loudly if an upgrade of pynetdicom changes any of it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import queue
import select
import ssl
import threading
import weakref
from typing import Any

MAX_WAIT = 0.5  # seconds either reactor sleeps at most without a wake-up (a safety net, not a poll)
_POLL_IN = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


class Wakeup:
    """A descriptor another thread makes readable (eventfd on Linux, a pipe elsewhere); thread safe.

    Once closed, `set()` does nothing: a late wake-up never writes into a descriptor number the
    kernel has handed to another connection since."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        if hasattr(os, "eventfd"):
            self._r = self._w = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        else:  # pragma: no cover - non-Linux
            self._r, self._w = os.pipe()
            os.set_blocking(self._r, False)
            os.set_blocking(self._w, False)

    def fileno(self) -> int:
        return self._r

    def set(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                if self._r == self._w:
                    os.eventfd_write(self._w, 1)
                else:  # pragma: no cover - non-Linux
                    os.write(self._w, b"\0")
            except (BlockingIOError, OSError):
                pass  # already signalled (counter or pipe full): the reader wakes up anyway

    def clear(self) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                if self._r == self._w:
                    os.eventfd_read(self._r)
                else:  # pragma: no cover - non-Linux
                    while os.read(self._r, 4096):
                        pass
            except (BlockingIOError, OSError):
                pass

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._r)
            if self._w != self._r:  # pragma: no cover - non-Linux
                os.close(self._w)


class NotifyingQueue(queue.Queue):
    """A `queue.Queue` that calls `notify()` after every put (any thread)."""

    def __init__(self, notify: Any) -> None:
        super().__init__()
        self._notify = notify

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self._notify()


def _event_socket_class() -> type:
    from pynetdicom.transport import AssociationSocket

    class EventSocket(AssociationSocket):
        """`AssociationSocket` whose `ready` waits for data instead of answering at once (see module doc)."""

        _interop_wakeup: Wakeup
        _interop_poll: Any

        @property
        def ready(self) -> bool:
            sock = self.socket
            if sock is None or self._is_connected is False:
                return False
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                return True  # decrypted bytes buffered in the SSL object: poll() cannot see them
            timeout = _dul_wait(self.assoc.dul)
            try:
                if self._interop_poll is None:
                    poller = select.poll()
                    poller.register(sock.fileno(), _POLL_IN)
                    poller.register(self._interop_wakeup.fileno(), select.POLLIN)
                    self._interop_poll = poller
                events = self._interop_poll.poll(timeout * 1000.0)
            except (OSError, TimeoutError, ValueError):
                self.event_queue.put("Evt17")  # as pynetdicom's own `ready`: transport connection closed
                return False
            ready = False
            for fd, _ in events:
                if fd == self._interop_wakeup.fileno():
                    self._interop_wakeup.clear()
                else:
                    ready = True
            return ready

    return EventSocket


def _artim_timer_class() -> type:
    from pynetdicom.timer import Timer

    class ArtimTimer(Timer):
        """pynetdicom's `Timer` for the DUL's ARTIM, except that a stopped timer never expires.

        pynetdicom's `Timer.expired` stays True for a timer stopped after its timeout (`remaining` is then
        computed from the stop time), and its DUL checks `artim_timer.expired` at the top of each loop. An
        A-ASSOCIATE-RQ that arrives within the ARTIM timeout but is read a moment later, when the timeout has
        passed, stops the timer (AE-6, Sta2 -> Sta3) too late: the next loop queues Evt18, which is invalid
        in Sta3, the state machine raises and the DUL thread dies without closing the connection (no A-ABORT,
        no EVT_CONN_CLOSE, the connection's slot never freed). The DUL here sleeps until data arrives or the
        ARTIM timeout is due, which is exactly when that happens. PS3.8 9.1.5: a stopped timer does not expire."""

        @property
        def expired(self) -> bool:
            if self._end_time is not None:
                return False
            return Timer.expired.fget(self)

    return ArtimTimer


_EVENT_SOCKET: type | None = None
_ARTIM_TIMER: type | None = None
_INCOMPATIBLE: str | None = None  # compatible()'s answer, asked once


def _dul_wait(dul: Any) -> float:
    """How long the DUL may sleep in `ready`: 0 when it has something else to do, else until its ARTIM
    timer is due, at most MAX_WAIT."""
    if dul._kill_thread or dul.to_provider_queue.qsize() or dul.event_queue.qsize():  # noqa: SLF001
        return 0.0
    if dul.state_machine.current_state == "Sta13":  # awaiting the transport close: pynetdicom checks, then closes
        return 0.0
    wait = MAX_WAIT
    artim = dul.artim_timer
    if artim.timeout is not None and artim._start_time is not None and artim._end_time is None:  # noqa: SLF001
        wait = min(wait, max(artim.remaining, 0.0))
    return wait


def _assoc_wait(assoc: Any) -> float:
    """How long the association reactor may wait for a message: until the idle (network) timer is due,
    at most MAX_WAIT."""
    timer = assoc.dul._idle_timer  # noqa: SLF001
    if timer.timeout is None:
        return MAX_WAIT
    return min(MAX_WAIT, max(timer.remaining, 0.0))


@functools.cache
def compatible() -> str | None:
    """None when pynetdicom's reactors are as this module expects; else what changed."""
    try:
        from pynetdicom import fsm
        from pynetdicom.association import Association
        from pynetdicom.dimse import DIMSEServiceProvider
        from pynetdicom.dul import DULServiceProvider
        from pynetdicom.timer import Timer
        from pynetdicom.transport import AssociationSocket

        checks = {
            "DULServiceProvider.run_reactor sleeps _run_loop_delay, then polls socket.ready":
                ("time.sleep(self._run_loop_delay)" in inspect.getsource(DULServiceProvider.run_reactor)
                 and "self.socket.ready" in inspect.getsource(DULServiceProvider._is_transport_event)),
            "DULServiceProvider sends what is put on to_provider_queue":
                "self.to_provider_queue.queue[0]" in inspect.getsource(DULServiceProvider._process_recv_primitive),
            "Association._run_reactor asks dimse.get_msg(block=False)":
                "self.dimse.get_msg(block=False)" in inspect.getsource(Association._run_reactor),
            "DIMSEServiceProvider.get_msg reads msg_queue":
                "self.msg_queue.get(" in inspect.getsource(DIMSEServiceProvider.get_msg),
            "AssociationSocket.ready is a property": isinstance(AssociationSocket.__dict__.get("ready"), property),
            # dimse.py: C-STORE-RQ read into a C_STORE and served on the DUL thread, C-STORE-RSP written directly
            "fsm hands P-DATA to dimse.receive_primitive, which queues (context id, primitive)":
                "dimse.receive_primitive(" in inspect.getsource(fsm.DT_2)
                and "self.msg_queue.put((context_id" in inspect.getsource(DIMSEServiceProvider.receive_primitive),
            "DIMSEServiceProvider.send_msg(primitive, context_id) sends P-DATA through dul.send_pdu":
                list(inspect.signature(DIMSEServiceProvider.send_msg).parameters) == ["self", "primitive", "context_id"]
                and "self.dul.send_pdu(" in inspect.getsource(DIMSEServiceProvider.send_msg),
            "Association._serve_request(msg, context_id), _accepted_cx, _sent_release":
                list(inspect.signature(Association._serve_request).parameters) == ["self", "msg", "context_id"]
                and all(f"self.{name}" in inspect.getsource(Association.__init__)
                        for name in ("_accepted_cx", "_sent_release")),
            "Timer keeps _start_time/_end_time": all(
                f"self.{name}" in inspect.getsource(Timer.__init__) for name in ("_start_time", "_end_time")),
        }
    except (ImportError, AttributeError, OSError, TypeError) as exc:
        return f"pynetdicom internals not found ({type(exc).__name__}: {exc})"
    missing = [what for what, ok in checks.items() if not ok]
    return "; ".join(missing) if missing else None


def install(assoc: Any) -> bool:
    """Make `assoc`'s reactors event-driven; call before `assoc.start()` (pynetdicom's EVT_CONN_OPEN).
    Returns False (pynetdicom's polling left in place) when the association does not look as expected."""
    global _EVENT_SOCKET, _ARTIM_TIMER, _INCOMPATIBLE
    if _INCOMPATIBLE is None:
        _INCOMPATIBLE = compatible() or ""
    if _INCOMPATIBLE:
        return False
    dul, dimse = assoc.dul, assoc.dimse
    asock = dul.socket
    try:
        from pynetdicom.transport import AssociationSocket

        if type(asock) is not AssociationSocket or not hasattr(dul, "_run_loop_delay"):
            return False
        if dul.to_provider_queue.qsize() or dul.to_user_queue.qsize() or dimse.msg_queue.qsize():
            return False  # already running: too late to swap its queues
    except AttributeError:
        return False
    if _EVENT_SOCKET is None:
        _EVENT_SOCKET = _event_socket_class()
        _ARTIM_TIMER = _artim_timer_class()
    from pynetdicom.timer import Timer

    if type(dul.artim_timer) is Timer:
        dul.artim_timer.__class__ = _ARTIM_TIMER
    wakeup = Wakeup()
    message = threading.Event()

    dul.to_provider_queue = NotifyingQueue(wakeup.set)
    dul.to_user_queue = NotifyingQueue(message.set)
    dimse.msg_queue = NotifyingQueue(message.set)
    asock.__class__ = _EVENT_SOCKET
    asock._interop_wakeup = wakeup  # noqa: SLF001
    asock._interop_poll = None  # noqa: SLF001 - built on the DUL thread at its first wait
    dul._run_loop_delay = 0.0  # noqa: SLF001 - the DUL now sleeps in `ready`, not between loops

    poll_get = dimse.get_msg

    def get_msg(block: bool = False) -> Any:
        if block:
            return poll_get(block)
        if not (dimse.msg_queue.qsize() or dul.to_user_queue.qsize() or assoc._kill):  # noqa: SLF001
            message.clear()
            if not (dimse.msg_queue.qsize() or dul.to_user_queue.qsize() or assoc._kill):  # noqa: SLF001
                message.wait(_assoc_wait(assoc))
        return poll_get(False)

    dimse.get_msg = get_msg

    kill = assoc.kill

    def kill_and_wake() -> None:
        message.set()  # the association reactor sees `_kill` now, not after its wait
        wakeup.set()
        kill()

    assoc.kill = kill_and_wake
    assoc._run_reactor = lambda: _acceptor_reactor(assoc)  # noqa: SLF001 - see _acceptor_reactor
    assoc._interop_wakeup = wakeup  # noqa: SLF001 - closed by `release(assoc)` when the connection ends
    weakref.finalize(assoc, wakeup.close)  # and in any case once the association is gone
    return True


def _acceptor_reactor(assoc: Any) -> None:
    """pynetdicom's `Association._run_reactor` (3.0.4) for an acceptor, step for step, without its
    `time.sleep(0.001)` at the top of every loop: the wait is in `dimse.get_msg` (see `install`).

    Written out here because the sleep is a literal in pynetdicom's loop; `compatible()` checks that
    pynetdicom's loop still does these steps in this order (a test fails when it changes)."""
    from pynetdicom import evt

    lg = logging.getLogger("pynetdicom.assoc")
    assoc._is_paused = False  # noqa: SLF001
    while not assoc._kill:  # noqa: SLF001
        assoc._is_paused = True  # noqa: SLF001 - acceptor send_*() pause the reactor here
        assoc._reactor_checkpoint.wait()  # noqa: SLF001
        assoc._is_paused = False  # noqa: SLF001
        context_id, msg = assoc.dimse.get_msg(block=False)  # waits for a message, a release, an abort
        if msg:
            assoc._serve_request(msg, context_id)  # noqa: SLF001
        if assoc.is_established and assoc.acse.is_release_requested():
            assoc.acse.send_release(is_response=True)
            lg.info("Association Released")
            assoc.is_released = True
            assoc.is_established = False
            evt.trigger(assoc, evt.EVT_RELEASED, {})
            assoc.kill()
            return
        if assoc.acse.is_aborted():
            lg.info("Association Aborted" + (" (A-P-ABORT)" if assoc.acse.is_aborted("a-p-abort") else ""))
            assoc.dul.receive_pdu(wait=False)  # EVT_ACSE_RECV for its subscribers
            assoc.is_aborted = True
            assoc.is_established = False
            evt.trigger(assoc, evt.EVT_ABORTED, {})
            assoc.kill()
            return
        if not assoc.dul.is_alive():
            assoc.kill()
            return
        if assoc.dul.idle_timer_expired():
            lg.error("Network timeout reached")
            if assoc.network_timeout_response == "A-RELEASE":
                assoc._is_paused = True  # noqa: SLF001
                assoc._reactor_checkpoint.wait()  # noqa: SLF001
                assoc.release()
                assoc._is_paused = False  # noqa: SLF001
            else:
                assoc.abort()
            assoc.kill()
            return


def release(assoc: Any) -> None:
    """Close the association's wake-up descriptor (EVT_CONN_CLOSE: its socket is closed, the DUL no longer polls)."""
    wakeup = getattr(assoc, "_interop_wakeup", None)
    if wakeup is not None:
        wakeup.close()
