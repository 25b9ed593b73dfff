"""Synthetic HL7 v2 messages (no real patient) and raw MLLP socket helpers for the MLLP tests."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from interop.transport.mllp.framing import Block, FrameScanner, frame

PATIENT_ID = "PAT-SECRET-7"  # must never appear in a log line
PATIENT_NAME = "Doe^Jane"


def oru(i: int, *, sender: str = "MONITOR", version: str = "2.6", enhanced: str = "") -> bytes:
    """A one-OBX PCD-01 style ORU^R01 whose Observation is unique to `i` (value and time)."""
    t = f"2024010{1 + (i // 86400) % 9}{(i // 3600) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}"
    tail = f"|||{enhanced}" if enhanced else ""
    return (f"MSH|^~\\&|{sender}|ICU|INTEROP|HOSP|{t}||ORU^R01^ORU_R01|CTRL{i}|P|{version}{tail}\r"
            f"PID|1||{PATIENT_ID}^^^HOSP^MR||{PATIENT_NAME}\r"
            f"OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{t}\r"
            f"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.0.1|{40 + i % 150}|/min^^UCUM|||||R|||{t}\r").encode()


class Peer:
    """A raw MLLP client socket for tests (sends blocks, reads acknowledgement blocks)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.scanner = FrameScanner(1 << 20)
        self.pending: list[bytes] = []

    def send(self, payload: bytes) -> None:
        self.sock.sendall(frame(payload))

    def ack(self, timeout: float = 10.0) -> bytes | None:
        """The next block, or None when the server closed first."""
        self.sock.settimeout(timeout)
        while not self.pending:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not data:
                return None
            self.pending.extend(e.payload for e in self.scanner.feed(data) if isinstance(e, Block))
        return self.pending.pop(0)

    def exchange(self, payload: bytes, timeout: float = 10.0) -> bytes | None:
        self.send(payload)
        return self.ack(timeout)

    def close(self) -> None:
        self.sock.close()


def msa(ack: bytes | None) -> tuple[str, str]:
    """(MSA-1, MSA-2)."""
    assert ack is not None, "no acknowledgement (connection closed)"
    for seg in ack.split(b"\r"):
        if seg.startswith(b"MSA|"):
            f = seg.decode().split("|")
            return f[1], f[2] if len(f) > 2 else ""
    raise AssertionError(f"no MSA in {ack!r}")


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """True when the peer closes (EOF or reset) within `timeout` seconds."""
    sock.settimeout(timeout)
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False


def make_certs(d: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with the openssl command."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
    run("req", "-x509", *ec, "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", *ec, "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", f"{name}.pem", "-extfile", "san.ext")
    return {k: d / v for k, v in {"ca": "ca.pem", "server": "server.pem", "server_key": "server.key",
                                   "client": "client.pem", "client_key": "client.key"}.items()}
