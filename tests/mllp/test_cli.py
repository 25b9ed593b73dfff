"""`interop send` (files, folders, batch files, MLLP captures; exit codes) and `interop queue`, as a user
runs them, against a real `serve mllp` on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interop.transport.forward import RetryPolicy
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

from .helpers import oru


def interop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "interop.cli.main", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture()
def service(tmp_path: Path):
    svc = MllpService(MllpConfig(port=0), store_dir=tmp_path / "store", retry=RetryPolicy(initial=0.05, jitter=0))
    svc.start()
    yield svc
    svc.stop()


def test_send_files_batch_and_capture(service: MllpService, tmp_path: Path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.hl7").write_bytes(oru(1).replace(b"\r", b"\n"))  # LF line ends, as files often have
    batch = b"FHS|^~\\&|MONITOR\rBHS|^~\\&|MONITOR\r" + oru(2) + oru(3) + b"BTS|2\rFTS|1\r"
    (d / "b.batch.hl7").write_bytes(batch)
    (d / "c.mllp").write_bytes(b"\x0b" + oru(4) + b"\x1c\r\x0b" + oru(5, enhanced="AL|NE") + b"\x1c\r")
    r = interop("send", str(d), "--port", str(service.port))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"{d / 'a.hl7'}: MSH-10 CTRL1 -> AA"
    assert lines[1].startswith(f"{d / 'b.batch.hl7'}[1 @ byte ") and lines[1].endswith("MSH-10 CTRL2 -> AA")
    assert lines[2].endswith("MSH-10 CTRL3 -> AA")
    assert lines[3].endswith("MSH-10 CTRL4 -> AA") and lines[4].endswith("MSH-10 CTRL5 -> CA")
    assert "5 message(s) sent" in r.stderr and "5 acknowledged AA/CA, 0 not" in r.stderr
    assert service.engine.drain(30)
    assert service.store.counts() == {"done": 5}
    stored = {i.key: i.data for i in service.store.rows()}
    assert stored["CTRL1"] == oru(1)  # LF turned back into the CR segment terminator


def test_send_negative_ack_exits_1_with_err(service: MllpService, tmp_path: Path) -> None:
    f = tmp_path / "bad.hl7"
    f.write_bytes(oru(9, version="9.9"))
    r = interop("send", str(f), "--port", str(service.port))
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"{f}: MSH-10 CTRL9 -> AR",
                                     "  ERR MSH 1 12 203 version not supported; expected one of HL7 table 0104 "
                                     "(2.1 ... 2.9)"]


def test_send_unreachable_and_missing_file_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    f = tmp_path / "m.hl7"
    f.write_bytes(oru(1))
    r = interop("send", str(f), "--port", str(port))
    assert r.returncode == 2 and r.stderr.strip().startswith(f"cannot connect to 127.0.0.1:{port}")
    assert "Traceback" not in r.stderr
    r = interop("send", str(tmp_path / "nope.hl7"), "--port", str(port))
    assert r.returncode == 2 and "nope.hl7: no such file or folder" in r.stderr


def test_queue_status_retry_purge(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    svc = MllpService(MllpConfig(port=0), store_dir=store, write_fhir=False,
                      forward_url=f"http://127.0.0.1:{dead_port}/fhir", retry=RetryPolicy(initial=30, jitter=0))
    svc.start()
    try:
        f = tmp_path / "m.hl7"
        f.write_bytes(oru(1))
        assert interop("send", str(f), "--port", str(svc.port)).returncode == 0  # AA although the server is down
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not svc.store.rows("pending")[0].attempts:
            time.sleep(0.1)
        r = interop("queue", "status", "--store", str(store), "--json")
        doc = json.loads(r.stdout)
        assert doc["counts"] == {"pending": 1}
        assert doc["retrying"][0]["attempts"] == 1 and "unreachable" in doc["retrying"][0]["reason"]
        assert 20 < doc["retrying"][0]["next_in_s"] <= 30  # backed off, not hammered
        text = interop("queue", "status", "--store", str(store))
        assert "pending 1, done 0, failed 0, dead 0" in text.stdout and "retrying #1 hl7v2 CTRL1" in text.stdout
        assert interop("queue", "retry", "--store", str(store)).stderr.strip() == "1 row(s) queued again"
        assert interop("queue", "purge", "--store", str(store), "--status", "pending").returncode == 2
        assert interop("queue", "purge", "--store", str(store)).stderr.strip() == "0 row(s) deleted"
    finally:
        svc.stop()
    assert interop("queue", "status", "--store", str(tmp_path / "none")).returncode == 2
