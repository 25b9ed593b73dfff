"""20601 over TCP on 127.0.0.1 with real peers: our manager (X73Manager) and our agent simulator, and the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from interop.codecs.ieee11073 import apdu
from interop.codecs.ieee11073 import nomenclature as nom

from interop.transport.x73.agent import run_agent
from interop.transport.x73.manager import ManagerConfig, X73Manager

from .vectors import load

INTEROP = [sys.executable, "-m", "interop.cli.main"]


class ListSink:
    """A sink that keeps what it receives."""

    def __init__(self) -> None:
        self.bundles: list[tuple[str, dict]] = []

    def emit(self, bundle_json: bytes, name: str) -> str:
        self.bundles.append((name, orjson.loads(bundle_json)))
        return f"list:{len(self.bundles)}"


@pytest.fixture
def manager(tmp_path):
    sink = ListSink()
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, idle_timeout=5.0,
                                 assume_tz=ZoneInfo("America/New_York")), sink=sink)
    m.start()
    yield m, sink
    m.stop()


def _wait(cond, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _observations(bundle: dict) -> list[dict]:
    """The readings (not the PHD coincident time stamp Observation, MDC_ATTR_TIME_ABS 67975)."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and e["resource"]["code"]["coding"][0]["code"] != "67975"]


@pytest.mark.parametrize("profile", ["x73-bp", "x73-scale", "x73-pulseox", "x73-thermo", "x73-glucose"])
def test_simulated_agents_reach_the_sink(manager, profile: str) -> None:
    m, sink = manager
    run = run_agent(profile, port=m.port, extended=True, timeout=5)
    assert (run.aare_result, run.config_result, run.reports_confirmed, run.released) == (3, 0, 2, True)
    again = run_agent(profile, port=m.port, extended=True, timeout=5)  # configuration now remembered
    assert (again.aare_result, again.config_result) == (0, None)
    _wait(lambda: m.store.counts() == {"done": 6 + 5})  # emitted, then marked done
    for _, bundle in sink.bundles:
        obs = _observations(bundle)
        assert obs and all(o["code"]["coding"][0]["system"] == "urn:iso:std:iso:11073:10101" for o in obs)
    assert m.outcomes[0].states[:2] == [("rx-aarq", "unassociated", "associating"),
                                        ("rx-aarq-acceptable-and-unknown-configuration", "associating", "configuring")]
    # APDUs stored one by one (AARQ, config, GET response, 2 reports, RLRQ; then without config), one group each
    assert [len(m.store.rows(group=g)) for g in sorted({r.group for r in m.store.rows()})] == [6, 5]


# The x73-bp simulator's two readings (interop.codecs.ieee11073.agent.PROFILES["x73-bp"]): report 1 at `now`,
# report 2 one minute later; MDC codes per 20601 / 10407 (compound NIBP 150020, pulse 149546), UCUM units.
BP_READINGS = [
    ("150020", [("150021", 120, "mm[Hg]"), ("150022", 80, "mm[Hg]"), ("150023", 100, "mm[Hg]")]),
    ("149546", [("149546", 60.0, "/min")]),
    ("150020", [("150021", 118, "mm[Hg]"), ("150022", 76, "mm[Hg]"), ("150023", 90, "mm[Hg]")]),
    ("149546", [("149546", 72, "/min")]),
]


def _readings(bundle: dict) -> list[tuple[str, list[tuple[str, float, str]]]]:
    """(MDC code, [(MDC code, value, UCUM code)]) per Observation: components of a compound, else its value."""
    out = []
    for o in _observations(bundle):
        code = o["code"]["coding"][0]["code"]
        parts = o.get("component") or [{"code": o["code"], "valueQuantity": o["valueQuantity"]}]
        out.append((code, [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
                           for c in parts]))
    return out


def test_bp_values_in_the_bundle(manager) -> None:
    m, sink = manager
    now = datetime(2024, 11, 29, 23, 8, 57)
    run = run_agent("x73-bp", port=m.port, extended=False, timeout=5, now=now)
    assert (run.aare_result, run.config_result, run.reports_confirmed, run.released) == (nom.ACCEPTED, None, 2, True)
    _wait(lambda: m.store.counts() == {"done": 5})
    ((name, bundle),) = sink.bundles
    assert _readings(bundle) == BP_READINGS
    assert [o["effectiveDateTime"] for o in _observations(bundle)] == [  # agent-local times in the gateway's zone
        "2024-11-29T23:08:57-05:00", "2024-11-29T23:08:57-05:00", "2024-11-29T23:09:57-05:00",
        "2024-11-29T23:09:57-05:00"]
    assert b'"value":60.0' in orjson.dumps(bundle)  # precision of the SFLOAT kept
    phg, device = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Device"]
    assert device["identifier"][0]["value"] == "0A-1B-2C-3D-4E-5F-07-02"  # PHD IG writes dashes
    own = m.config.system_id.hex().upper()  # made on first start and kept in the store: this PHG's identity
    assert (m.config.store_dir / "phg-system-id").read_text().strip() == own
    assert own[:2] in {f"{b:02X}" for b in range(256) if b & 0x02 and not b & 0x01}  # locally administered
    assert phg["identifier"][0]["value"] == "-".join(own[i:i + 2] for i in range(0, 16, 2))
    assert m.outcomes[0].ended == "released"


def _exchange(port: int, octets: bytes) -> list:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(octets)
        out = []
        s.settimeout(2)
        try:
            while True:
                header = s.recv(4, socket.MSG_WAITALL)
                if len(header) < 4:
                    break
                body = s.recv(int.from_bytes(header[2:4], "big"), socket.MSG_WAITALL)
                out.append(apdu.parse_apdu(header + body))
                if out[-1].choice == nom.ABRT_CHOSEN:
                    break
        except TimeoutError:
            pass
        return out


def test_report_before_association_is_aborted_over_tcp(manager) -> None:
    m, _ = manager
    (abrt,) = _exchange(m.port, load("antidote_H241"))
    assert abrt.choice == nom.ABRT_CHOSEN
    assert run_agent("x73-thermo", port=m.port, timeout=5).released  # the manager survives


def test_unknown_handle_gets_roer_over_tcp_and_manager_survives(manager) -> None:
    # antidote H211_ID_05DC (AARQ, standard config 0x05DC) then H241_ID_05DC (report with handle 3, not in 0x05DC)
    m, _ = manager
    with socket.create_connection(("127.0.0.1", m.port), timeout=5) as s:
        s.sendall(load("antidote_H211_ID_05DC") + load("antidote_H241_ID_05DC"))
        got = []
        while not got or got[-1].choice != nom.PRST_CHOSEN or got[-1].apdu.choice != nom.ROER_CHOSEN:
            header = s.recv(4, socket.MSG_WAITALL)
            assert len(header) == 4, got
            got.append(apdu.parse_apdu(header + s.recv(int.from_bytes(header[2:4], "big"), socket.MSG_WAITALL)))
        assert got[0].choice == nom.AARE_CHOSEN and got[0].apdu.result == nom.ACCEPTED
        assert (got[-1].apdu.invoke_id, got[-1].apdu.message.error_value) == (0x1236, nom.NO_SUCH_OBJECT_INSTANCE)
        assert not any(g.choice == nom.ABRT_CHOSEN for g in got)
    assert run_agent("x73-scale", port=m.port, timeout=5).released  # the manager survives


def test_garbage_and_oversized_apdus_are_aborted_over_tcp(manager) -> None:
    m, _ = manager
    assert _exchange(m.port, b"\x12\x34\x00\x02\x00\x00")[0].choice == nom.ABRT_CHOSEN
    big = _exchange(m.port, load("antidote_H211_ID_02BC") + b"\xe7\x00\xff\xff")
    assert big[-1].choice == nom.ABRT_CHOSEN and big[-1].apdu.reason == nom.ABORT_REASON_BUFFER_OVERFLOW
    bad = _exchange(m.port, load("antidote_H211_ID_02BC") + bytes.fromhex("e7 00 00 08 00 06 43 21 09 99 00 00"))
    # a malformed PRST in Operating is rejected (rorj badly-structured-apdu to its invoke-id), not aborted
    assert bad[-1].choice == nom.PRST_CHOSEN and bad[-1].apdu.choice == nom.RORJ_CHOSEN
    assert (bad[-1].apdu.invoke_id, bad[-1].apdu.message.problem) == (0x4321, nom.BADLY_STRUCTURED_APDU)
    assert run_agent("x73-scale", port=m.port, timeout=5).released


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serve_and_simulate(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": ""}
    server = subprocess.Popen([*INTEROP, "serve", "x73", "--port", str(port), "--store", str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    try:
        end = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > end or server.poll() is not None:
                    raise AssertionError("serve x73 did not start") from None
                time.sleep(0.1)
        sim = subprocess.run([*INTEROP, "simulate", "x73-bp", "--port", str(port)], capture_output=True, text=True,
                             timeout=30, env=env, cwd=tmp_path)
        assert sim.returncode == 0, sim.stderr
        # association (accepted-unknown-config), configuration, the manager's GET of the MDS, two confirmed
        # reports, release: the simulator's log of what it sent (→) and received (←)
        assert sim.stderr.splitlines() == [
            "→ AARQ", "← AARE", "→ roiv-cmip-confirmed-event-report", "← rors-cmip-confirmed-event-report",
            "→ roiv-cmip-confirmed-event-report", "← roiv-cmip-get", "→ rors-cmip-get",
            "← rors-cmip-confirmed-event-report", "→ roiv-cmip-confirmed-event-report",
            "← rors-cmip-confirmed-event-report", "→ RLRQ", "← RLRE",
            "x73-bp: config 0x4000, 2 report(s) confirmed, released"]
        _wait(lambda: _done(tmp_path) == 6, 10)  # the 6 APDUs, marked done after the sink wrote
        (path,) = (tmp_path / "fhir").glob("x73-0A1B2C3D4E5F0702-*.json")
        bundle = json.loads(path.read_text())
        assert _readings(bundle) == BP_READINGS  # both reports' values reached the sink
        times = [datetime.fromisoformat(o["effectiveDateTime"]) for o in _observations(bundle)]
        assert times[0] == times[1] and times[2] == times[3] and (times[2] - times[0]).total_seconds() == 60
    finally:
        server.terminate()
        server.wait(10)


def _done(store: Path) -> int:
    """Rows of the manager's durable store marked done (0 before the store exists)."""
    import sqlite3

    if not (store / "store.sqlite3").exists():
        return 0
    with sqlite3.connect(store / "store.sqlite3") as db:
        return db.execute("SELECT count(*) FROM item WHERE status = 'done'").fetchone()[0]


def test_cli_simulate_without_manager_exits_2(tmp_path: Path) -> None:
    sim = subprocess.run([*INTEROP, "simulate", "x73-bp", "--port", str(_free_port())], capture_output=True,
                         text=True, timeout=30, env={**os.environ, "PYTHONPATH": ""}, cwd=tmp_path)
    assert sim.returncode == 2
    assert len(sim.stderr.strip().splitlines()) == 1 and "cannot connect" in sim.stderr


def test_forward_sink_receives_both_reports(tmp_path: Path, fhir_server) -> None:
    """--forward: the association's transaction Bundle is POSTed to a real HTTP server on 127.0.0.1."""
    base, received = fhir_server
    url = f"{base}/fhir"
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, write_fhir=False, forward_url=url, idle_timeout=5.0))
    m.start()
    try:
        run = run_agent("x73-bp", port=m.port, extended=True, timeout=5, now=datetime(2024, 11, 29, 23, 8, 57))
        assert (run.reports_confirmed, run.released) == (2, True)
        _wait(lambda: m.store.counts() == {"done": 6})  # AARQ, configuration, GET response, 2 reports, RLRQ
        refs = {r.output_ref for r in m.store.rows("done")}
    finally:
        m.stop()
    ((_, path, ctype, body),) = received
    assert (path, ctype) == ("/fhir", "application/fhir+json")
    bundle = orjson.loads(body)
    assert bundle["type"] == "transaction" and _readings(bundle) == BP_READINGS
    # the sink records where the server put the Bundle (its Location header)
    assert refs == {"/fhir/_history/1"} and m.outcomes[0].error is None


# ---------------------------------------------------------------- slow and half-open agents (slowloris family)


def _slow_sockets(port: int, count: int) -> list[socket.socket]:
    """Connections that never finish an APDU: silent, half an APDU header, an AARQ cut short."""
    from interop.codecs.ieee11073 import agent

    aarq = agent.aarq(bytes.fromhex("0011223344556688"), 0x4000)
    out = []
    for n in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 3 == 1:
            s.sendall(aarq[:2])
        elif n % 3 == 2:
            s.sendall(aarq[: len(aarq) // 2])
        out.append(s)
    return out


def test_slow_and_half_open_agents_never_shut_out_a_real_one(tmp_path, caplog) -> None:
    import logging
    from concurrent.futures import ThreadPoolExecutor

    caplog.set_level(logging.INFO, logger="interop.x73")
    sink = ListSink()
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, max_connections=4, apdu_timeout=30,
                                 assoc_timeout=30), sink=sink)
    m.start()
    try:
        slow = _slow_sockets(m.port, 10)  # 10 stalled connections against a limit of 4 (6 refused at once)
        time.sleep(2.5)  # past the 2 s grace: the admitted ones count as stalled
        started = time.monotonic()
        with ThreadPoolExecutor(3) as pool:  # three agents at once, each needs a slot
            runs = list(pool.map(lambda p: run_agent(p, port=m.port, timeout=5),
                                 ["x73-bp", "x73-scale", "x73-thermo"]))
        assert [(r.reports_confirmed, r.released) for r in runs] == [(2, True)] * 3
        assert time.monotonic() - started < 5
        _wait(lambda: len(sink.bundles) == 3)
        assert sorted(len(_observations(b)) for _, b in sink.bundles) == [2, 2, 4]
        evictions = [r.getMessage() for r in caplog.records if "at its limit of 4 connections; closed" in r.getMessage()]
        assert len(evictions) == 3 and all("(stalled: opening for" in e for e in evictions), evictions
        for s in slow:
            s.close()
    finally:
        m.stop()


def test_trickled_apdu_is_cut_at_the_apdu_deadline(tmp_path, caplog) -> None:
    import logging

    from interop.codecs.ieee11073 import agent

    caplog.set_level(logging.INFO, logger="interop.x73")
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, apdu_timeout=1.5), sink=ListSink())
    m.start()
    try:
        aarq = agent.aarq(bytes.fromhex("0011223344556688"), 0x4000)
        s = socket.create_connection(("127.0.0.1", m.port), timeout=5)
        started, closed_after = time.monotonic(), None
        for byte in aarq:  # one byte every 0.2 s: the AARQ would take about 10 s
            try:
                s.sendall(bytes([byte]))
            except OSError:
                closed_after = time.monotonic() - started
                break
            s.settimeout(0.2)
            try:
                if s.recv(1) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                pass
        assert closed_after is not None and 1.2 < closed_after < 3.0, closed_after
        assert any("APDU not complete within 2 s; connection closed" in r.getMessage() for r in caplog.records)
        s.close()
        assert run_agent("x73-thermo", port=m.port, timeout=5).released
    finally:
        m.stop()


def test_limit_reached_by_active_agents_refuses_with_aare_rejected_transient(tmp_path, caplog) -> None:
    import logging

    from interop.codecs.ieee11073 import agent

    caplog.set_level(logging.INFO, logger="interop.x73")
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, max_connections=1), sink=ListSink())
    m.start()
    try:
        aarq = agent.aarq(bytes.fromhex("0011223344556688"), 0x4000)  # not the manager's own EUI-64 (0011223344556677)
        with socket.create_connection(("127.0.0.1", m.port), timeout=5) as first:
            first.sendall(aarq)
            header = first.recv(4, socket.MSG_WAITALL)
            aare = apdu.parse_apdu(header + first.recv(int.from_bytes(header[2:4], "big"), socket.MSG_WAITALL))
            assert aare.apdu.result == nom.ACCEPTED_UNKNOWN_CONFIG  # associated, well within the grace
            (refused,) = _exchange(m.port, aarq)
            assert refused.choice == nom.AARE_CHOSEN and refused.apdu.result == nom.REJECTED_TRANSIENT
        messages = [r.getMessage() for r in caplog.records]
        assert any("connection limit reached (1/1, all making progress); refusing 127.0.0.1:" in t for t in messages)
    finally:
        m.stop()


# ---------------------------------------------------------------- crash: SIGKILL mid-stream, restart, replay


def _start_cli(port: int, store: Path, *extra: str) -> tuple[subprocess.Popen, list[str]]:
    import threading

    env = {**os.environ, "PYTHONPATH": ""}
    proc = subprocess.Popen([*INTEROP, "serve", "x73", "--port", str(port), "--store", str(store), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=store.parent)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.append(raw.decode(errors="replace").rstrip())
            if "listening on" in lines[-1]:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(20) and proc.poll() is None, lines
    assert lines[-1] == f"interop serve x73: manager listening on 127.0.0.1:{port}"
    return proc, lines


def _statuses(store: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(store / "store.sqlite3") as db:
        return dict(db.execute("SELECT status, count(*) FROM item GROUP BY status").fetchall())


def _pending(store: Path) -> int:
    import sqlite3

    with sqlite3.connect(store / "store.sqlite3") as db:
        return db.execute("SELECT count(*) FROM item WHERE status = 'pending'").fetchone()[0]


def test_sigkill_mid_stream_every_acknowledged_reading_reaches_fhir_once(tmp_path: Path) -> None:
    """8 agents loop associations of 5 confirmed reports each; the manager is SIGKILLed mid-stream and
    restarted: every report the manager confirmed (its APDU acknowledged) is in DIR/fhir and in the real FHIR
    server (tests/fhirserver, read back by FHIR search) exactly once."""
    from fhirserver import FhirServer

    with FhirServer(validate=False) as fhir:  # validation would double the run; the MLLP tests validate
        _sigkill_run(tmp_path, fhir)


def _sigkill_run(tmp_path: Path, fhir) -> None:
    import threading
    from datetime import timedelta

    from interop.codecs.ieee11073 import agent as profiles

    from interop.errors import TransportError

    store, port = tmp_path / "store", _free_port()
    server, _ = _start_cli(port, store, "--forward", fhir.base)
    acked: list[tuple[str, datetime]] = []  # (profile, time of a confirmed report)
    lock = threading.Lock()
    names = ["x73-bp", "x73-scale", "x73-pulseox", "x73-thermo", "x73-glucose", "x73-bp", "x73-scale", "x73-thermo"]

    def agent_loop(idx: int, profile: str) -> None:
        for run_no in range(200):  # bounded: ends when the manager dies
            base = datetime(2025, 1, 1) + timedelta(days=idx, hours=run_no)  # distinct times per agent and run
            failed = False
            try:
                run = run_agent(profile, port=port, reports=5, timeout=5, now=base)
            except TransportError as exc:
                run, failed = getattr(exc, "run", None), True
            if run is not None:
                with lock:
                    acked.extend((profile, base + timedelta(minutes=n)) for n in range(run.reports_confirmed))
            if failed:
                return

    threads = [threading.Thread(target=agent_loop, args=(i, p), daemon=True) for i, p in enumerate(names)]
    for t in threads:
        t.start()
    time.sleep(2.5)
    server.kill()  # SIGKILL: no shutdown code runs
    server.wait(10)
    for t in threads:
        t.join(15)
    killed_with = _pending(store)
    assert acked and killed_with > 0  # the kill did leave acknowledged APDUs behind

    restarted, lines = _start_cli(port, store, "--forward", fhir.base)
    try:
        _wait(lambda: _pending(store) == 0, 30)
    finally:
        restarted.terminate()
        restarted.wait(10)
    assert any("being replayed" in line for line in lines), lines

    in_files = [obs for path in (store / "fhir").glob("*.json") for obs in _observations(json.loads(path.read_text()))]
    in_server = [o for o in fhir.search("Observation") if o["code"]["coding"][0]["code"] != "67975"]
    for where, observations in (("DIR/fhir", in_files), ("FHIR server", in_server)):
        seen: dict[tuple[str, str], int] = {}  # (effectiveDateTime, MDC code) -> Observations
        for obs in observations:
            key = (obs["effectiveDateTime"], obs["code"]["coding"][0]["code"])
            seen[key] = seen.get(key, 0) + 1
        missing, duplicated = [], []
        for profile, when in acked:
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            found = {code: n for (t, code), n in seen.items() if t == stamp}
            expected = len(profiles.PROFILES[profile].readings[0])  # one Observation per metric of the report
            if len(found) < expected:
                missing.append((profile, stamp, found))
            duplicated += [(profile, stamp, code) for code, n in found.items() if n != 1]
        assert not missing and not duplicated, (where, _statuses(store), len(acked), missing[:5], duplicated[:5])
    assert len(in_server) == len(in_files)  # the server holds what DIR/fhir says, no more
