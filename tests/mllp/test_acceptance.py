"""Issue 12 acceptance, end to end with real processes on 127.0.0.1: `interop serve mllp` (a subprocess)
forwarding to a real FHIR server (Medplum's FHIR engine, tests/fhirserver), SIGKILLed in the middle of
2,000 messages from 4 concurrent connections, restarted; every message that got AA is in the FHIR
server and in DIR/fhir exactly once. Then the FHIR server down, slow, 5xx and 4xx."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from fhirserver import FhirServer

from .helpers import PATIENT_ID, Peer, msa, oru

N_CONN, PER_CONN = 4, 500
KILL_AT = 900  # acknowledged messages before the SIGKILL


class Server:
    """`interop serve mllp` as a subprocess; `port` is read from the line it prints."""

    def __init__(self, store: Path, forward: str | None, *extra: str) -> None:
        args = [sys.executable, "-m", "interop.cli.main", "serve", "mllp", "--port", "0", "--store", str(store),
                *(["--forward", forward] if forward else []), *extra]
        self.log = store.parent / f"serve-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        line = b""
        early = []
        while time.monotonic() < deadline and b"mllp listening on" not in line:
            if select.select([self.proc.stderr], [], [], 0.5)[0]:
                line = self.proc.stderr.readline()
                early.append(line)
                if not line and self.proc.poll() is not None:
                    break
        self.log.write_bytes(b"".join(early))
        assert b"mllp listening on" in line, early
        self.port = int(line.split(b"listening on ")[1].split(b";")[0].split(b":")[1].split(b" ")[0])
        self._drain = threading.Thread(target=self._copy_log, daemon=True)
        self._drain.start()

    def _copy_log(self) -> None:
        assert self.proc.stderr is not None
        with open(self.log, "ab") as out:
            for line in self.proc.stderr:
                out.write(line)
                out.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._drain.join(5)

    def log_text(self) -> str:
        self._drain.join(0.5)
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def queue_counts(store: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{store / 'store.sqlite3'}?mode=ro", uri=True, timeout=30)
    try:
        return dict(db.execute("SELECT status, COUNT(*) FROM item GROUP BY status").fetchall())
    finally:
        db.close()


def wait_settled(store: Path, timeout: float) -> dict[str, int]:
    """Wait until no row is pending; returns the counts."""
    deadline = time.monotonic() + timeout
    counts = queue_counts(store)
    while counts.get("pending", 0) and time.monotonic() < deadline:
        time.sleep(0.25)
        counts = queue_counts(store)
    return counts


def message_index(observation: dict) -> int:
    """The `i` of helpers.oru(i) an Observation came from (its effective time encodes i)."""
    t = observation["effectiveDateTime"]  # 2024-01-0DTHH:MM:SSZ
    day, hh, mm, ss = int(t[9]), int(t[11:13]), int(t[14:16]), int(t[17:19])
    return (day - 1) * 86400 + hh * 3600 + mm * 60 + ss


def test_2000_messages_4_connections_sigkill_restart_exactly_once(tmp_path: Path) -> None:
    store = tmp_path / "store"
    t0 = time.monotonic()
    acked: set[int] = set()
    lock = threading.Lock()
    with FhirServer(validate=False) as fhir:  # validation would triple the run; the 4xx test below has it
        server = Server(store, fhir.base)
        next_index = {t: t * PER_CONN for t in range(N_CONN)}
        killed = threading.Event()

        def sender(t: int, port: int) -> None:
            """Sends its messages in order; after a failure the un-acknowledged one is sent again."""
            try:
                peer = Peer(port, timeout=30)
            except OSError:
                return
            try:
                while next_index[t] < (t + 1) * PER_CONN:
                    i = next_index[t]
                    ack = peer.exchange(oru(i), timeout=30)
                    if ack is None:
                        return
                    code, acked_id = msa(ack)
                    assert (code, acked_id) == ("AA", f"CTRL{i}")
                    with lock:
                        acked.add(i)
                        if len(acked) >= KILL_AT and not killed.is_set():
                            killed.set()
                            server.kill()  # SIGKILL: no shutdown, no flush; in the middle of the stream
                    next_index[t] = i + 1
            except OSError:
                return
            finally:
                peer.close()

        threads = [threading.Thread(target=sender, args=(t, server.port)) for t in range(N_CONN)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert killed.is_set() and server.proc.returncode == -signal.SIGKILL
        before_restart = len(acked)
        assert KILL_AT <= before_restart < N_CONN * PER_CONN
        pending_at_kill = queue_counts(store).get("pending", 0)
        t_kill = time.monotonic()

        server = Server(store, fhir.base)  # restart on the same store: replays what is pending
        try:
            threads = [threading.Thread(target=sender, args=(t, server.port)) for t in range(N_CONN)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            assert acked == set(range(N_CONN * PER_CONN))
            t_sent = time.monotonic()
            counts = wait_settled(store, 120)
            print(f"phases: start+first half {t_kill - t0:.1f} s, restart+second half {t_sent - t_kill:.1f} s, "
                  f"forward backlog {time.monotonic() - t_sent:.1f} s; pending at kill {pending_at_kill}")
            assert counts == {"done": N_CONN * PER_CONN}, counts  # re-sent messages were deduplicated
            # the FHIR server: one Observation per acknowledged message, no more (FHIR search)
            assert fhir.count("Observation") == N_CONN * PER_CONN
            observations = fhir.search("Observation", {"_elements": "effective"})
            indexes = [message_index(o) for o in observations]
            assert sorted(indexes) == list(range(N_CONN * PER_CONN))
            assert fhir.count("Provenance") == N_CONN * PER_CONN
            patient = fhir.search("Patient", {"identifier": f"{PATIENT_ID}"})
            assert len(patient) == 1  # one Patient for 2,000 messages about them (PUT by identifier hash)
            hr = fhir.search("Observation", {"subject": f"Patient/{patient[0]['id']}",
                                             "code": "urn:iso:std:iso:11073:10101|147842"})
            assert len(hr) == N_CONN * PER_CONN and hr[0]["valueQuantity"]["system"] == "http://unitsofmeasure.org"
            # DIR/fhir: one file per acknowledged message
            files = sorted((store / "fhir").glob("*.json"))
            assert len(files) == N_CONN * PER_CONN
            seen = []
            for f in files:
                bundle = json.loads(f.read_bytes())
                seen += [message_index(e["resource"]) for e in bundle["entry"]
                         if e["resource"]["resourceType"] == "Observation"]
            assert sorted(seen) == list(range(N_CONN * PER_CONN))
            log = server.log_text()
            if pending_at_kill:
                assert f"replaying {pending_at_kill} pending row(s)" in log
            assert PATIENT_ID not in log
        finally:
            server.stop()


def test_fhir_server_down_slow_5xx_then_4xx(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with FhirServer() as fhir:
        fhir.control(status=503)  # answers 503 to every request
        server = Server(store, fhir.base)
        try:
            peer = Peer(server.port)
            for i in range(5):
                assert msa(peer.exchange(oru(100 + i))) == ("AA", f"CTRL{100 + i}")  # acknowledged while down
            # back-off 1, 2, 4 s ... between attempts: wait (event-driven) until every row was tried twice
            db = sqlite3.connect(f"file:{store / 'store.sqlite3'}?mode=ro", uri=True, timeout=30)
            deadline = time.monotonic() + 20
            while True:
                attempts, most, reason, waited = db.execute(
                    "SELECT MIN(attempts), MAX(attempts), MAX(reason), MIN(updated - created) FROM item").fetchone()
                if attempts >= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            db.close()
            assert queue_counts(store) == {"pending": 5}
            assert attempts == 2 and most <= 3 and "503" in reason
            assert waited >= 0.85  # the second attempt came after the first back-off (1 s +- 10 %), not at once
            stats = fhir.control(status=0, delayMs=300)  # back, but slow
            assert stats["requests"] == 0  # the forced 503s never reached the FHIR engine
            subprocess.run([sys.executable, "-m", "interop.cli.main", "queue", "retry", "--store", str(store)],
                           check=True, capture_output=True)  # due now
            counts = wait_settled(store, 30)
            assert counts == {"done": 5}
            assert fhir.count("Observation") == 5
            fhir.control(delayMs=0)
            # 4xx: a message the FHIR server refuses goes to the dead-letter queue with its OperationOutcome
            # (the server's business rule refuses the Bundle of oru(200), whose Observation is at 00:03:20)
            fhir.control(reject="2024-01-01T00:03:20Z")
            assert msa(peer.exchange(oru(200)))[0] == "AA"
            counts = wait_settled(store, 30)
            fhir.control(reject="")
            peer.close()
            status = subprocess.run([sys.executable, "-m", "interop.cli.main", "queue", "status", "--store", str(store),
                                     "--json"], check=True, capture_output=True)
            doc = json.loads(status.stdout)
        finally:
            server.stop()
    assert counts == {"done": 5, "dead": 1}
    dead = [p for p in doc["problems"] if p["status"] == "dead"]
    assert dead[0]["key"] == "CTRL200"
    assert "FHIR server answered 422" in dead[0]["reason"] and "refused by the test server's rule" in dead[0]["reason"]
    assert '"code":"business-rule"' in dead[0]["reason"]  # its OperationOutcome
