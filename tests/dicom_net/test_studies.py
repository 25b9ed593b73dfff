"""Studies on the store-and-forward engine, in process: sealing rules, whole-study re-emission, retry with
back-off after a sink failure (no restart), replay of what a crash left, and decode_instance fuzzing.

Data: CT_small.dcm (pydicom test data) as a 3-instance study, see `data.py`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop.errors import DecodeError
from interop.transport.dicom.node import KIND_INSTANCE, decode_instance, fhir_translator, merge_study
from interop.transport.dicom.part10 import peek_study_uid, walk_study_uid
from interop.transport.dicom.studies import StudyTracker, StudyTranslator, study_group
from interop.transport.forward import ForwardEngine, RetryPolicy
from interop.transport.sink import SinkUnavailable
from interop.transport.store import DurableStore, NewItem

from .data import CT_INSTANCE, CT_STUDY, corrupt_file, ct_study


class FlakySink:
    """Records emitted Bundles; fails the first `failures` times like a full disk or an unreachable server."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.bundles: list[tuple[str, dict]] = []
        self.attempts: list[float] = []

    def emit(self, bundle_json: bytes, name: str) -> str:
        self.attempts.append(time.monotonic())
        if self.failures:
            self.failures -= 1
            raise SinkUnavailable("[Errno 28] No space left on device")
        self.bundles.append((name, json.loads(bundle_json)))
        return f"sink/{len(self.bundles)}"


def instances(bundle: dict) -> list[str]:
    (study,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ImagingStudy"]
    return [i["uid"] for s in study["series"] for i in s["instance"]]


@pytest.fixture()
def study_files(tmp_path: Path) -> list[bytes]:
    return [p.read_bytes() for p, _ in ct_study(tmp_path / "in", 3)]


class Node:
    """The node's pieces without the network: store, engine with the study translator, tracker."""

    def __init__(self, store_dir: Path, sink: FlakySink, retry: RetryPolicy | None = None) -> None:
        self.store = DurableStore(store_dir)
        self.translator = StudyTranslator(self.store, decode_instance, merge_study, fhir_translator("R4", "collection"))
        self.engine = ForwardEngine(self.store, sink, {KIND_INSTANCE: self.translator},
                                    retry=retry or RetryPolicy(initial=0.2, jitter=0.0), idle_poll=0.05)
        self.tracker = StudyTracker(self.engine.seal, quiet_period=0)
        self.replayed = self.engine.start()

    def add(self, data: bytes, assoc: int) -> int:
        study = peek_study_uid(data)
        assert study == CT_STUDY
        receipt = self.engine.accept(NewItem(KIND_INSTANCE, "x", data, {}, group=study_group(study), sealed=False))
        self.tracker.add(study, assoc)
        return receipt.id

    def close(self) -> None:
        self.engine.stop()
        self.store.close()


def wait(cond, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_emits_when_the_last_association_ends_then_the_whole_study_again(tmp_path: Path, study_files) -> None:
    sink = FlakySink()
    node = Node(tmp_path / "store", sink)
    node.add(study_files[0], assoc=1)
    node.add(study_files[1], assoc=2)
    node.tracker.association_ended(1)
    time.sleep(0.3)
    assert sink.bundles == []  # association 2 still feeds the study
    node.tracker.association_ended(2)
    wait(lambda: len(sink.bundles) == 1)
    assert sink.bundles[0][0] == f"study-{CT_STUDY}"
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2"]
    wait(lambda: node.store.counts() == {"done": 2})
    node.add(study_files[2], assoc=3)  # a later association: the Bundle that replaces the first is complete
    node.tracker.association_ended(3)
    wait(lambda: len(sink.bundles) == 2)
    assert instances(sink.bundles[1][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2", f"{CT_INSTANCE}.3"]
    wait(lambda: node.store.counts() == {"done": 3})
    node.close()


def test_full_disk_then_space_again_retries_with_backoff_without_restart(tmp_path: Path, study_files) -> None:
    sink = FlakySink(failures=3)  # ENOSPC three times, then the disk has room again
    node = Node(tmp_path / "store", sink, RetryPolicy(initial=0.2, factor=2.0, jitter=0.0))
    for data in study_files:
        node.add(data, assoc=1)
    node.tracker.association_ended(1)
    wait(lambda: len(sink.bundles) == 1)
    gaps = [b - a for a, b in zip(sink.attempts, sink.attempts[1:], strict=False)]
    assert len(gaps) == 3 and gaps[0] >= 0.18 and gaps[1] >= 0.38 and gaps[2] >= 0.78  # 0.2, 0.4, 0.8 s
    wait(lambda: node.store.counts() == {"done": 3})
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2", f"{CT_INSTANCE}.3"]
    node.close()


def test_study_left_open_by_a_crash_is_emitted_at_the_next_start(tmp_path: Path, study_files) -> None:
    sink = FlakySink()
    first = Node(tmp_path / "store", sink)
    for data in study_files[:2]:
        first.add(data, assoc=1)  # acknowledged; the association never ends: the process dies
    first.close()
    assert sink.bundles == [] and first.replayed == 0
    second = Node(tmp_path / "store", sink)
    assert second.replayed == 2
    wait(lambda: len(sink.bundles) == 1)
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE, f"{CT_INSTANCE}.2"]
    second.close()


def test_duplicate_instance_counted_once(tmp_path: Path, study_files) -> None:
    sink = FlakySink()
    node = Node(tmp_path / "store", sink)
    node.add(study_files[0], assoc=1)
    node.add(study_files[0], assoc=1)  # re-sent by the SCU
    node.tracker.association_ended(1)
    wait(lambda: len(sink.bundles) == 1)
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE]
    wait(lambda: node.store.counts() == {"done": 2})
    node.close()


def test_quiet_period_seals_a_study_whose_association_stays_open() -> None:
    sealed: list[str] = []
    tracker = StudyTracker(sealed.append, quiet_period=5.0)
    tracker.add("1.2.3", association=1)
    tracker.seal_quiet()
    assert sealed == []
    tracker.seal_quiet(now=time.monotonic() + 6)
    assert sealed == ["study:1.2.3"]
    tracker.seal_quiet(now=time.monotonic() + 12)
    assert sealed == ["study:1.2.3"]  # not again until something new arrives
    tracker.add("1.2.3", association=1)
    tracker.seal_quiet(now=time.monotonic() + 6)
    assert sealed == ["study:1.2.3"] * 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_decode_error(data: bytes) -> None:
    assert peek_study_uid(data) is None  # no 'DICM' at 128: not Part 10
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
    peeked = peek_study_uid(_ct_meta() + body)  # never raises
    assert peeked is None or isinstance(peeked, str)
    walked = walk_study_uid(_ct_meta() + body)  # never raises either
    assert walked is None or isinstance(walked, str)
    try:
        decode_instance(_ct_meta() + body, "fuzz")
    except DecodeError:
        pass


def test_peek_agrees_with_pydicom_on_its_test_files() -> None:
    """The quick walk finds the same Study Instance UID as pydicom in every test file it can read."""
    import os
    import warnings

    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    folder = os.path.dirname(get_testdata_file("CT_small.dcm"))
    found = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dcm"):
            continue
        path = os.path.join(folder, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = dcmread(path, stop_before_pixels=True).get("StudyInstanceUID")
        except Exception:  # noqa: BLE001 - files pydicom cannot read are not the walk's business
            continue
        peeked = peek_study_uid(Path(path).read_bytes())
        if peeked is not None:
            found += 1
            assert peeked == str(ref).strip("\0 "), name
    assert found >= 50


def test_walk_vouches_only_for_well_formed_element_streams(tmp_path: Path) -> None:
    """The check a C-STORE is acknowledged on: pydicom's test files it walks give pydicom's Study Instance
    UID; a bad VR, a cut value, a missing Study Instance UID give None (then the codec decides)."""
    import os
    import warnings

    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    folder = os.path.dirname(get_testdata_file("CT_small.dcm"))
    walked = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dcm"):
            continue
        raw = Path(folder, name).read_bytes()
        study = walk_study_uid(raw)
        if study is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert study == dcmread(os.path.join(folder, name)).StudyInstanceUID, name
        walked += 1
    assert walked >= 50  # of 78 in pydicom 3.0 (deflated, truncated, no study UID and odd encodings are not)
    ct = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    assert walk_study_uid(ct) == "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
    assert walk_study_uid(corrupt_file(tmp_path).read_bytes()) is None  # VR "ZZ" at (0008,0016)
    assert walk_study_uid(ct[:-1]) is None  # Pixel Data one byte short
    assert walk_study_uid(Path(get_testdata_file("MR_truncated.dcm")).read_bytes()) is None
    i = ct.find(b"\x20\x00\x0d\x00UI")  # (0020,000D) renamed (0020,000B): no Study Instance UID
    assert i > 0 and walk_study_uid(ct[:i] + b"\x20\x00\x0b\x00" + ct[i + 4:]) is None


def test_instance_that_cannot_be_decoded_at_translation_is_left_out_and_its_rows_partial(
        tmp_path: Path, study_files) -> None:
    """Instances are decoded when their study is translated: one that passed the walk but cannot be decoded is
    left out of the Bundle, and the unit's rows say so (`partial` with the reason), the others emitted."""
    sink = FlakySink()
    node = Node(tmp_path / "store", sink)

    def decode(data: bytes, label: str | None):
        if label == "bad":
            raise DecodeError("value cannot be read", standard="dicom", position="(0008,0020)", expected="a DA")
        return decode_instance(data, label)

    node.translator.decode = decode
    for n, data in enumerate(study_files[:2]):
        study = walk_study_uid(data)
        node.engine.accept(NewItem(KIND_INSTANCE, "bad" if n else "good", data, {}, group=study_group(study),
                                   sealed=False))
        node.tracker.add(study, 1)
    node.tracker.association_ended(1)
    wait(lambda: len(sink.bundles) == 1)
    assert instances(sink.bundles[0][1]) == [CT_INSTANCE]
    wait(lambda: node.store.counts() == {"partial": 2})
    reasons = {r.key: r.reason for r in node.store.rows("partial")}
    assert "instance bad left out" in reasons["good"] and "(0008,0020)" in reasons["bad"]
    node.close()
