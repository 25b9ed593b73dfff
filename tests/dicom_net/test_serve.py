"""`interop serve dicom` end to end on 127.0.0.1 with real peers: dcmtk storescu/echoscu and pynetdicom.

Data: CT_small.dcm and MR_small.dcm packaged with pydicom (UIDs in `data.py`).
Statuses: PS3.4 Table B.2-1 (C-STORE), PS3.8 9.3.4 / Table 9-21 (A-ASSOCIATE-RJ reasons), PS3.4 F.7.2 (MPPS).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .data import (
    CT_IMAGE_STORAGE,
    CT_INSTANCE,
    CT_SERIES,
    CT_STUDY,
    MR_SMALL_INSTANCE,
    MR_SMALL_STUDY,
    TEST_SR_INSTANCE,
    corrupt_file,
    ct_study,
    sr_in_study,
)

EXPLICIT_LE, IMPLICIT_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
VERIFICATION = "1.2.840.10008.1.1"
MPPS = "1.2.840.10008.3.1.2.3.3"


def resources(bundle: bytes, rtype: str) -> list[dict]:
    doc = json.loads(bundle)
    assert doc["resourceType"] == "Bundle"
    return [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == rtype]


def scu(ae_title: str = "PYSCU", contexts: tuple[str, ...] = (CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, VERIFICATION)):
    from pynetdicom import AE

    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    for uid in contexts:
        ae.add_requested_context(uid, EXPLICIT_LE)
        ae.add_requested_context(uid, IMPLICIT_LE)
    return ae


def store_rows(store: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(store / "store.sqlite3") as db:
        return db.execute("SELECT kind, key, status FROM item ORDER BY id").fetchall()


def wait_rows(store: Path, expected: list, timeout: float = 10.0, project=lambda row: row) -> list:
    """`project` of each store row once they equal `expected`, else the last ones seen after `timeout` seconds.

    The collector marks rows done only after the sink accepted the Bundle (sink first, then the store), so
    a test that saw the Bundle file must wait for the rows instead of reading them at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        rows = [project(row) for row in store_rows(store)]
        if rows == expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_storescu_study_becomes_one_imaging_study(serve, dcmtk, tmp_path: Path) -> None:
    server = serve("--quiet-period", "0")
    files = ct_study(tmp_path / "in", 3)
    sr_path, sr_uid = sr_in_study(tmp_path / "in")
    proc = subprocess.run([dcmtk["storescu"], "-aet", "STORESCU", "-aec", "INTEROP", "127.0.0.1", str(server.port),
                           *[str(p) for p, _ in files], str(sr_path)], capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    bundle = server.wait_bundle(CT_STUDY)
    (study,) = resources(bundle, "ImagingStudy")
    assert study["identifier"][0] == {"use": "official", "system": "urn:dicom:uid", "value": f"urn:oid:{CT_STUDY}"}
    assert (study["numberOfSeries"], study["numberOfInstances"]) == (2, 4)
    by_modality = {s["modality"]["code"]: s for s in study["series"]}
    series, sr_series = by_modality["CT"], by_modality["SR"]
    assert series["uid"] == CT_SERIES
    assert sr_series["instance"][0]["uid"] == sr_uid == TEST_SR_INSTANCE
    (report,) = resources(bundle, "DiagnosticReport")  # the SR with its 2 NUM measurements as results
    assert report["identifier"][0]["value"] == f"urn:oid:{TEST_SR_INSTANCE}"
    assert len(report["result"]) == len(resources(bundle, "Observation")) == 2
    assert series["modality"]["code"] == "CT"  # R4 Coding (default --fhir-version R4)
    assert [(i["uid"], i["number"]) for i in series["instance"]] == [(uid, n) for n, (_, uid) in enumerate(files, 1)]
    assert {i["sopClass"]["code"] for i in series["instance"]} == {f"urn:oid:{CT_IMAGE_STORAGE}"}
    expected = [("dicom-instance", uid, "done") for _, uid in files + [(sr_path, sr_uid)]]
    assert wait_rows(server.store, expected) == expected


def test_echoscu_and_disallowed_ae(serve, dcmtk) -> None:
    server = serve("--allow", "GOODSCU", "--allow", "STORESCU")
    ok = subprocess.run([dcmtk["echoscu"], "-aet", "GOODSCU", "-aec", "INTEROP", "127.0.0.1", str(server.port)],
                        capture_output=True, timeout=30)
    assert ok.returncode == 0, ok.stderr.decode()
    bad = subprocess.run([dcmtk["echoscu"], "-aet", "BADSCU", "-aec", "INTEROP", "127.0.0.1", str(server.port)],
                         capture_output=True, timeout=30)
    assert bad.returncode != 0
    text = (bad.stdout + bad.stderr).decode()
    assert "Rejected Permanent" in text and "Calling AE Title Not Recognized" in text, text
    # the same with pynetdicom: A-ASSOCIATE-RJ result 1 (permanent), source 1 (service user), reason 3
    assoc = scu("BADSCU").associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.is_rejected
    rj = assoc.acceptor.primitive
    assert (rj.result, rj.result_source, rj.diagnostic) == (0x01, 0x01, 0x03)
    assert server.alive()


def test_pynetdicom_store_corrupt_then_keeps_serving(serve, tmp_path: Path, monkeypatch) -> None:
    from pydicom import dcmread
    from pydicom.data import get_testdata_file
    from pynetdicom import _config

    monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)  # send the file's bytes as they are

    server = serve("--fhir-version", "R5", "--quiet-period", "0")
    ae = scu()
    assoc = ae.associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.is_established
    status = assoc.send_c_store(corrupt_file(tmp_path))
    assert status.Status == 0xC000  # Error: Cannot understand
    assert str(status.get("ErrorComment", ""))  # the codec's reason, no patient data
    # same association still works
    assert assoc.send_c_store(dcmread(get_testdata_file("MR_small.dcm"))).Status == 0x0000
    assoc.release()
    bundle = server.wait_bundle(MR_SMALL_STUDY)
    (study,) = resources(bundle, "ImagingStudy")
    assert study["identifier"][0]["value"] == f"urn:oid:{MR_SMALL_STUDY}"
    assert study["series"][0]["modality"]["coding"][0]["code"] == "MR"  # R5 CodeableConcept
    assert study["series"][0]["instance"][0]["uid"] == MR_SMALL_INSTANCE
    # next association accepted
    assoc = ae.associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.is_established and assoc.send_c_echo().Status == 0x0000
    assoc.release()
    expected = [("dicom-instance", "failed"), ("dicom-instance", "done")]
    assert wait_rows(server.store, expected, project=lambda row: (row[0], row[2])) == expected


def test_quiet_period_emits_while_association_open(serve, tmp_path: Path) -> None:
    from pydicom import dcmread

    server = serve("--quiet-period", "0.5")
    (path, uid), = ct_study(tmp_path / "in", 1)
    assoc = scu().associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.send_c_store(dcmread(path)).Status == 0x0000
    bundle = server.wait_bundle(CT_STUDY, timeout=10)  # association still open
    assert assoc.is_established
    assert resources(bundle, "ImagingStudy")[0]["numberOfInstances"] == 1
    time.sleep(0.05)
    t0 = time.time()
    (path2, uid2), = [f for f in ct_study(tmp_path / "in2", 2) if f[1] != uid]
    assert assoc.send_c_store(dcmread(path2)).Status == 0x0000
    assoc.release()
    bundle = server.wait_bundle(CT_STUDY, min_mtime=t0)
    assert resources(bundle, "ImagingStudy")[0]["numberOfInstances"] == 2  # the whole study again


def test_mpps_create_and_set(serve, tmp_path: Path) -> None:
    from pydicom import Dataset, dcmread

    server = serve("--quiet-period", "0")
    ae = scu(contexts=(MPPS, CT_IMAGE_STORAGE))
    assoc = ae.associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.is_established
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepID = "PPS1"
    ds.Modality = "CT"
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = "20040119", "072730"
    item = Dataset()
    item.StudyInstanceUID = CT_STUDY
    ds.ScheduledStepAttributesSequence = [item]
    uid = "1.2.826.0.1.3680043.2.1125.1.1"
    status, attrs = assoc.send_n_create(ds, MPPS, uid)
    assert status.Status == 0x0000 and attrs.PerformedProcedureStepID == "PPS1"
    status, _ = assoc.send_n_create(ds, MPPS, uid)
    assert status.Status == 0x0111  # duplicate SOP instance
    mod = Dataset()
    mod.PerformedProcedureStepStatus = "COMPLETED"
    status, attrs = assoc.send_n_set(mod, MPPS, uid)
    assert status.Status == 0x0000 and attrs.PerformedProcedureStepStatus == "COMPLETED"
    status, _ = assoc.send_n_set(mod, MPPS, uid)
    assert status.Status == 0x0110  # no longer updatable
    status, _ = assoc.send_n_set(mod, MPPS, "1.2.3.4.5")
    assert status.Status == 0x0112  # no such object instance
    (path, _), = ct_study(tmp_path / "in", 1)
    assert assoc.send_c_store(dcmread(path)).Status == 0x0000
    assoc.release()
    bundle = server.wait_bundle(CT_STUDY)
    (procedure,) = resources(bundle, "Procedure")  # the MPPS step of this study
    assert procedure["status"] == "completed"
    assert procedure["identifier"][0]["value"] == f"urn:oid:{uid}"
    assert resources(bundle, "ImagingStudy")[0]["procedureReference"]["reference"].startswith("urn:uuid:")


def test_pending_instances_survive_a_crash(serve, tmp_path: Path) -> None:
    from pydicom import dcmread

    store = tmp_path / "store"
    # the FHIR server is unreachable: the study cannot be emitted, its rows stay pending
    first = serve("--forward", "http://127.0.0.1:9/fhir", "--quiet-period", "0", store=store)
    (path, uid), = ct_study(tmp_path / "in", 1)
    assoc = scu().associate("127.0.0.1", first.port, ae_title="INTEROP")
    assert assoc.send_c_store(dcmread(path)).Status == 0x0000  # acknowledged = durable
    assoc.release()
    deadline = time.monotonic() + 10
    while "sink unavailable" not in first.log and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()
    assert store_rows(store) == [("dicom-instance", uid, "pending")]
    second = serve(store=store)  # restart: replays what was pending
    bundle = second.wait_bundle(CT_STUDY)
    assert resources(bundle, "ImagingStudy")[0]["series"][0]["instance"][0]["uid"] == CT_INSTANCE
    assert wait_rows(store, [("dicom-instance", uid, "done")]) == [("dicom-instance", uid, "done")]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def test_tls(serve, tls_files: tuple[Path, Path]) -> None:
    import ssl

    cert, key = tls_files
    server = serve("--tls-cert", str(cert), "--tls-key", str(key))
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cert))
    assoc = scu().associate("127.0.0.1", server.port, ae_title="INTEROP", tls_args=(ctx, "127.0.0.1"))
    assert assoc.is_established and assoc.send_c_echo().Status == 0x0000
    assoc.release()
    plain = scu().associate("127.0.0.1", server.port, ae_title="INTEROP")  # no TLS: refused
    assert not plain.is_established
    assert server.alive()


def test_forward_to_fhir_server(serve, tmp_path: Path, fhir_server) -> None:
    """--forward: the transaction Bundle is POSTed to a real HTTP server on 127.0.0.1 (and kept in --store)."""
    from pydicom import dcmread

    base, received = fhir_server
    server = serve("--forward", f"{base}/fhir", "--quiet-period", "0")
    (path, uid), = ct_study(tmp_path / "in", 1)
    assoc = scu().associate("127.0.0.1", server.port, ae_title="INTEROP")
    assert assoc.send_c_store(dcmread(path)).Status == 0x0000
    assoc.release()
    stored = server.wait_bundle(CT_STUDY)
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    ((_, req_path, ctype, body),) = received
    assert (req_path, ctype) == ("/fhir", "application/fhir+json")
    assert body == stored
    doc = json.loads(body)
    assert doc["type"] == "transaction"
    (entry,) = [e for e in doc["entry"] if e["resource"]["resourceType"] == "ImagingStudy"]
    assert entry["request"] == {"method": "POST", "url": "ImagingStudy",
                                "ifNoneExist": f"identifier=urn:dicom:uid|urn:oid:{CT_STUDY}"}
    assert wait_rows(server.store, [("dicom-instance", uid, "done")]) == [("dicom-instance", uid, "done")]


def test_tls_with_dcmtk(serve, dcmtk, tls_files: tuple[Path, Path], tmp_path: Path) -> None:
    """storescu/echoscu over TLS (+tla: server-authenticated TLS, our certificate added with +cf)."""
    cert, key = tls_files
    server = serve("--tls-cert", str(cert), "--tls-key", str(key), "--quiet-period", "0")
    tls = ["+tla", "+cf", str(cert), "-aec", "INTEROP", "127.0.0.1", str(server.port)]
    echo = subprocess.run([dcmtk["echoscu"], *tls], capture_output=True, timeout=30)
    assert echo.returncode == 0, echo.stderr.decode()
    (path, uid), = ct_study(tmp_path / "in", 1)
    store = subprocess.run([dcmtk["storescu"], *tls, str(path)], capture_output=True, timeout=30)
    assert store.returncode == 0, store.stderr.decode()
    bundle = server.wait_bundle(CT_STUDY)
    assert resources(bundle, "ImagingStudy")[0]["series"][0]["instance"][0]["uid"] == uid


def test_studies_whose_uids_differ_only_in_unsafe_characters_get_two_files(serve, tmp_path: Path) -> None:
    """`7.7/1` and `7.7_1` (not valid UIDs, but sent by real modalities) are two studies of two patients."""
    from pydicom import dcmread

    server = serve("--quiet-period", "0")
    (path, _), = ct_study(tmp_path / "in", 1)
    assoc = scu().associate("127.0.0.1", server.port, ae_title="INTEROP")
    for n, (study, patient) in enumerate([("7.7/1", "PAT-A"), ("7.7_1", "PAT-B")], 1):
        ds = dcmread(path)
        ds.StudyInstanceUID, ds.PatientID = study, patient
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1141.{n}"
        assert assoc.send_c_store(ds).Status == 0x0000
    assoc.release()
    first, second = server.wait_bundle("7.7/1"), server.wait_bundle("7.7_1")
    assert server.bundle_path("7.7/1") != server.bundle_path("7.7_1")
    assert server.bundle_path("7.7_1").name == "study-7.7_1.json"
    ids = [[i["value"] for i in resources(b, "Patient")[0]["identifier"]] for b in (first, second)]
    assert ["PAT-A" in v for v in ids] == [True, False] and ["PAT-B" in v for v in ids] == [False, True]
    assert len(list((server.store / "fhir").glob("*.json"))) == 2


def test_mpps_step_survives_a_restart_and_its_n_set_updates_the_procedure(serve, tmp_path: Path) -> None:
    """MPPS state is in the store: N-CREATE, the study emitted (Procedure in-progress), SIGKILL, restart, N-SET
    COMPLETED on a new association → 0x0000 (not 0x0112 no such instance), and the study's Bundle is written
    again with the same Procedure, now completed."""
    from pydicom import Dataset, dcmread

    store = tmp_path / "store"
    first = serve("--quiet-period", "0", store=store)
    ae = scu(contexts=(MPPS, CT_IMAGE_STORAGE))
    assoc = ae.associate("127.0.0.1", first.port, ae_title="INTEROP")
    assert assoc.is_established
    ds = Dataset()
    ds.PerformedProcedureStepStatus = "IN PROGRESS"
    ds.PerformedProcedureStepID = "PPS7"
    ds.Modality = "CT"
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepStartTime = "20040119", "072730"
    item = Dataset()
    item.StudyInstanceUID = CT_STUDY
    ds.ScheduledStepAttributesSequence = [item]
    uid = "1.2.826.0.1.3680043.2.1125.1.7"
    assert assoc.send_n_create(ds, MPPS, uid)[0].Status == 0x0000
    (path, _), = ct_study(tmp_path / "in", 1)
    assert assoc.send_c_store(dcmread(path)).Status == 0x0000
    assoc.release()
    bundle = first.wait_bundle(CT_STUDY)
    (procedure,) = resources(bundle, "Procedure")
    assert procedure["status"] == "in-progress"
    # the rows are marked done just after the Bundle is written: killed in between, the restart would replay
    # the study (a second in-progress Bundle) instead of re-emitting it for the N-SET
    assert wait_rows(store, ["done", "done"], project=lambda row: row[2]) == ["done", "done"]
    first.kill()  # SIGKILL: nothing written at shutdown
    t_restart = time.time()
    second = serve("--quiet-period", "0", store=store)
    assoc = ae.associate("127.0.0.1", second.port, ae_title="INTEROP")
    mod = Dataset()
    mod.PerformedProcedureStepStatus = "COMPLETED"
    mod.PerformedProcedureStepEndDate, mod.PerformedProcedureStepEndTime = "20040119", "081500"
    status, attrs = assoc.send_n_set(mod, MPPS, uid)
    assert status.Status == 0x0000 and attrs.PerformedProcedureStepStatus == "COMPLETED"
    assert attrs.PerformedProcedureStepID == "PPS7"  # the attribute list kept from the N-CREATE before the crash
    assert assoc.send_n_set(mod, MPPS, uid)[0].Status == 0x0110  # final now, durably too
    assoc.release()
    bundle = second.wait_bundle(CT_STUDY, min_mtime=t_restart)
    (again,) = resources(bundle, "Procedure")
    assert again["status"] == "completed" and again["performedPeriod"]["end"].startswith("2004-01-19T08:15:00")
    # the same Procedure: a conditional update on the MPPS SOP Instance UID (mappings/fhir/imaging.py)
    assert again["identifier"] == procedure["identifier"] and again["identifier"][0]["value"] == f"urn:oid:{uid}"
