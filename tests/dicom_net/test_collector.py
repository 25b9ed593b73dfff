"""StudyCollector and decode_instance in process: aggregation rules, retry after a sink failure, fuzzing.

Data: CT_small.dcm (pydicom test data) as a 3-instance study, see `data.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop.errors import DecodeError, TransportError
from interop.transport.dicom.collector import StudyCollector
from interop.transport.dicom.node import decode_instance, fhir_translator, merge_study
from interop.transport.store import DurableStore

from .data import CT_INSTANCE, CT_STUDY, ct_study


class FlakySink:
    """Records emitted Bundles; fails the first `failures` times like an unreachable server."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.bundles: list[tuple[str, dict]] = []

    def emit(self, bundle_json: bytes, name: str) -> str:
        if self.failures:
            self.failures -= 1
            raise TransportError("FHIR server unreachable")
        self.bundles.append((name, json.loads(bundle_json)))
        return f"sink/{len(self.bundles)}"


def instances(bundle: dict) -> list[str]:
    (study,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ImagingStudy"]
    return [i["uid"] for s in study["series"] for i in s["instance"]]


@pytest.fixture()
def study_files(tmp_path: Path) -> list[tuple[bytes, str]]:
    return [(p.read_bytes(), uid) for p, uid in ct_study(tmp_path / "in", 3)]


def make(tmp_path: Path, sink: FlakySink, quiet: float = 0.0) -> tuple[DurableStore, StudyCollector]:
    store = DurableStore(tmp_path / "store")
    return store, StudyCollector(store, sink, fhir_translator("R4", "collection"), merge_study, quiet_period=quiet)


def add(store: DurableStore, collector: StudyCollector, data: bytes, assoc: int) -> int:
    item = store.put("dicom-instance", "x", data, {})
    d = decode_instance(data, "x")
    collector.add(d.study_uid, d.sop_instance_uid, d.message, item, association=assoc)
    return item


def test_emits_when_the_last_association_ends(tmp_path: Path, study_files) -> None:
    sink = FlakySink()
    store, collector = make(tmp_path, sink)
    add(store, collector, study_files[0][0], assoc=1)
    add(store, collector, study_files[1][0], assoc=2)
    collector.association_ended(1)
    assert sink.bundles == []  # association 2 still feeds the study
    collector.association_ended(2)
    assert [n for n, _ in sink.bundles] == [f"study-{CT_STUDY}"]
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2"]
    # a later association re-emits the whole study
    add(store, collector, study_files[2][0], assoc=3)
    collector.association_ended(3)
    assert instances(sink.bundles[1][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2", f"{CT_INSTANCE}.3"]
    assert store.counts() == {"done": 3}
    store.close()


def test_sink_failure_keeps_rows_pending_then_retries(tmp_path: Path, study_files) -> None:
    sink = FlakySink(failures=1)
    store, collector = make(tmp_path, sink, quiet=5.0)
    ids = [add(store, collector, data, assoc=1) for data, _ in study_files]
    collector.association_ended(1)
    assert sink.bundles == [] and [i.id for i in store.pending()] == ids
    collector.flush_quiet()  # quiet period not over yet
    assert sink.bundles == []
    collector.flush_quiet(now=10**9)
    assert len(sink.bundles) == 1 and store.counts() == {"done": 3}
    store.close()


def test_retry_backoff_without_quiet_period(tmp_path: Path, study_files) -> None:
    import time

    sink = FlakySink(failures=2)
    store, collector = make(tmp_path, sink, quiet=0.0)
    add(store, collector, study_files[0][0], assoc=1)
    state = collector._studies[CT_STUDY]
    collector.association_ended(1)  # first failure: retry in 2 s
    assert state.retry_at is not None and 1.5 < state.retry_at - time.monotonic() <= 2.0
    collector.flush_quiet(now=state.retry_at - 0.5)
    assert sink.failures == 1  # not due yet
    collector.flush_quiet(now=state.retry_at)  # second failure: retry in 4 s
    assert sink.failures == 0 and sink.bundles == []
    assert 3.5 < state.retry_at - time.monotonic() <= 4.0
    collector.flush_quiet(now=state.retry_at)
    assert len(sink.bundles) == 1 and store.counts() == {"done": 1} and state.retry_at is None
    store.close()


def test_duplicate_instance_counted_once(tmp_path: Path, study_files) -> None:
    sink = FlakySink()
    store, collector = make(tmp_path, sink)
    add(store, collector, study_files[0][0], assoc=1)
    add(store, collector, study_files[0][0], assoc=1)  # re-sent by the SCU
    collector.association_ended(1)
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE]
    assert store.counts() == {"done": 2}
    store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        decode_instance(data, "fuzz")
    except DecodeError:
        pass


_CT = None


def _ct_meta() -> bytes:
    global _CT
    if _CT is None:
        from pydicom.data import get_testdata_file

        raw = Path(get_testdata_file("CT_small.dcm")).read_bytes()
        _CT = raw[:132 + 12 + int.from_bytes(raw[140:144], "little")]
    return _CT


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_valid_file_meta_then_arbitrary_dataset_only_raises_decode_error(body: bytes) -> None:
    try:
        decode_instance(_ct_meta() + body, "fuzz")
    except DecodeError:
        pass
