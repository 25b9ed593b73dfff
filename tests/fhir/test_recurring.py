"""What recurs from message to message is read, built and rendered once and reused (decoder plans,
shared FHIR resources and fragments). Reuse must never change a result: a warm translation equals a
cold one, a Bundle's JSON equals its dicts, and a user's edits to one Bundle never reach another."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.hl7v2 import decoder as hl7v2_decoder
from interop.mappings.fhir import bundle as bundle_module
from interop.mappings.fhir import device as device_module
from interop.mappings.fhir import prepared

from interop import clear_caches, decode, to_fhir
from interop.errors import DecodeError
from interop.model import CodeableConcept, Coding, Device, Identifier, ProductionSpec, TimeInfo, replace
from interop.model import fields as model_fields

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

VITALS = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
FEED = feed(VITALS, 48)
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*")
                  if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))
PHILIPS = ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7"


def _json(bundle) -> bytes:
    """Bundle JSON; Provenance.recorded is the clock when the input states no time, so it is blanked."""
    return re.sub(rb'"recorded":"[^"]*"', b'"recorded":""', bundle.json())


def _cold(data: bytes | Path, version: str = "R4", bundle_type: str = "collection"):
    """Message and Bundle JSON with every memo emptied first (nothing reused)."""
    clear_caches()
    msg = decode(data)
    return msg, _json(to_fhir(msg, version, bundle_type=bundle_type))


def _warm(data: bytes | Path, version: str = "R4", bundle_type: str = "collection"):
    msg = decode(data)
    return msg, _json(to_fhir(msg, version, bundle_type=bundle_type))


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_a_warm_feed_translates_exactly_as_a_cold_one(version: str, bundle_type: str) -> None:
    for data in FEED[:3]:  # fill the memos with the feed's recurring parts
        _warm(data, version, bundle_type)
    for data in FEED[3:]:
        warm_msg, warm_json = _warm(data, version, bundle_type)
        cold_msg, cold_json = _cold(data, version, bundle_type)
        assert warm_msg == cold_msg
        assert warm_msg.issues == cold_msg.issues
        assert warm_json == cold_json


def test_the_feed_really_varies_and_really_reuses() -> None:
    """The feed's values differ message to message, while the recurring resources are shared."""
    _cold(FEED[0])
    first = to_fhir(decode(FEED[0])).resources
    second = to_fhir(decode(FEED[1])).resources
    values = [[r["valueQuantity"]["value"] for r in b if r["resourceType"] == "Observation"] for b in (first, second)]
    assert values[0] != values[1]
    devices = [[r for r in b if r["resourceType"] in ("Device", "DeviceMetric")] for b in (first, second)]
    assert devices[0] == devices[1] and len(devices[0]) == 17  # 10 Device (4 channels from OBX-4), 7 DeviceMetric
    shared = [e["resource"] for e in to_fhir(decode(FEED[2]))._shared["entry"]]
    # 10 Device, 7 DeviceMetric, the Patient and the Encounter: it has no visit number (PV1-19), and is
    # the identified patient's stay of that class at that location, the same in every message
    assert [type(r) is prepared.Prepared for r in shared].count(True) == 19
    encounters = [[r for r in b if r["resourceType"] == "Encounter"] for b in (first, second)]
    assert encounters[0] == encounters[1] and len(encounters[0]) == 1


def test_a_visit_without_visit_number_is_the_stay_of_its_patient_class_and_location() -> None:
    """PV1 without PV1-19: one Encounter per patient, class, location and admission, never per message."""
    def encounter_id(message: bytes) -> str:
        return next(r["id"] for r in to_fhir(decode(message)).resources if r["resourceType"] == "Encounter")

    base = encounter_id(FEED[0])
    assert encounter_id(FEED[3]) == base  # another control id and time: the same stay
    assert encounter_id(FEED[0].replace(b"PV1||I|ICU^101^1", b"PV1||I|ICU^102^1")) != base  # another bed
    assert encounter_id(FEED[0].replace(b"PV1||I|ICU^101^1", b"PV1||E|ICU^101^1")) != base  # another class
    assert encounter_id(FEED[0].replace(b"HOSP0001^^^", b"HOSP0002^^^")) != base  # another patient
    # an unidentified patient: nothing recurs, the visit is this message's
    anonymous = FEED[0].replace(b"HOSP0001^^^ACME_HOSP&1.2.3.4.5&ISO^MR", b"")
    assert encounter_id(anonymous) != encounter_id(anonymous.replace(b"MSG000000", b"MSG000009"))


@pytest.mark.parametrize("path", EXAMPLES + [PHILIPS], ids=lambda p: p.name)
def test_every_example_translates_the_same_warm_and_cold(path: Path) -> None:
    for version in ("R4", "R5"):
        cold_msg, cold_json = _cold(path, version, "transaction")
        warm_msg, warm_json = _warm(path, version, "transaction")
        assert warm_msg == cold_msg
        assert warm_json == cold_json


# the PHD IG pass edits 20601 and GATT resources in place, so those are never shared (bundle.SHARING_STANDARDS)
@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.suffix in (".hl7", ".dcm")], ids=lambda p: p.name)
def test_sharing_gives_what_fresh_building_gives(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Bundle assembled from shared resources serialises exactly like one built fresh throughout."""
    msg = decode(path)
    _warm(path)
    monkeypatch.setattr(bundle_module, "SHARING_STANDARDS", frozenset({msg.standard}))
    shared = to_fhir(msg, "R4", bundle_type="transaction")
    monkeypatch.setattr(bundle_module, "SHARING_STANDARDS", frozenset())
    fresh = to_fhir(msg, "R4", bundle_type="transaction")
    assert not any(type(e["resource"]) is prepared.Prepared for e in fresh._shared["entry"])
    assert _json(shared) == _json(fresh)
    assert len(shared.json(indent=True)) == len(fresh.json(indent=True))


def test_json_of_a_bundle_equals_json_of_its_dicts() -> None:
    _warm(VITALS)
    b = to_fhir(decode(VITALS), "R5")
    assert b.json() == orjson.dumps(b.data, default=prepared.default)
    assert orjson.loads(b.json(indent=True)) == orjson.loads(b.json())


def test_editing_one_bundle_never_reaches_another() -> None:
    _, pristine = _cold(VITALS)
    b = to_fhir(decode(VITALS))
    for r in b.resources:  # deep edits in every shared part a user could reach
        r["id"] = "edited"
        for key in ("identifier", "type", "code", "category", "referenceRange", "subject", "device", "source",
                    "valueQuantity", "extension", "deviceName"):
            part = r.get(key)
            if isinstance(part, list) and part:
                part[0]["edited"] = True
                part.append({"edited": True})
            elif isinstance(part, dict):
                part["edited"] = True
                for v in part.values():
                    if isinstance(v, list) and v and isinstance(v[0], dict):
                        v[0]["edited"] = True
    assert b'"edited"' in b.json()  # the edits are in this Bundle's JSON ...
    _, again = _warm(VITALS)
    assert again == pristine  # ... and in no other Bundle


def test_private_copy_is_deep_and_plain() -> None:
    shared = prepared.Prepared({"resourceType": "Device", "id": "x", "type": {"coding": [{"code": "1"}]},
                                "v": Decimal("1.50")}, "urn:uuid:x")
    bundle = {"entry": [{"resource": shared}, {"resource": shared}]}
    copy = prepared.private_copy(bundle)
    assert type(copy["entry"][0]["resource"]) is dict
    assert copy["entry"][0]["resource"] == dict(shared)
    copy["entry"][0]["resource"]["type"]["coding"][0]["code"] = "2"
    assert shared["type"]["coding"][0]["code"] == "1"
    assert copy["entry"][1]["resource"]["type"]["coding"][0]["code"] == "1"
    assert orjson.dumps(bundle, default=prepared.default, option=orjson.OPT_PASSTHROUGH_SUBCLASS) == \
        orjson.dumps(copy, default=prepared.default) .replace(b'"2"', b'"1"')
    assert b'"v":1.50' in orjson.dumps(copy, default=prepared.default)


def _variant(base: Device, name: str) -> Device:
    other = {
        "key": "9", "level": "vmd", "type": CodeableConcept(codings=(Coding(system="s", code="c"),)),
        "identifiers": (Identifier(value="v", system="s"),), "manufacturer": "m", "model": "mo", "name": "n",
        "production_specs": (ProductionSpec(kind="serial-number", value="1"),),
        "specializations": (CodeableConcept(text="t"),), "specialization_versions": ("1",), "config_id": 1, "time": TimeInfo(), "reg_cert": ("r",),
        "is_gateway": True,
    }[name]
    return replace(base, **{name: other})


def test_the_device_key_names_every_field_the_resource_depends_on() -> None:
    base = Device(key="1", level="mds")
    key = device_module._device_key(base, "R4", None, None)
    fields = set(model_fields(Device)) - device_module.NOT_IN_DEVICE_RESOURCE
    assert fields  # every field but children and source
    for name in fields:
        assert device_module._device_key(_variant(base, name), "R4", None, None) != key, name


def test_clear_caches_forgets_patients_and_shared_resources() -> None:
    import interop

    _warm(VITALS)
    tables = next(iter(hl7v2_decoder._TABLES.values()))
    assert tables.segments_read and tables.plans and any(m.table for m in prepared._ALL)
    interop.clear_caches()
    assert not hl7v2_decoder._TABLES
    assert not any(m.table for m in prepared._ALL)  # they hold Patient resources too
    _, again = _warm(VITALS)  # refills on use, same output
    assert again == _cold(VITALS)[1]


def test_memos_stay_bounded_and_keep_what_is_used() -> None:
    """A flood of one-off entries (a new order number or patient in every message) never pushes out an
    entry in use (a monitor that sends between them): least recently used out first, never a wipe."""
    memo = prepared.Recurring(size=8)
    memo.put("monitor", "kept", keep=None)
    for n in range(100):
        memo.put(n, str(n), keep=None)
        assert memo.get("monitor") == "kept"
        assert memo.table.entries() <= 16
    assert memo.get(99) == "99" and memo.get(0) is None  # the oldest one-offs went first


def test_the_decoder_keeps_every_monitor_of_a_central_station() -> None:
    """200 monitors interleaved, order numbers new in every message: after a round, every monitor's
    rows, patient and visit are remembered (their plans are found again), while the order numbers
    leave nothing behind."""
    from feed import central_station

    clear_caches()
    messages = central_station(VITALS, monitors=200, n=600)
    for data in messages[:400]:
        decode(data)
    tables = next(iter(hl7v2_decoder._TABLES.values()))
    plans, read = tables.plans.entries(), tables.segments_read.entries()
    for data in messages[400:]:
        decode(data)
    # OBX-1 names each monitor's EUI-64 (OBX-18); its other eleven rows read alike on every monitor
    assert tables.plans.entries() == plans == 200 + 11
    # MSH (its gateway), PID and PV1 of each monitor; OBR reads alike but for its order numbers and times
    assert tables.segments_read.entries() == read == 200 * 3 + 1
    assert tables.entities.entries() < 200 * 3  # device EUI-64s; no order number


MUTATE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MUTATE
@given(st.integers(0, len(FEED) - 1), st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(
    ["", "|", "^", "~", "\\", "&", "X", "1", "NAV", "INV", "H", " ", "\r", "\"\""])), min_size=1, max_size=4))
def test_mutated_rows_decode_the_same_warm_and_cold(index: int, edits: list[tuple[int, str]]) -> None:
    """Whatever a mutation does to a row (findings, device rows, flags, values), reusing what earlier
    messages planned gives the Message a cold decoder gives."""
    text = FEED[index].decode()
    for at, piece in edits:
        at = min(at, len(text))
        text = text[:at] + piece + text[at + 1:]
    data = text.encode()
    decode(FEED[index])  # warm: the unmutated rows are planned
    try:
        warm = decode(data)
    except DecodeError:
        warm = None
    hl7v2_decoder.forget()
    try:
        cold = decode(data)
    except DecodeError:
        cold = None
    assert warm == cold
    if warm is not None:
        assert warm.issues == cold.issues


def test_threads_translating_one_feed_get_what_one_thread_gets() -> None:
    """Servers decode on several threads: the shared memos must not mix their results up, even while
    they are being emptied (a tiny bound makes every put clear a table)."""
    from concurrent.futures import ThreadPoolExecutor

    expected = {i: _cold(data, "R5")[1] for i, data in enumerate(FEED)}
    memos = [m for m in prepared._ALL]
    sizes = [m.table.size for m in memos]
    try:
        for m in memos:
            m.table.size = 3
        with ThreadPoolExecutor(max_workers=4) as pool:
            got = list(pool.map(lambda i: (i, _warm(FEED[i], "R5")[1]), list(range(len(FEED))) * 4))
    finally:
        for m, size in zip(memos, sizes, strict=True):
            m.table.size = size
    assert all(body == expected[i] for i, body in got)
