"""`serve mllp` in-process against real sockets on 127.0.0.1: acknowledgements, the durable queue,
FHIR files, duplicates, bad input, slow and idle peers, limits, TLS and mutual TLS, allow-list."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from interop.errors import TransportError
from interop.transport.forward import RetryPolicy
from interop.transport.mllp.client import MllpClient, client_tls_context
from interop.transport.mllp.framing import frame
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

from .helpers import PATIENT_ID, PATIENT_NAME, Peer, closed_by_peer, make_certs, msa, oru

FAST = RetryPolicy(initial=0.05, maximum=0.5, jitter=0.0)


@pytest.fixture()
def serve(tmp_path: Path):
    started: list[MllpService] = []

    def start(**cfg) -> MllpService:
        store = cfg.pop("store", tmp_path / "store")
        svc = MllpService(MllpConfig(port=0, **cfg), store_dir=store, retry=FAST)
        svc.start()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        svc.stop()


def no_patient_data(caplog: pytest.LogCaptureFixture) -> None:
    text = caplog.text
    assert PATIENT_ID not in text and "Doe" not in text and PATIENT_NAME not in text


def test_aa_then_durable_then_fhir_file(serve, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    svc = serve()
    with MllpClient("127.0.0.1", svc.port) as c:
        results = list(c.send_all([oru(1), oru(2), oru(3)]))
    assert [(r.code, r.acked_id) for r in results] == [("AA", "CTRL1"), ("AA", "CTRL2"), ("AA", "CTRL3")]
    assert svc.engine.drain(30)
    files = sorted((tmp_path / "store" / "fhir").iterdir())
    assert len(files) == 3 and all(f.name.startswith("hl7v2-CTRL") for f in files)
    bundle = json.loads(files[0].read_bytes())
    assert bundle["type"] == "transaction"
    obs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert obs[0]["code"]["coding"][0]["code"] == "147842"
    assert svc.store.counts() == {"done": 3}
    no_patient_data(caplog)


def test_resent_message_acknowledged_but_stored_once(serve, tmp_path: Path) -> None:
    svc = serve()
    p = Peer(svc.port)
    assert msa(p.exchange(oru(5))) == ("AA", "CTRL5")
    restamped = oru(5).replace(b"|ORU^R01", b"|ORU^R01", 1)
    assert msa(p.exchange(restamped)) == ("AA", "CTRL5")  # the sender lost the first ACK and re-sent
    other = oru(6).replace(b"CTRL6", b"CTRL5")  # same control id, different content: never dropped
    assert msa(p.exchange(other)) == ("AA", "CTRL5")
    p.close()
    assert svc.engine.drain(30)
    assert svc.store.counts() == {"done": 2}
    assert len(list((tmp_path / "store" / "fhir").iterdir())) == 2
    assert svc.engine.stats.duplicates == 1


def test_enhanced_mode_ne_gets_no_ack_but_is_stored(serve) -> None:
    svc = serve()
    p = Peer(svc.port)
    p.send(oru(1, enhanced="NE|NE"))
    assert msa(p.exchange(oru(2, enhanced="AL|NE"))) == ("CA", "CTRL2")  # the NE one produced no block
    p.close()
    assert svc.engine.drain(30)
    assert svc.store.counts() == {"done": 2}


def test_bad_input_gets_ar_and_the_connection_keeps_serving(serve, caplog) -> None:
    caplog.set_level(logging.INFO)
    svc = serve()
    p = Peer(svc.port)
    assert msa(p.exchange(b"PID|1||" + PATIENT_ID.encode() + b"\r")) == ("AR", "")  # no MSH
    assert msa(p.exchange(bytes(range(256)).replace(b"\x0b", b"").replace(b"\x1c", b""))) == ("AR", "")  # binary
    p.sock.sendall(b"\x00\x01junk between blocks\xff")  # outside a block: discarded
    ar = p.exchange(oru(7, version="9.9"))
    assert msa(ar) == ("AR", "CTRL7") and b"|203^Unsupported version id^HL70357|" in ar
    assert msa(p.exchange(oru(8))) == ("AA", "CTRL8")
    p.close()
    assert "outside an MLLP block discarded" in caplog.text
    assert "AR sent, MSH: 100 Segment sequence error" in caplog.text
    assert "AR sent, MSH-12: 203 Unsupported version id (control id 'CTRL7')" in caplog.text
    no_patient_data(caplog)
    assert svc.engine.drain(30)
    assert svc.store.counts() == {"done": 1}  # refused messages are not queued


def test_100_mb_frame_is_refused_with_ar_and_the_connection_survives(serve, caplog) -> None:
    svc = serve(max_frame=1 << 20)
    p = Peer(svc.port, timeout=60)
    head = oru(9)
    big = b"\x0b" + head + b"OBX|2|ED|X||" + b"A" * (100 * 1024 * 1024) + b"\x1c\r"
    sender = threading.Thread(target=p.sock.sendall, args=(big,))
    sender.start()
    ar = p.ack(timeout=60)
    sender.join(60)
    assert msa(ar) == ("AR", "CTRL9") and b"|207^Application internal error^HL70357|" in ar
    assert b"limit of 1048576 bytes" in ar
    assert msa(p.exchange(oru(10))) == ("AA", "CTRL10")
    p.close()
    assert "block larger than 1048576 bytes refused (AR 207), control id 'CTRL9'" in caplog.text
    assert "oversized block of 104857" in caplog.text
    no_patient_data(caplog)


def test_half_frame_then_silence_is_closed_others_served(serve, caplog) -> None:
    svc = serve(frame_timeout=0.5)
    slow = Peer(svc.port)
    slow.sock.sendall(b"\x0b" + oru(11)[:30])  # half a block, then nothing
    good = Peer(svc.port)
    assert msa(good.exchange(oru(12))) == ("AA", "CTRL12")
    assert closed_by_peer(slow.sock, 5)
    assert "block incomplete after 0 s (31 bytes, no <EB>)" in caplog.text or "no <EB>" in caplog.text
    assert msa(good.exchange(oru(13))) == ("AA", "CTRL13")
    good.close()
    slow.close()
    assert svc.engine.drain(30) and svc.store.counts() == {"done": 2}  # the half block was never stored


def test_500_idle_connections_never_shut_out_a_good_peer(serve, caplog) -> None:
    caplog.set_level(logging.INFO)
    svc = serve(max_connections=100, evict_after=0.2, idle_timeout=30)
    idle = [socket.create_connection(("127.0.0.1", svc.port), timeout=10) for _ in range(500)]
    deadline = time.monotonic() + 30
    while svc.server._counter + svc.server.refused < 500 and time.monotonic() < deadline:  # all seen by the server
        time.sleep(0.05)
    time.sleep(0.3)
    good = Peer(svc.port)
    assert msa(good.exchange(oru(14))) == ("AA", "CTRL14")
    assert len(svc.server.sessions) <= 100
    assert svc.server.evicted + svc.server.refused >= 400
    assert "connection limit (100) reached" in caplog.text
    good.close()
    for s in idle:
        s.close()


def test_idle_timeout_closes(serve) -> None:
    svc = serve(idle_timeout=0.3)
    p = Peer(svc.port)
    assert msa(p.exchange(oru(15))) == ("AA", "CTRL15")
    assert closed_by_peer(p.sock, 5)


def test_peer_that_never_reads_its_acks_is_aborted_others_served(serve, caplog) -> None:
    svc = serve(write_timeout=1.0)
    flood = socket.socket()
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood.connect(("127.0.0.1", svc.port))
    block = frame(oru(16, version="9.9")) * 100  # refused (AR): answered without touching the store

    def never_read() -> None:  # sends and sends, never reads an acknowledgement
        try:
            while True:
                flood.sendall(block)
        except OSError:
            return

    sender = threading.Thread(target=never_read, daemon=True)
    sender.start()
    good = Peer(svc.port, timeout=30)
    assert msa(good.exchange(oru(17), timeout=30)) == ("AA", "CTRL17")  # served meanwhile
    deadline = time.monotonic() + 90  # without reading from `flood`: the server must give up on it
    while time.monotonic() < deadline and "peer has not read its acknowledgements" not in caplog.text:
        time.sleep(0.1)
    assert "peer has not read its acknowledgements for 1 s" in caplog.text
    sender.join(30)
    assert not sender.is_alive()  # its connection was aborted
    assert len(svc.server.sessions) == 1  # only the good peer is left
    assert "(+" in caplog.text or caplog.text.count("AR sent") <= 10  # negative ACKs logged rate-limited
    assert msa(good.exchange(oru(18), timeout=30)) == ("AA", "CTRL18")
    good.close()
    flood.close()


def test_store_failure_is_ae_207_not_aa(serve, tmp_path: Path) -> None:
    svc = serve()
    svc.engine.stop()  # the intake is gone: nothing can be made durable
    p = Peer(svc.port)
    ack = p.exchange(oru(19))
    assert msa(ack) == ("AE", "CTRL19") and b"|207^Application internal error^HL70357|" in ack
    p.close()


def test_allow_list(serve, caplog) -> None:
    svc = serve(allow=["10.0.0.0/8"])
    p = Peer(svc.port)
    assert closed_by_peer(p.sock, 5)
    assert "refused, address not in --allow" in caplog.text
    ok = serve(allow=["127.0.0.0/8"], store=svc.store.path.parent.parent / "store2")
    q = Peer(ok.port)
    assert msa(q.exchange(oru(20))) == ("AA", "CTRL20")
    q.close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command (.ci/run installs it)")
def test_tls_and_mutual_tls(serve, tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    svc = serve(tls_cert=certs["server"], tls_key=certs["server_key"], tls_ca=certs["ca"])
    ctx = client_tls_context(certs["ca"], certs["client"], certs["client_key"])
    with MllpClient("127.0.0.1", svc.port, tls=ctx) as c:
        r = c.send(oru(21))
    assert (r.code, r.acked_id) == ("AA", "CTRL21")
    # no client certificate: the handshake (or the first read) fails, nothing is stored
    with pytest.raises(TransportError):
        with MllpClient("127.0.0.1", svc.port, tls=client_tls_context(certs["ca"]), timeout=5) as c:
            c.send(oru(22))
    # plain TCP to a TLS port gets no acknowledgement
    p = Peer(svc.port, timeout=5)
    p.send(oru(23))
    assert p.ack(timeout=5) is None
    assert svc.engine.drain(30) and svc.store.counts() == {"done": 1}
    with pytest.raises(ssl.SSLError):
        client_tls_context(certs["ca"]).wrap_socket(socket.create_connection(("127.0.0.1", svc.port)),
                                                    server_hostname="not-this-host").do_handshake()
