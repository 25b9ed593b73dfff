"""The node's event-driven wake-ups of pynetdicom's reactors (`interop.transport.dicom.reactor`), on 127.0.0.1.

These fail loudly when a pynetdicom upgrade changes what the hooks rely on: the node would fall back
to pynetdicom's 1 ms polling (slower C-STORE round trips, busy cores with many idle connections).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from interop.transport.dicom import reactor
from interop.transport.dicom.node import DicomNode, NodeConfig

from .test_serve import scu


def test_pynetdicom_reactors_are_as_the_hooks_expect() -> None:
    assert reactor.compatible() is None


@pytest.fixture
def node(tmp_path: Path):
    n = DicomNode(NodeConfig(port=0, store_dir=tmp_path / "store", quiet_period=0))
    n.start()
    yield n
    n.stop()


def _acceptor(node: DicomNode, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [a for a in node._server.active_associations if a.is_established]  # noqa: SLF001
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError("no established association on the node")


def test_idle_association_sleeps_until_a_message_arrives(node: DicomNode, monkeypatch) -> None:
    """An established, silent association: each reactor wakes up at most every MAX_WAIT (0.5 s), not every
    millisecond; then a C-ECHO is still answered."""
    waits = {"dul": 0, "assoc": 0}
    dul_wait, assoc_wait = reactor._dul_wait, reactor._assoc_wait  # noqa: SLF001

    def counted_dul(dul):
        waits["dul"] += 1
        return dul_wait(dul)

    def counted_assoc(assoc):
        waits["assoc"] += 1
        return assoc_wait(assoc)

    monkeypatch.setattr(reactor, "_dul_wait", counted_dul)
    monkeypatch.setattr(reactor, "_assoc_wait", counted_assoc)
    assoc = scu().associate("127.0.0.1", node.address[1], ae_title="INTEROP")
    assert assoc.is_established
    try:
        server_side = _acceptor(node)
        assert type(server_side.dul.socket).__name__ == "EventSocket"
        assert server_side.dul._run_loop_delay == 0  # noqa: SLF001
        time.sleep(0.2)  # association settled
        before = dict(waits)
        time.sleep(1.0)
        loops = {k: waits[k] - before[k] for k in waits}
        # pynetdicom's own loops: about 1,000 each in that second
        assert 1 <= loops["dul"] <= 6, loops
        assert 1 <= loops["assoc"] <= 6, loops
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


def test_release_and_abort_end_the_association_promptly(node: DicomNode) -> None:
    """A-RELEASE-RQ and A-ABORT wake the association reactor: the connection slot is freed at once."""
    for end in ("release", "abort"):
        assoc = scu().associate("127.0.0.1", node.address[1], ae_title="INTEROP")
        assert assoc.is_established
        server_side = _acceptor(node)
        started = time.monotonic()
        getattr(assoc, end)()
        deadline = started + 3.0
        while server_side.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not server_side.is_alive(), end
        assert not server_side.dul.is_alive(), end
        wakeup = server_side._interop_wakeup  # noqa: SLF001
        assert wakeup._closed  # noqa: SLF001 - its descriptor is given back with the connection


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks (USER_HZ 100)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to read a process's CPU time")
def test_many_silent_connections_leave_the_cores_idle(serve) -> None:
    """200 connected peers that say nothing and 20 idle associations: the server process uses almost no
    CPU (pynetdicom's polling alone: two threads per association waking every millisecond)."""
    server = serve("--idle-timeout", "60")  # the silent ones stay within the 10 s ARTIM and PDU deadlines
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(200)]
    idle = [scu(f"IDLE{n}").associate("127.0.0.1", server.port, ae_title="INTEROP") for n in range(20)]
    try:
        assert all(a.is_established for a in idle)
        time.sleep(1.0)
        before = _cpu_seconds(server.proc.pid)
        time.sleep(3.0)
        used = _cpu_seconds(server.proc.pid) - before
        assert used < 0.3, f"{used:.2f} s of CPU in 3 s with every peer silent"
        assert idle[0].send_c_echo().Status == 0x0000
    finally:
        for a in idle:
            a.release()
        for s in silent:
            s.close()


@pytest.mark.parametrize(("status", "sop_class", "sop_instance"), [
    (0x0000, "1.2.840.10008.5.1.4.1.1.2", "1.2.826.0.1.3680043.10.1140.3.1.45"),  # odd length: NUL padded
    (0xB000, "1.2.840.10008.5.1.4.1.1.4", "1.2.3.44"),
    (0x0000, None, None),  # conditional elements absent
])
def test_c_store_rsp_written_directly_is_what_pynetdicom_encodes(status, sop_class, sop_instance) -> None:
    from pynetdicom.dimse_messages import C_STORE_RSP
    from pynetdicom.dimse_primitives import C_STORE

    from interop.transport.dicom.dimse import c_store_rsp

    rsp = C_STORE()
    rsp.MessageIDBeingRespondedTo = 65535
    rsp.Status = status
    if sop_class:
        rsp.AffectedSOPClassUID, rsp.AffectedSOPInstanceUID = sop_class, sop_instance
    message = C_STORE_RSP()
    message.primitive_to_message(rsp)
    (pdata,) = list(message.encode_msg(1, 16384))
    assert pdata.presentation_data_value_list == [(1, b"\x03" + c_store_rsp(65535, status, sop_class, sop_instance))]


def test_the_node_sends_its_c_store_rsps_through_the_direct_encoder(node: DicomNode, monkeypatch, tmp_path) -> None:
    from pydicom import dcmread

    from interop.transport.dicom import dimse

    from .data import ct_study

    written = []
    encode = dimse.c_store_rsp

    def counted(*args):
        written.append(args)
        return encode(*args)

    monkeypatch.setattr(dimse, "c_store_rsp", counted)
    assoc = scu().associate("127.0.0.1", node.address[1], ae_title="INTEROP")
    files = ct_study(tmp_path / "in", 2)
    try:
        for path, _ in files:
            assert assoc.send_c_store(dcmread(path)).Status == 0x0000
    finally:
        assoc.release()
    assert [(w[1], w[3]) for w in written] == [(0x0000, uid) for _, uid in files]


def _pdata_of(rq, context_id: int, max_pdu: int) -> list:
    from pynetdicom.dimse_messages import C_STORE_RQ

    message = C_STORE_RQ()
    message.primitive_to_message(rq)
    return list(message.encode_msg(context_id, max_pdu))


class _Dimse:
    """What `dimse.install` hooks on an association, with pynetdicom's own DIMSE provider underneath."""

    def __init__(self) -> None:
        from pynetdicom.dimse import DIMSEServiceProvider

        self.assoc = type("Assoc", (), {})()
        self.assoc.get_handlers = lambda event: []
        self.assoc.dul = None
        self.assoc.is_established = False  # requests are queued, not served (there is no service here)
        provider = DIMSEServiceProvider.__new__(DIMSEServiceProvider)
        import queue

        provider.message = None
        provider.msg_queue = queue.Queue()
        provider.cancel_req = {}
        provider._assoc = self.assoc
        self.assoc.dimse = provider
        self.dimse = provider


@pytest.mark.parametrize("max_pdu", [0, 16384, 120])  # one PDV each; the data set in fragments; command too
@pytest.mark.parametrize("move", [False, True])  # Move Originator: left to pynetdicom, same result
def test_c_store_rq_read_directly_is_what_pynetdicom_decodes(max_pdu: int, move: bool) -> None:
    from io import BytesIO

    from pydicom.data import get_testdata_file
    from pynetdicom.dimse_primitives import C_STORE

    from interop.transport.dicom import dimse

    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()[400:5400]
    rq = C_STORE()
    rq.MessageID, rq.Priority = 513, 2
    rq.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    rq.AffectedSOPInstanceUID = "1.2.826.0.1.3680043.10.1140.3.1.45"
    if move:
        rq.MoveOriginatorApplicationEntityTitle, rq.MoveOriginatorMessageID = "MOVESCU", 7
    rq.DataSet = BytesIO(data)
    got = []
    for hooked in (False, True):
        side = _Dimse()
        replayed = []
        if hooked:
            own = side.dimse.receive_primitive
            side.dimse.receive_primitive = lambda p, own=own, seen=replayed: (seen.append(p), own(p))
            assert dimse.install(side.assoc)
        for _ in range(2):  # two messages in a row: the state is reset between them
            for pdata in _pdata_of(rq, 3, max_pdu):
                side.dimse.receive_primitive(pdata)
        got.append([side.dimse.msg_queue.get_nowait() for _ in range(2)])
        assert bool(replayed) == (hooked and move)  # read directly unless it has a Move Originator
        assert side.dimse.msg_queue.empty() and side.dimse.message is None
    for (cx_ref, ref), (cx, mine) in zip(*got, strict=True):
        assert cx == cx_ref == 3 and mine._context_id == ref._context_id == 3
        assert type(mine) is type(ref) is C_STORE
        for name in ("MessageID", "Priority", "AffectedSOPClassUID", "AffectedSOPInstanceUID",
                     "MoveOriginatorApplicationEntityTitle", "MoveOriginatorMessageID"):
            assert getattr(mine, name) == getattr(ref, name), name
        assert mine.DataSet.getvalue() == ref.DataSet.getvalue() == data


def test_other_messages_go_to_pynetdicom_unchanged() -> None:
    """A C-ECHO-RQ (no data set) and a C-STORE-RQ whose command set has an unexpected element: pynetdicom's
    own decoding, from the first P-DATA."""
    from pynetdicom.dimse_messages import C_ECHO_RQ
    from pynetdicom.dimse_primitives import C_ECHO

    from interop.transport.dicom import dimse

    echo = C_ECHO()
    echo.MessageID = 9
    message = C_ECHO_RQ()
    message.primitive_to_message(echo)
    side = _Dimse()
    assert dimse.install(side.assoc)
    for pdata in message.encode_msg(1, 0):
        side.dimse.receive_primitive(pdata)
    cx, got = side.dimse.msg_queue.get_nowait()
    assert (cx, type(got), got.MessageID) == (1, C_ECHO, 9)
    assert dimse.read_c_store_rq(message.encode_msg(1, 0).__next__().presentation_data_value_list[0][1][1:]) is None


def test_c_store_is_served_on_the_dul_thread(node: DicomNode, tmp_path) -> None:
    """A C-STORE-RQ read directly is served by the DUL thread that completed it (no hand-over to the association
    thread and back)."""
    import threading

    from pydicom import dcmread

    from .data import ct_study

    seen = []
    store = node._c_store  # noqa: SLF001

    def on_store(event):
        seen.append(("store", threading.current_thread() is event.assoc.dul))
        return store(event)

    node._c_store = on_store  # noqa: SLF001
    assoc = scu().associate("127.0.0.1", node.address[1], ae_title="INTEROP")
    try:
        for path, _ in ct_study(tmp_path / "in", 2):
            assert assoc.send_c_store(dcmread(path)).Status == 0x0000
        assert assoc.send_c_echo().Status == 0x0000  # pynetdicom's own path, on the association thread
    finally:
        assoc.release()
    assert seen == [("store", True), ("store", True)]


def test_artim_stopped_after_its_timeout_does_not_expire(node: DicomNode) -> None:
    """An A-ASSOCIATE-RQ read just after the ARTIM timeout stops the timer late (AE-6). pynetdicom's Timer then
    reports `expired` for ever, its DUL queues Evt18 in Sta3, the state machine raises and the DUL thread dies
    without closing the connection (seen as 'Invalid event Evt18 for the current state Sta3' with 200 concurrent
    associations on a loaded machine). The node's DULs use a timer that a stop disarms (PS3.8 9.1.5)."""
    from pynetdicom.timer import Timer

    artim_class = reactor._artim_timer_class()  # noqa: SLF001
    for cls, expired_after_late_stop in ((Timer, True), (artim_class, False)):
        timer = cls(0.05)
        timer.start()
        time.sleep(0.1)  # the timeout passes while the request is being read
        timer.stop()
        assert timer.expired is expired_after_late_stop, cls
        timer.start()  # started again (the release's ARTIM, AR-4): it expires as pynetdicom's does
        assert not timer.expired
        time.sleep(0.1)
        assert timer.expired
    assoc = scu().associate("127.0.0.1", node.address[1], ae_title="INTEROP")
    assert assoc.is_established
    acceptor = _acceptor(node)
    assert type(acceptor.dul.artim_timer).__name__ == "ArtimTimer"
    assoc.release()
