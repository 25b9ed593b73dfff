"""`interop serve dicom` under slow, half-open and many connections (the slowloris family), on 127.0.0.1.

Peers: raw TCP sockets playing the slow clients, dcmtk storescu/echoscu and pynetdicom as the
well-behaved ones. A-ASSOCIATE-RJ fields: PS3.8 Table 9-21 (result 2 rejected-transient, source 3
service-provider presentation related, reason 2 local-limit-exceeded). PDU header: PS3.8 9.3.1.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

from .data import CT_STUDY, ct_study
from .test_serve import VERIFICATION, resources, scu, wait_rows


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _slow_clients(port: int) -> list[socket.socket]:
    """Ten connections that never finish a PDU: silent ones, half a header, half an A-ASSOCIATE-RQ."""
    socks = []
    for n in range(10):
        s = _connect(port)
        if n % 3 == 1:
            s.sendall(b"\x01\x00\x00")  # three bytes of a PDU header
        elif n % 3 == 2:
            s.sendall(b"\x01\x00\x00\x00\x00\xc8" + b"\x00\x01" + b"\x00" * 20)  # RQ of 200 bytes, 22 sent
        socks.append(s)
    return socks


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slow_and_half_open_connections_never_shut_out_storescu(serve, dcmtk, tmp_path: Path) -> None:
    server = serve("--max-associations", "4", "--pdu-timeout", "30", "--quiet-period", "0")
    idle = scu().associate("127.0.0.1", server.port, ae_title="INTEROP")  # associated, then silent
    assert idle.is_established
    slow = _slow_clients(server.port)  # 10 stalled connections against a limit of 4
    time.sleep(2.5)  # longer than the 2 s grace: all of them count as stalled now
    files = ct_study(tmp_path / "in", 2)
    started = time.monotonic()
    proc = subprocess.run([dcmtk["storescu"], "-aet", "STORESCU", "-aec", "INTEROP", "127.0.0.1", str(server.port),
                           *[str(p) for p, _ in files]], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode() + server.log
    echo = subprocess.run([dcmtk["echoscu"], "-aet", "ECHOSCU", "-aec", "INTEROP", "127.0.0.1", str(server.port)],
                          capture_output=True, timeout=30)
    assert echo.returncode == 0, echo.stderr.decode()
    assert time.monotonic() - started < 10  # served at once, not after some timeout
    bundle = server.wait_bundle(CT_STUDY)
    assert len(resources(bundle, "ImagingStudy")[0]["series"][0]["instance"]) == 2
    expected = [("dicom-instance", uid, "done") for _, uid in files]
    assert wait_rows(server.store, expected) == expected
    # the server says what it did: stalled connections closed to admit newcomers, with the reason
    evictions = [line for line in server.log.splitlines() if "at its limit of 4 connections; closed" in line]
    assert evictions and all("(stalled: opening for" in line for line in evictions), server.log
    assert "AE title" not in "\n".join(evictions)  # the peers' AE titles are not blamed
    assert sum(_closed_by_server(s, 0.5) for s in slow) >= 2
    for s in slow:
        s.close()
    idle.abort()


def test_trickled_pdu_is_cut_at_the_pdu_deadline(serve) -> None:
    server = serve("--pdu-timeout", "2")
    sock = _connect(server.port)
    started = time.monotonic()
    sock.sendall(b"\x01\x00\x00\x00\x00\xc8")  # an A-ASSOCIATE-RQ header announcing 200 bytes
    closed_after = None
    for _ in range(20):  # one byte every 0.25 s: each recv is quick, the PDU never completes in time
        time.sleep(0.25)
        try:
            sock.sendall(b"\x00")
        except OSError:
            closed_after = time.monotonic() - started
            break
        sock.settimeout(0.01)
        try:
            if sock.recv(1) == b"":
                closed_after = time.monotonic() - started
                break
        except TimeoutError:
            pass
        except OSError:
            closed_after = time.monotonic() - started
            break
    assert closed_after is not None and 1.5 < closed_after < 4.0, (closed_after, server.log)
    assert "PDU not complete within 2 s (no association yet); connection closed" in server.log
    sock.close()


def test_limit_reached_by_busy_peers_rejects_transient_with_a_clear_log_line(serve, dcmtk) -> None:
    server = serve("--max-associations", "2")
    stop = threading.Event()
    busy = [scu(f"BUSY{n}").associate("127.0.0.1", server.port, ae_title="INTEROP") for n in range(2)]
    assert all(a.is_established for a in busy)

    def keep_busy(assoc) -> None:  # a C-ECHO every 0.1 s: never stalled, never evicted
        while not stop.is_set() and assoc.is_established:
            assoc.send_c_echo()
            time.sleep(0.1)

    threads = [threading.Thread(target=keep_busy, args=(a,), daemon=True) for a in busy]
    for t in threads:
        t.start()
    try:
        time.sleep(2.5)
        # the third peer is dcmtk's echoscu: pynetdicom's requestor reports an A-ASSOCIATE-RJ that arrives before
        # its calling thread has seen the transport come up as "aborted" (AE-4 closes the socket, then
        # `negotiate_association` finds it closed and aborts), and the refusal here is immediate
        third = subprocess.run([dcmtk["echoscu"], "-aet", "THIRD", "-aec", "INTEROP", "127.0.0.1", str(server.port)],
                               capture_output=True, text=True, timeout=30)
        assert all(a.is_established for a in busy)  # neither busy peer was evicted to make room
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for a in busy:
            a.release()
    assert third.returncode != 0
    assert "Association Rejected" in third.stderr, third.stderr + server.log
    # PS3.8 Table 9-21: result 2, source 3, reason 2
    assert "Result: Rejected Transient, Source: Service Provider (Presentation Related)" in third.stderr
    assert "Reason: Local Limit Exceeded" in third.stderr
    assert all(a.is_released for a in busy)  # released by the test, not aborted by the server
    assert "connection limit reached (2/2, all making progress); refusing 127.0.0.1:" in server.log
    assert "connections; closed" not in server.log  # no eviction
    # once the busy peers are gone the next one is served
    again = scu("THIRD", (VERIFICATION,)).associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert again.is_established and again.send_c_echo().Status == 0x0000
    again.release()


def test_silent_connection_is_closed_by_artim_with_a_log_line(serve) -> None:
    server = serve("--pdu-timeout", "1")
    sock = _connect(server.port)  # connected, never sends an A-ASSOCIATE-RQ
    started = time.monotonic()
    assert _closed_by_server(sock, 10.0)
    assert 0.9 < time.monotonic() - started < 5.0
    deadline = time.monotonic() + 5
    while "no A-ASSOCIATE-RQ within 1 s of connecting (ARTIM); connection closed" not in server.log:
        assert time.monotonic() < deadline, server.log
        time.sleep(0.05)
    sock.close()
    # the server keeps serving
    again = scu("AGAIN", (VERIFICATION,)).associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert again.is_established and again.send_c_echo().Status == 0x0000
    again.release()


def test_200_concurrent_associations_are_all_stored(serve, tmp_path: Path) -> None:
    from pydicom import dcmread

    from .data import CT_IMAGE_STORAGE

    # 200 pynetdicom requestors in this one process, each polling every millisecond on two threads, are slow on a
    # loaded 2-core machine: a requestor may send its A-ASSOCIATE-RQ more than 10 s after its connection was
    # accepted, and the server's ARTIM (--pdu-timeout, 10 s by default) then closes it as the standard says
    # (PS3.8 9.1.5). This test is about admission, not ARTIM (see test_silent_connection_is_closed_by_artim):
    # the server waits as long as the clients do. On a 2-core machine shared with other work (load average 70-120
    # was seen) the server's ~30 ms of CPU per negotiation alone stretches past 60 s of wall time for 200 of them,
    # with pynetdicom's own reactors as with these: the timeouts are sized for that, not for the idle machine.
    server = serve("--quiet-period", "0", "--pdu-timeout", "180", "--idle-timeout", "180")
    (path, _), = ct_study(tmp_path / "in", 1)
    template = dcmread(path)
    results: list[int] = []
    lock = threading.Lock()
    gate = threading.Barrier(200, timeout=120)

    def one(n: int) -> None:
        ds = template.copy()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1138.{n}"
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1139.{n}"
        ae = scu(f"SCU{n}", (CT_IMAGE_STORAGE,))
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 180  # a loaded CI machine is slow, not wrong
        try:
            gate.wait()
        except threading.BrokenBarrierError:
            with lock:
                results.append(-2)  # the test could not start its 200 clients together
            return
        assoc = ae.associate("127.0.0.1", server.port, ae_title="INTEROP")
        status = assoc.send_c_store(ds).Status if assoc.is_established else -1
        if assoc.is_established:
            assoc.release()
        with lock:
            results.append(status)

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert results.count(0x0000) == 200, (sorted(set(results)), results.count(0x0000), server.log[-5000:])
    rows = wait_rows(server.store, [("dicom-instance", "done")] * 200, timeout=180, project=lambda r: (r[0], r[2]))
    assert rows == [("dicom-instance", "done")] * 200
