"""`interop conformance listen mllp` as a separate process, driven by real senders on 127.0.0.1.

Senders: the project's MLLP client (`interop send`, which waits for each ACK) and raw sockets that
misbehave (bytes outside blocks, a block left open, two messages sent without waiting for the
first ACK, a control id reused). The listener runs with --duration, so it stops by itself; the JSON
report it writes is what the tests read.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

from tests.conformance.test_live_endpoints import findings, finish, start_listener
from tests.dicom_net.conftest import free_port, interop_command

ROOT = Path(__file__).resolve().parents[2]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"


def _block(message: bytes) -> bytes:
    return b"\x0b" + message.replace(b"\r\n", b"\r").rstrip(b"\r\n") + b"\r\x1c\r"


def _message(control_id: str, value: str = "97") -> bytes:
    text = VITALS.read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    head, rest = text.split(b"\r", 1)
    fields = head.split(b"|")
    fields[9] = control_id.encode()
    return b"|".join(fields) + b"\r" + rest.replace(b"|97|", f"|{value}|".encode(), 1)


def test_mllp_listen_well_behaved_sender_passes(tmp_path):
    port = free_port()
    proc, report, session = start_listener("mllp", port, 5, tmp_path)
    sent = subprocess.run([*interop_command(), "send", str(VITALS), "--port", str(port)], capture_output=True,
                          text=True, timeout=30)
    assert sent.returncode == 0, sent.stderr
    rc, err = finish(proc)
    got = findings(report)
    assert got["mllp-session.json"] == []  # framing, ACK handshake and control ids are fine
    # the message itself is judged by the IHE PCD-01 rules: the example is conformant (MSH-15 AL, MSH-16 NE)
    assert got["mllp-0001.hl7"] == []
    assert rc == 0, err
    log = json.loads((session / "recorded" / "mllp-session.json").read_text())
    (conn,) = log["connections"]
    assert [(m["control_id"], m["ack"], m["acks_owed"]) for m in conn["messages"]] == [("MSG00001", "CA", 0)]  # MSH-15 AL: the accept (commit) ACK


def test_mllp_listen_flags_a_misbehaving_sender(tmp_path):
    port = free_port()
    proc, report, session = start_listener("mllp", port, 6, tmp_path)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # two messages without waiting for the first ACK; the second reuses MSH-10 for other content
        s.sendall(_block(_message("DUP-1")) + _block(_message("DUP-1", value="96")))
        s.settimeout(10)
        acks = b""
        while acks.count(b"\x1c\r") < 2:
            acks += s.recv(4096)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"junk" + b"\x0b" + _message("HALF-1")[:60])  # bytes outside a block, then a block left open
        time.sleep(0.5)
    rc, err = finish(proc)
    assert rc == 1, err
    got = sorted(findings(report)["mllp-session.json"])
    assert got == [("MLLP-NET-002", "connection 2"), ("MLLP-NET-003", "connection 2"),
                   ("MLLP-NET-004", "connection 1 message 2 (MSH-10 'DUP-1')"),
                   ("MLLP-NET-005", "connection 1 message 2 (MSH-10 'DUP-1')")]
