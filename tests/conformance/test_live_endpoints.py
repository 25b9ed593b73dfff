"""`interop conformance listen x73|dicom` as a separate process, driven by real peers on 127.0.0.1.

Peers: the project's 20601 agent simulator (`interop simulate x73-*`), a scripted agent replaying a
crafted failing trace (replay_agent.py), dcmtk's echoscu/storescu. Every listener runs with
--duration, so it stops by itself; the JSON report it writes is what the tests read.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from interop.conformance.checks import dicom as dicom_checks

from tests.dicom_net.conftest import dcmtk, free_port, interop_command  # noqa: F401 - dcmtk is a fixture

HERE = Path(__file__).resolve().parent
CASES = HERE.parents[1] / "conformance" / "cases"


def start_listener(kind: str, port: int, duration: float, tmp: Path) -> tuple[subprocess.Popen, Path, Path]:
    report, session = tmp / f"{kind}-report.json", tmp / f"{kind}-session"
    proc = subprocess.Popen([*interop_command(), "conformance", "listen", kind, "--port", str(port),
                             "--duration", str(duration), "--report", "json", "-o", str(report),
                             "--session-dir", str(session)], stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # "conformance listen x73: listening on 127.0.0.1:P; ..."
    assert f"listening on 127.0.0.1:{port}" in line, line
    return proc, report, session


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def findings(report: Path) -> dict[str, list[tuple[str, str]]]:
    doc = json.loads(report.read_text(encoding="utf-8"))
    return {Path(r["input"]).name: [(f["assertion"], f["location"]) for f in r["findings"]] for r in doc["results"]}


def test_x73_listen_simulated_agents_pass(tmp_path):
    port = free_port()
    proc, report, session = start_listener("x73", port, 6, tmp_path)
    for profile in ("x73-bp", "x73-pulseox"):
        done = subprocess.run([*interop_command(), "simulate", profile, "--port", str(port)],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    rc, err = finish(proc)
    assert rc == 0, err
    got = findings(report)
    assert sorted(got) == ["x73-association-001-0A1B2C3D4E5F0702.x73", "x73-association-002-0A1B2C3D4E5F0401.x73"]
    assert all(v == [] for v in got.values())
    trace = (session / "recorded" / "x73-association-001-0A1B2C3D4E5F0702.x73").read_text()
    lines = [x for x in trace.splitlines() if not x.startswith("#")]
    assert lines[0].startswith("e2 00") and lines[1].startswith("< e3 00")  # AARQ, then this manager's AARE
    assert lines[-2].startswith("e4 00") and lines[-1].startswith("< e5 00")  # RLRQ answered by RLRE


def test_x73_listen_flags_a_misbehaving_agent(tmp_path):
    """An agent that sends a scan report in Configuring (before its configuration): X73-FSM-003, and the
    manager's own answer (roer) is in the recording."""
    port = free_port()
    proc, report, session = start_listener("x73", port, 4, tmp_path)
    done = subprocess.run([sys.executable, str(HERE / "replay_agent.py"), str(CASES / "x73" / "X73-FSM-003.fail.x73"),
                           str(port)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    rc, err = finish(proc)
    assert rc == 1, err
    (name, hits), = findings(report).items()
    ids = {a for a, _ in hits}
    assert "X73-FSM-003" in ids and "X73-CFG-010" in ids
    assert ("X73-FSM-003", "APDU 3 line 5 byte 54") in hits
    recorded = (session / "recorded" / name).read_text().splitlines()
    assert recorded[5].startswith("< e7 00") and " 03 00 " in recorded[5][:40]  # roer not-allowed-by-object


def test_dicom_listen_records_dimse_and_instances(tmp_path, dcmtk):  # noqa: F811
    port = free_port()
    proc, report, session = start_listener("dicom", port, 8, tmp_path)
    bad = tmp_path / "sop-uid-reused.dcm"
    bad.write_bytes(dicom_checks.build_case({"base": "ct.dcm", "copy": {"SeriesInstanceUID": "SOPInstanceUID"}}))
    echo = subprocess.run([dcmtk["echoscu"], "127.0.0.1", str(port), "-aec", "INTEROP"], capture_output=True,
                          timeout=30)
    assert echo.returncode == 0, echo.stderr
    store = subprocess.run([dcmtk["storescu"], "127.0.0.1", str(port), "-aec", "INTEROP",
                            str(CASES / "dicom" / "sr_tid1500.dcm"), str(bad)], capture_output=True, timeout=30)
    assert store.returncode == 0, store.stderr
    rc, err = finish(proc)
    assert rc == 1, err
    got = findings(report)
    assert got["dicom-session.json"] == []
    assert got["instance-0001.dcm"] == []
    assert got["instance-0002.dcm"] == [("DCM-SOP-002", "/SOPInstanceUID(0008,0018)")]
    log = json.loads((session / "recorded" / "dicom-session.json").read_text())
    assert [[op["dimse"] for op in a["operations"]] for a in log["associations"]] == [["C-ECHO"], ["C-STORE", "C-STORE"]]
    assert all(a["ended"] == "released" and a["accepted"] for a in log["associations"])
    assert [op["status"] for op in log["associations"][1]["operations"]] == [0, 0]


def test_listen_without_a_peer_says_nothing_was_recorded(tmp_path):
    port = free_port()
    start = time.monotonic()
    done = subprocess.run([*interop_command(), "conformance", "listen", "x73", "--port", str(port), "--duration", "1",
                           "--session-dir", str(tmp_path / "s")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == f"conformance listen x73: nothing was recorded on 127.0.0.1:{port} in 1 s"
    assert time.monotonic() - start < 20
