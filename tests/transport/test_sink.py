"""Sinks: atomic directory writes, a real local HTTP server for FhirServerSink, fan-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interop.errors import TransportError, UsageError
from interop.transport.sink import (
    DirectorySink,
    FanOutSink,
    FhirServerSink,
    StdoutSink,
    make_sink,
    safe_name,
)

TX = json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": []}).encode()
COLL = json.dumps({"resourceType": "Bundle", "id": "b1", "type": "collection", "entry": []}).encode()


@pytest.fixture()
def server(fhir_server):  # the recording HTTP server of tests/conftest.py
    return fhir_server


def test_directory_sink(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "out")
    ref = sink.emit(COLL, "study-1.2.3")
    assert ref == str(tmp_path / "out" / "study-1.2.3.json")
    assert Path(ref).read_bytes() == COLL
    sink.emit(TX, "study-1.2.3")  # replaces
    assert Path(ref).read_bytes() == TX
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["study-1.2.3.json"]  # no tmp left


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd").startswith("etc_passwd+")
    assert "/" not in safe_name("../../etc/passwd")
    assert safe_name("").startswith("bundle+")
    assert safe_name("1.2.840.10008") == "1.2.840.10008"
    # distinct inputs never share a file: '7.7/1' and '7.7_1' (issue 12, two patients in one file)
    assert safe_name("study-7.7/1") != safe_name("study-7.7_1") == "study-7.7_1"
    assert safe_name("study-7.7/1").startswith("study-7.7_1+")
    assert safe_name("a" * 300) != safe_name("a" * 301)
    assert safe_name(".hidden") != safe_name("hidden") == "hidden"


def test_fhir_server_transaction_and_put(server: tuple[str, list]) -> None:
    url, reqs = server
    sink = FhirServerSink(url + "/fhir/", timeout=5)
    assert sink.emit(TX, "x") == "/fhir/_history/1"
    assert sink.emit(COLL, "y") == "/fhir/Bundle/b1/_history/1"
    assert [(m, p, ct) for m, p, ct, _ in reqs] == [
        ("POST", "/fhir", "application/fhir+json"), ("PUT", "/fhir/Bundle/b1", "application/fhir+json")]
    assert reqs[0][3] == TX and reqs[1][3] == COLL


def test_fhir_server_error_and_unreachable(server: tuple[str, list]) -> None:
    url, _ = server
    with pytest.raises(TransportError, match="422.*bad bundle"):
        FhirServerSink(url + "/fail", timeout=5).emit(TX, "x")
    with pytest.raises(TransportError, match="unreachable"):
        FhirServerSink("http://127.0.0.1:9", timeout=2).emit(TX, "x")
    with pytest.raises(TransportError, match="not JSON"):
        FhirServerSink(url).emit(b"\xff", "x")
    with pytest.raises(UsageError):
        FhirServerSink("ftp://x")


def test_make_sink(tmp_path: Path, server: tuple[str, list]) -> None:
    url, reqs = server
    assert isinstance(make_sink(None, None), StdoutSink)
    assert isinstance(make_sink(tmp_path, None), DirectorySink)
    assert isinstance(make_sink(None, url), FhirServerSink)
    both = make_sink(tmp_path, url + "/fhir")
    assert isinstance(both, FanOutSink)
    ref = both.emit(TX, "s")
    assert ref == f"{tmp_path / 'fhir' / 's.json'} /fhir/_history/1"
    assert (tmp_path / "fhir" / "s.json").read_bytes() == TX
    assert len(reqs) == 1


def test_split_transaction_for_a_server_with_limits() -> None:
    """fhirsplit: conditional creates first (at most 8 per transaction, an entry after what it refers to),
    their Locations replace the urn:uuid references; PUT-by-id entries referenced as Type/id."""
    from interop.transport import fhirsplit

    dev = {"fullUrl": "urn:uuid:d", "resource": {"resourceType": "Device", "identifier": [{"value": "x"}]},
           "request": {"method": "POST", "url": "Device", "ifNoneExist": "identifier=x"}}
    pat = {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p1"},
           "request": {"method": "PUT", "url": "Patient/p1"}}
    obs = [{"fullUrl": f"urn:uuid:o{i}", "resource": {"resourceType": "Observation", "device": {"reference": "urn:uuid:d"},
                                                      "subject": {"reference": "urn:uuid:p"}},
            "request": {"method": "POST", "url": "Observation", "ifNoneExist": f"identifier=o{i}"}} for i in range(10)]
    prov = {"fullUrl": "urn:uuid:v", "resource": {"resourceType": "Provenance", "id": "v1",
                                                   "target": [{"reference": f"urn:uuid:o{i}"} for i in range(10)]},
            "request": {"method": "PUT", "url": "Provenance/v1"}}
    sent: list[list[dict]] = []

    def send(bundle: dict) -> dict:
        sent.append(bundle["entry"])
        out = []
        for e in bundle["entry"]:
            rtype = e["resource"]["resourceType"]
            out.append({"response": {"status": "201", "location": f"{rtype}/{e['fullUrl'][9:]}-srv/_history/1"}})
        return {"resourceType": "Bundle", "type": "transaction-response", "entry": out}

    n = fhirsplit.split_send({"resourceType": "Bundle", "type": "transaction", "entry": [*obs, prov, pat, dev]}, send)
    assert n == 3 and [len(p) for p in sent] == [8, 3, 2]
    assert sent[0][0]["resource"]["resourceType"] == "Device"  # before the Observations that refer to it
    later = sent[1][0]["resource"]
    assert later["device"] == {"reference": "Device/d-srv"} and later["subject"] == {"reference": "Patient/p1"}
    assert sent[2][0]["resource"]["target"][0] == {"reference": "Observation/o0-srv"}
    assert fhirsplit.over_limit("Transaction requires strict isolation but has too many entries")
