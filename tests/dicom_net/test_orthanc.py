"""Orthanc (Debian package `orthanc`, a DICOM server nobody on this project wrote) as the sending peer of
`interop serve dicom`: Orthanc's own SCU answers C-ECHO and pushes stored instances with C-STORE (its
REST API `/modalities/{id}/echo` and `/store`), with the transfer syntaxes and association parameters
Orthanc chooses. The study arrives as one FHIR ImagingStudy with the values of the files.

Missing Orthanc fails with what to install (as `.ci/run` does); INTEROP_SKIP_ORTHANC=1 skips knowingly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import free_port
from .data import CT_SERIES, CT_STUDY, ct_study, sr_in_study

START_TIMEOUT = 30.0


class Orthanc:
    """An Orthanc process on 127.0.0.1 with its own storage in `directory`, knowing `serve dicom` as the
    modality "interop"."""

    def __init__(self, directory: Path, binary: str, interop_port: int) -> None:
        self.http = free_port()
        self.dicom = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "Name": "interop-test", "StorageDirectory": str(directory / "db"), "IndexDirectory": str(directory / "db"),
            "HttpPort": self.http, "DicomPort": self.dicom, "DicomAet": "ORTHANC", "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "HttpServerEnabled": True, "DicomServerEnabled": True,
            "DicomModalities": {"interop": ["INTEROP", "127.0.0.1", interop_port]},
            "Plugins": [], "LuaScripts": [], "SaveJobs": False, "ConcurrentJobs": 1, "StorageCompression": False,
        }
        path = directory / "orthanc.json"
        path.write_text(json.dumps(config))
        self.log = directory / "orthanc.log"
        self.proc = subprocess.Popen([binary, str(path)], stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Orthanc exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                self.get("/system")
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("Orthanc did not start:\n" + self.log.read_text()[-3000:])

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.http}{path}", data=body, method=method,
                                     headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
        return json.loads(data) if data else None

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, body: bytes | dict, content_type: str = "application/json"):
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        return self.request("POST", path, data, content_type)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def orthanc_binary() -> str:
    found = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        reason = ("Orthanc is not installed: the Orthanc peer tests need it: apt-get install -y orthanc (.ci/run "
                  "does), or set INTEROP_SKIP_ORTHANC=1 to skip them knowingly")
        if os.environ.get("INTEROP_SKIP_ORTHANC") == "1" and not os.environ.get("CI"):
            pytest.skip(reason)
        pytest.fail(reason, pytrace=False)
    return found


@pytest.fixture()
def orthanc_and_server(serve, orthanc_binary: str, tmp_path: Path) -> Iterator[tuple[Orthanc, object]]:
    server = serve("--quiet-period", "1")
    peer = Orthanc(tmp_path / "orthanc", orthanc_binary, server.port)
    try:
        yield peer, server
    finally:
        peer.stop()


def test_orthanc_echo_and_store_a_study(orthanc_and_server, tmp_path: Path) -> None:
    peer, server = orthanc_and_server
    assert peer.post("/modalities/interop/echo", {}) == {}  # C-ECHO answered (Orthanc: 200, empty object)
    ids = [peer.post("/instances", path.read_bytes(), "application/dicom")["ID"]
           for path, _ in ct_study(tmp_path / "ct", 3)]
    sr_path, sr_uid = sr_in_study(tmp_path / "sr")
    ids.append(peer.post("/instances", sr_path.read_bytes(), "application/dicom")["ID"])
    job = peer.post("/modalities/interop/store", {"Resources": ids, "Synchronous": True})
    assert job["InstancesCount"] == 4 and job["FailedInstancesCount"] == 0  # every C-STORE answered success
    bundle = json.loads(server.wait_bundle(CT_STUDY, timeout=30))
    resources = [e["resource"] for e in bundle["entry"]]
    study = next(r for r in resources if r["resourceType"] == "ImagingStudy")
    assert study["identifier"][0]["value"] == f"urn:oid:{CT_STUDY}"
    assert study["numberOfInstances"] == 4 and study["numberOfSeries"] == 2
    ct = next(s for s in study["series"] if s["uid"] == CT_SERIES)
    assert ct["modality"]["code"] == "CT" and len(ct["instance"]) == 3
    assert sorted(i["number"] for i in ct["instance"]) == [1, 2, 3]
    sr = next(s for s in study["series"] if s["uid"] != CT_SERIES)
    assert sr["modality"]["code"] == "SR" and sr["instance"][0]["uid"] == sr_uid
    from interop.transport.store import DurableStore

    with DurableStore(server.store / "store.sqlite3") as store:  # each instance durable, with who sent it
        rows = [r for r in store.rows() if r.kind == "dicom-instance"]
    assert len(rows) == 4 and {r.meta["calling_ae"] for r in rows} == {"ORTHANC"}
    assert {r.meta["called_ae"] for r in rows} == {"INTEROP"}


def test_orthanc_store_is_refused_for_an_ae_not_allowed(serve, orthanc_binary: str, tmp_path: Path) -> None:
    server = serve("--allow", "SOMEONE-ELSE")
    peer = Orthanc(tmp_path / "orthanc", orthanc_binary, server.port)
    try:
        with pytest.raises(urllib.error.HTTPError):  # Orthanc reports the association rejection as an error
            peer.post("/modalities/interop/echo", {})
        path, _ = ct_study(tmp_path / "ct", 1)[0]
        iid = peer.post("/instances", path.read_bytes(), "application/dicom")["ID"]
        with pytest.raises(urllib.error.HTTPError):
            peer.post("/modalities/interop/store", {"Resources": [iid], "Synchronous": True})
    finally:
        peer.stop()
    assert server.alive()
    assert not server.bundle_path(CT_STUDY).exists()
    assert "calling AE title 'ORTHANC' is not in --allow" in server.log
