"""An association that lost data is not stored as done: its store rows are `partial` with what was lost, and
the Provenance of its Bundle says it is incomplete (issue 13, "an association that lost data is stored as done").

Antidote's weighing scale (standard configuration 0x05DC) reports handle 3 (BMI), which the configuration
lacks: the manager answers roer no-such-object-instance, keeps the other readings, and the association lost
data. Driven over a real socket on 127.0.0.1 against `X73Manager` with its durable store, as `serve x73` runs.
"""

from __future__ import annotations

import json
import socket
import time

from interop.codecs.ieee11073 import agent
from interop.codecs.ieee11073.configurations import ConfigStore

from interop import to_fhir
from interop.transport.x73.manager import ManagerConfig, X73Manager, replay_association

from .vectors import load

SCALE = [load("antidote_H211_ID_05DC"), load("antidote_H241_ID_05DC")]  # AARQ 0x05DC, report naming handle 3


class ListSink:
    def __init__(self) -> None:
        self.bundles: list[dict] = []

    def emit(self, bundle_json: bytes, name: str) -> str:
        self.bundles.append(json.loads(bundle_json))
        return f"list:{len(self.bundles)}"


def _provenance(bundle: dict) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance")


def test_unknown_handle_association_is_partial_in_the_store_and_its_provenance(tmp_path) -> None:
    sink = ListSink()
    m = X73Manager(ManagerConfig(port=0, store_dir=tmp_path, idle_timeout=5.0), sink=sink)
    m.start()
    try:
        with socket.create_connection(("127.0.0.1", m.port), timeout=5) as s:
            for octets in [*SCALE, agent.rlrq()]:
                s.sendall(octets)
                header = s.recv(4, socket.MSG_WAITALL)  # AARE, roer, RLRE: one answer each
                s.recv(int.from_bytes(header[2:4], "big"), socket.MSG_WAITALL)
        end = time.monotonic() + 10
        while m.store.counts() != {"partial": 3} and time.monotonic() < end:
            time.sleep(0.05)
        assert m.store.counts() == {"partial": 3}  # AARQ, report, RLRQ: emitted with what was kept, not done
        rows = m.store.rows("partial")
        assert all(r.output_ref == "list:1" for r in rows)
        assert all(r.reason.startswith("lost data: APDU 2 byte 100: scan report for handle 3, which the "
                                       "configuration 0x05DC does not hold") for r in rows)
    finally:
        m.stop()
    (bundle,) = sink.bundles
    readings = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                and e["resource"]["code"]["coding"][0]["code"] != "67975"]
    assert readings  # the known handle's readings are kept
    display = _provenance(bundle)["entity"][0]["what"]["display"]
    assert "(incomplete: 2 finding(s) of lost data, first: " in display


def test_a_complete_association_is_done_and_its_provenance_says_nothing(tmp_path) -> None:
    message = replay_association([load("antidote_H211_ID_05DC"), agent.rlrq()], ConfigStore(),
                                 bytes.fromhex("0011223344556688")).message(association_id="a")
    assert not [i for i in message.issues if i.code == "x73.input-incomplete"]
    assert "incomplete" not in _provenance(json.loads(to_fhir(message).json()))["entity"][0]["what"]["display"]


def test_an_aborted_association_is_incomplete() -> None:
    abrt = load("antidote_rx_abrt_undefined")
    assoc = replay_association([*SCALE, abrt], ConfigStore(), bytes.fromhex("0011223344556688"))
    (issue,) = [i for i in assoc.message(association_id="b").issues if i.code == "x73.input-incomplete"]
    assert issue.severity == "error" and issue.message.startswith("2 finding(s) of lost data")
    clean = replay_association([load("antidote_H211_ID_05DC"), abrt], ConfigStore(), bytes.fromhex("0011223344556688"))
    (issue,) = [i for i in clean.message(association_id="c").issues if i.code == "x73.input-incomplete"]
    assert "aborted, not released" in issue.message
