"""`interop serve dicom` SIGKILLed while four dcmtk `storescu` send, then restarted: every instance whose
C-STORE was answered Success is in DIR/fhir and in the real FHIR server (tests/fhirserver, read back by FHIR
search) exactly once, in its study's one ImagingStudy.

storescu -v logs, per file in command-line order, "Sending Store Request" then "Received Store Response
(Success)"; the files answered are the first ones of its list. Data: CT_small.dcm (pydicom) with new UIDs.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

from fhirserver import FhirServer
from pydicom import dcmread
from pydicom.data import get_testdata_file


def _files(directory: Path, sender: int, count: int) -> list[tuple[Path, str]]:
    """`count` instances in 3 studies shared by all senders (a study is fed by several associations)."""
    directory.mkdir(parents=True, exist_ok=True)
    template = dcmread(get_testdata_file("CT_small.dcm"))
    out = []
    for n in range(count):
        ds = template.copy()
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1142.{n % 3 + 1}"
        ds.SeriesInstanceUID = f"{ds.StudyInstanceUID}.{sender}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{ds.SeriesInstanceUID}.{n + 1}"
        path = directory / f"s{sender}-{n:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append((path, str(ds.SOPInstanceUID)))
    return out


def _acknowledged(log: str, files: list[tuple[Path, str]]) -> list[str]:
    answers = re.findall(r"Received Store Response(?: \((\w+)\))?", log)
    acked = []
    for (_, uid), status in zip(files, answers, strict=False):
        if status != "Success":
            break
        acked.append(uid)
    return acked


def _pending(store: Path) -> int:
    with sqlite3.connect(store / "store.sqlite3") as db:
        return db.execute("SELECT count(*) FROM item WHERE status = 'pending'").fetchone()[0]


def test_sigkill_during_four_storescu_every_answered_instance_reaches_fhir_once(serve, dcmtk, tmp_path: Path) -> None:
    with FhirServer() as fhir:
        _sigkill_run(serve, dcmtk, tmp_path, fhir)


def _instances(studies: list[dict]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for res in studies:
        for series in res["series"]:
            for inst in series["instance"]:
                seen[inst["uid"]] = seen.get(inst["uid"], 0) + 1
    return seen


def _sigkill_run(serve, dcmtk, tmp_path: Path, fhir: FhirServer) -> None:
    store = tmp_path / "store"
    server = serve("--quiet-period", "0", "--forward", fhir.base, store=store)
    batches = [_files(tmp_path / "in", s, 30) for s in range(4)]
    env = {**os.environ, "TCP_NODELAY": "1"}  # dcmtk as packaged waits for delayed ACKs otherwise
    senders = [subprocess.Popen([dcmtk["storescu"], "-v", "-aet", f"SCU{s}", "-aec", "INTEROP", "127.0.0.1",
                                 str(server.port), *[str(p) for p, _ in files]],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
               for s, files in enumerate(batches)]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _count_rows(store) < 30:  # well into the stream
        time.sleep(0.02)
    server.kill()  # SIGKILL: no shutdown code runs
    logs = [p.communicate(timeout=30)[0].decode(errors="replace") for p in senders]
    acked = [uid for files, log in zip(batches, logs, strict=True) for uid in _acknowledged(log, files)]
    assert 20 <= len(acked) < 120, logs[0][-2000:]  # killed mid-stream, after real progress
    left = _pending(store)

    again = serve("--quiet-period", "0", "--forward", fhir.base, store=store)
    deadline = time.monotonic() + 30
    while _pending(store) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _pending(store) == 0, again.log
    assert left == 0 or "replaying" in again.log

    assert "dead" not in _statuses(store) and "failed" not in _statuses(store), _statuses(store)
    in_files = _instances([entry["resource"] for path in (store / "fhir").glob("*.json")
                           for entry in json.loads(path.read_text())["entry"]
                           if entry["resource"]["resourceType"] == "ImagingStudy"])
    # the FHIR server: one ImagingStudy per study (conditional update on the Study Instance UID, however often
    # the study was re-emitted), each acknowledged instance in it once
    studies = fhir.search("ImagingStudy")
    assert sorted(s["identifier"][0]["value"] for s in studies) == [
        f"urn:oid:1.2.826.0.1.3680043.10.1142.{n}" for n in (1, 2, 3)]
    in_server = _instances(studies)
    for seen in (in_files, in_server):
        missing = [uid for uid in acked if uid not in seen]
        duplicated = [uid for uid, n in seen.items() if n != 1]
        assert not missing and not duplicated, (len(acked), missing[:5], duplicated[:5])
    assert in_server == in_files  # what the server holds is what DIR/fhir says


def _statuses(store: Path) -> dict[str, int]:
    with sqlite3.connect(store / "store.sqlite3") as db:
        return dict(db.execute("SELECT status, count(*) FROM item GROUP BY status").fetchall())


def _count_rows(store: Path) -> int:
    try:
        with sqlite3.connect(store / "store.sqlite3", timeout=1) as db:
            return db.execute("SELECT count(*) FROM item").fetchone()[0]
    except sqlite3.Error:
        return 0
