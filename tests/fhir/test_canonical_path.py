"""The one translation path, `decode` → `Message` → `to_fhir` → `.json()`, remembers what recurs from
message to message (decoder plans, codes, units, patients; shared FHIR resources and fragments). What
it remembers must never change a result: every message translated after others (warm) gives the
bytes and findings it gives with every memo emptied first (cold), whatever came before it: a feed of
one monitor, monitors interleaved, threads, mutated values, flags and times, segments not read.
These were the byte-equality tests of the retired structure replay; they now hold the canonical path
to the same standard."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop import clear_caches, decode, fhir_json, to_fhir
from interop.errors import DecodeError
from interop.pipeline import translate_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import central_station, feed  # noqa: E402

VITALS = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
FEED = feed(VITALS, 40)
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))
PHILIPS = ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7"
MUTATE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _blank_clock(data: bytes) -> bytes:
    """Provenance.recorded is the clock when the input states no time: blanked for comparison."""
    return re.sub(rb'"recorded":"[^"]*"', b'"recorded":""', data)


def _warm(data: bytes | Path, version: str = "R4", bundle_type: str = "collection") -> tuple[bytes, tuple]:
    """(Bundle JSON, findings of decoding and mapping) with whatever the memos hold."""
    result = translate_json(data, version, bundle_type=bundle_type)
    return _blank_clock(result.json), result.issues


def _cold(data: bytes | Path, version: str = "R4", bundle_type: str = "collection") -> tuple[bytes, tuple]:
    """The same with every memo emptied first (nothing reused)."""
    clear_caches()
    return _warm(data, version, bundle_type)


def _outcome(translate, data: bytes, version: str = "R4") -> tuple[bytes, tuple] | str:
    try:
        return translate(data, version)
    except DecodeError as exc:
        return str(exc)


def _observations(data: bytes) -> list[dict]:
    return [e["resource"] for e in orjson.loads(fhir_json(data))["entry"]
            if e["resource"]["resourceType"] == "Observation"]


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_a_feed_translates_warm_exactly_as_cold(version: str, bundle_type: str) -> None:
    clear_caches()
    warm = [_warm(m, version, bundle_type) for m in FEED]
    for message, got in zip(FEED, warm, strict=True):
        assert got == _cold(message, version, bundle_type)
        assert got[1] == ()
    assert all(len(orjson.loads(w[0])["entry"]) == 27 for w in warm)  # with the 4 channels OBX-4 names (PoCD)
    # the conveniences are the canonical path, byte for byte
    assert fhir_json(FEED[7], version, bundle_type=bundle_type) == to_fhir(
        decode(FEED[7]), version, bundle_type=bundle_type).json()


def test_each_bundle_carries_its_own_message_news() -> None:
    """Values, times, flags, ids and Provenance are each message's own, not those of the one before."""
    clear_caches()
    first, second = (orjson.loads(fhir_json(m)) for m in FEED[:2])
    assert first["id"] != second["id"] and first["timestamp"] != second["timestamp"]
    obs = [_observations(m) for m in FEED[:2]]
    assert [o["valueQuantity"]["value"] for o in obs[0]] != [o["valueQuantity"]["value"] for o in obs[1]]
    assert {o["id"] for o in obs[0]}.isdisjoint(o["id"] for o in obs[1])
    assert obs[1][0]["effectiveDateTime"] == "2024-03-15T10:16:00+01:00"  # FEED[1] is a minute after FEED[0]
    provenance = second["entry"][-1]["resource"]
    assert provenance["entity"][0]["what"]["display"] == "HL7 v2 ORU^R01^ORU_R01 MSG000001"
    assert [t["reference"] for t in provenance["target"]] == [e["fullUrl"] for e in second["entry"][:-1]]


@pytest.mark.parametrize("path", EXAMPLES + [PHILIPS], ids=lambda p: p.name)
def test_every_example_translates_warm_as_cold(path: Path) -> None:
    data = path.read_bytes()
    for version in ("R4", "R5"):
        for bundle_type in ("collection", "transaction"):
            cold = _cold(data, version, bundle_type)
            for _ in range(3):
                assert _warm(data, version, bundle_type) == cold


def test_monitors_interleaved_each_get_their_own_resources() -> None:
    """A central station: 30 monitors take turns, each with its own patient, bed, gateway, device
    EUI-64 and order numbers; warm translations equal cold ones and name the right monitor."""
    clear_caches()
    messages = central_station(VITALS, monitors=30, n=90)
    warm = [_warm(m) for m in messages]
    for k in (0, 1, 29, 30, 31, 59, 89):
        assert warm[k] == _cold(messages[k])
    for k in (5, 35, 65):  # one monitor, three turns: same Patient and Device, new Observations
        bundle = orjson.loads(warm[k][0])
        by_type = {}
        for e in bundle["entry"]:
            by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
        assert by_type["Patient"][0]["identifier"][0]["value"] == "P000005"
        eui = [i["value"] for d in by_type["Device"] for i in d.get("identifier", [])]
        assert "00-A0-C9-00-00-05-00-01" in eui
    ids = [{e["resource"]["id"] for e in orjson.loads(warm[k][0])["entry"]} for k in (5, 35, 6)]
    patient = [[r for r in orjson.loads(warm[k][0])["entry"] if r["resource"]["resourceType"] == "Patient"][0]
               ["resource"]["id"] for k in (5, 35, 6)]
    assert patient[0] == patient[1] != patient[2]
    assert len(ids[0] & ids[1]) > 0 and not (ids[0] & ids[2])


def _edit(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


@pytest.mark.parametrize("edit,effective,timestamp", [
    ((b"|F|||20240315101600+0100", b"|F|||20240315101600"), "2024-03-15T10:16:00+01:00", True),
    ((b"20240315101600+0100||ORU", b"20240315101600+0200||ORU"), "2024-03-15T10:16:00+01:00", True),
    ((b"20240315101600+0100||ORU", b"202403151016||ORU"), "2024-03-15T10:16:00+01:00", False),
], ids=["obx14-naive", "msh7-zone", "msh7-minutes"])
def test_times_are_read_anew(edit: tuple[bytes, bytes], effective: str, timestamp: bool) -> None:
    """An OBX-14 without offset takes the sender's zone (MSH-7); MSH-7 at minute precision gives no
    Bundle.timestamp: each message's own times, after a feed that said otherwise."""
    clear_caches()
    for m in FEED[:3]:
        _warm(m)
    message = _edit(FEED[1], *edit)
    assert _warm(message) == _cold(message)
    assert _observations(message)[0]["effectiveDateTime"] == effective
    assert ("timestamp" in orjson.loads(fhir_json(message))) is timestamp


@pytest.mark.parametrize("edit,code", [
    ((b"|F|||20240315101600+0100", b"|F|||2024031510XX"), "hl7v2.bad-dtm"),
    ((b"|8-30|", b"|8-30|ZZZ"), "hl7v2.unknown-flag"),
    ((b"PV1||I|", b"PV1||I|ICU^101^1\rNTE|1||a note\rPV1||I|"), "hl7v2.note-not-placed"),
], ids=["bad-time", "unknown-flag", "nte"])
def test_each_message_findings_are_its_own(edit: tuple[bytes, bytes], code: str) -> None:
    clear_caches()
    for m in FEED[:3]:
        _warm(m)
    message = _edit(FEED[1], *edit)
    json_, issues = _warm(message)
    assert (json_, issues) == _cold(message)
    assert code in [i.code for i in issues]
    assert code not in [i.code for i in _warm(FEED[2])[1]]  # and the next message does not inherit it


def test_findings_on_what_recurs_have_each_message_offsets() -> None:
    """A gateway that fills OBX-16 and OBX-19 (not placed: info findings on every row), sends PV1
    without patient class (R4 Encounter not emitted: a mapping note) and OBX-14 without offset in
    messages whose MSH-7 has none (each Observation: fhir.zone-assumed). All of it is the same in every
    message but the offsets, which move with the lengths of the values before them."""
    clear_caches()

    def quirky(message: bytes) -> bytes:
        segments = message.split(b"\r")
        for k, seg in enumerate(segments):
            fields = seg.split(b"|")
            if fields[0] == b"OBX" and fields[5]:
                fields[14] = fields[14][:14]
                fields += [b""] * (20 - len(fields))
                fields[16], fields[19] = b"NURSE01", b"20240315"
            elif fields[0] == b"MSH":
                fields[6] = fields[6][:14]
            elif fields[0] == b"PV1":
                fields[2] = b""
            segments[k] = b"|".join(fields)
        return b"\r".join(segments)

    messages = [quirky(m) for m in FEED[:6]]
    warm = [_warm(m) for m in messages]
    for message, got in zip(messages, warm, strict=True):
        assert got == _cold(message)
        codes = [i.code for i in got[1]]
        assert codes.count("hl7v2.field-not-placed") == 14 and codes.count("fhir.zone-assumed") == 7
        assert "fhir.encounter-class" in codes
    offsets = [[i.offset for i in w[1] if i.code == "hl7v2.field-not-placed"] for w in warm]
    assert len({tuple(o) for o in offsets}) > 1  # the offsets are each message's own


def test_a_value_of_another_kind_after_numbers() -> None:
    """NaN has no value: the Observation gets a dataAbsentReason, after a feed of numbers."""
    clear_caches()
    for m in FEED[:3]:
        _warm(m)
    message = re.sub(rb"(OBX\|4\|NM\|[^|]*\|[^|]*\|)\d+", rb"\1NaN", FEED[1])
    assert _warm(message) == _cold(message)
    pulse = _observations(message)[1]
    assert "valueQuantity" not in pulse
    assert pulse["dataAbsentReason"]["coding"][0]["code"] == "not-a-number"


@pytest.mark.parametrize("old,new", [
    (b"HOSP0001^^^ACME_HOSP&1.2.3.4.5&ISO^MR", b""),  # no patient identifier: Patient and Encounter per message
    (b"|||||||0123456789ABCDEF^^0123456789ABCDEF^EUI-64", b""),  # MDS without identifier: ids on the digest
], ids=["anonymous-patient", "unidentified-mds"])
def test_resources_without_identity_are_each_message_own(old: bytes, new: bytes) -> None:
    clear_caches()
    messages = [_edit(m, old, new) for m in FEED[:4]]
    warm = [_warm(m) for m in messages]
    for message, got in zip(messages, warm, strict=True):
        assert got == _cold(message)
    ids = [{e["resource"]["id"] for e in orjson.loads(w[0])["entry"]
            if e["resource"]["resourceType"] in ("Patient", "Device")} for w in warm]
    assert ids[0] and ids[0] != ids[1]  # resources named from each message's digest


def test_threads_translate_what_one_thread_does() -> None:
    clear_caches()
    expected = [_warm(m) for m in FEED]
    clear_caches()
    results: list[list] = [[] for _ in range(4)]

    def work(k: int) -> None:
        for message in FEED[k::2] + FEED:
            results[k].append((FEED.index(message), _warm(message)))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, got in enumerate(results):
        assert len(got) == len(FEED[k::2]) + len(FEED)
        for index, outcome in got:
            assert outcome == expected[index]


def test_one_observation_twice_in_a_message_gets_two_ids() -> None:
    """Two OBX rows of one metric and time: the second id is renamed, in every message."""
    clear_caches()
    messages = [re.sub(rb"(\rOBX\|3\|[^\r]*)", rb"\1\1", m) for m in FEED[:3]]
    assert all(m.count(b"\rOBX|3|") == 2 for m in messages)
    for message in messages:
        assert _warm(message) == _cold(message)
        ids = [r["id"] for r in _observations(message)]
        assert len(ids) == 8 and len(set(ids)) == 8


def test_lf_line_ends_are_noted_in_each_message() -> None:
    clear_caches()
    messages = [m.replace(b"\r", b"\n") for m in FEED[:5]]
    for message in messages:
        got = _warm(message)
        assert got == _cold(message)
        assert [i.code for i in got[1]] == ["hl7v2.line-ends"]
    broken = messages[3].replace(b"\nPV1|", b"\n!!!\nPV1|")  # a line that is no segment: a warning
    got = _warm(broken)
    assert got == _cold(broken) and "hl7v2.bad-segment" in [i.code for i in got[1]]


def test_segments_the_decoder_does_not_read() -> None:
    """An ORC with a new order number in every message, an EVN, and a PRT (not placed: reported by name
    and place, an info finding)."""
    clear_caches()
    messages = [m.replace(b"\rPID|", b"\rEVN||20240315\rPID|").replace(
        b"\rOBR|", f"\rORC|RE|ORD{n:05d}\rPRT|{n}|AD\rOBR|".encode()) for n, m in enumerate(FEED[:4])]
    for message in messages:
        got = _warm(message)
        assert got == _cold(message)
        # EVN, ORC and PRT, in segment order, each with the fields it carries (nothing dropped silently)
        assert [(i.code, i.location) for i in got[1]] == [("hl7v2.segment-not-placed", loc)
                                                          for loc in ("EVN[1]", "ORC[1]", "PRT[1]")]
        assert "it carries ORC-1, ORC-2" in got[1][1].message
    without = messages[3].replace(b"\rORC|RE|ORD00003", b"")
    assert _warm(without) == _cold(without)


def test_nte_comments_go_to_the_metric_before_them() -> None:
    """An NTE after a metric row (its text new in every message), after a device row (it belongs to the
    metric before, HL7v2Decoder.nte), empty, or right after the OBR (no metric: a finding)."""
    clear_caches()

    def commented(message: bytes, n: int) -> bytes:
        message = message.replace(b"\rOBX|4|", f"\rNTE|1||probe moved \\T\\ refit {n}\rOBX|4|".encode())
        message = message.replace(b"\rOBX|6|", f"\rNTE|2||cuff {n}~second line\rOBX|6|".encode())  # after OBX|5 (VMD)
        return message.replace(b"\rOBX|10|", b"\rNTE|3||\rOBX|10|")  # empty: nothing to say

    messages = [commented(m, n) for n, m in enumerate(FEED[:5])]
    for message in messages:
        assert _warm(message) == _cold(message)
    notes = [r.get("note") for r in _observations(messages[3])]
    assert notes[0] == [{"text": "probe moved & refit 3"}]  # SpO2, OBX|3
    assert notes[1] == [{"text": "cuff 3\nsecond line"}]  # pulse, OBX|4: the last metric before OBX|5's NTE
    assert notes[2:] == [None] * 5
    orphan = messages[4].replace(b"\rOBX|1|", b"\rNTE|9||about the order\rOBX|1|")
    got = _warm(orphan)
    assert got == _cold(orphan) and "hl7v2.note-not-placed" in [i.code for i in got[1]]
    silent = messages[3].replace(b"\rOBX|1|", b"\rNTE|9||\rOBX|1|")
    for message in (silent, orphan, silent):
        assert _warm(message) == _cold(message)


_VALUE = st.one_of(
    st.integers(0, 999).map(str),
    st.decimals(min_value=-50, max_value=500, places=2, allow_nan=False).map(str),
    st.sampled_from(["NaN", "", '""', "-1", "+5", ".5", "1e3", "12~13", "3.", "abc"]))
_FLAGS = st.one_of(st.just(""), st.lists(st.sampled_from(
    ["H", "L", "N", "HH", "LL", "A", "INV", "QUES", "NAV", "CAL", "TEST", "DEMO", "ZZZ"]), min_size=1, max_size=3)
    .map("~".join))
_TIME = st.one_of(
    st.just(""),
    st.tuples(st.datetimes(), st.sampled_from([8, 10, 12, 14]), st.sampled_from(["", "+0100", "-0330", "+0000"]))
    .map(lambda t: t[0].strftime("%Y%m%d%H%M%S")[:t[1]] + t[2]),
    st.sampled_from(["2024031510XX", "20241301", "20240315101500+9900"]))
_SEGMENT = st.sampled_from(["NTE|1||note {n}", "NTE|1||", "ORC|RE|X{n}", "PRT|{n}|AD", "ZXX|{n}", "EVN||2024"])


@MUTATE
@given(st.integers(0, len(FEED) - 1),
       st.lists(st.tuples(st.integers(0, 6), st.sampled_from([5, 8, 14]), st.data()), max_size=6),
       st.lists(st.tuples(st.integers(1, 17), _SEGMENT, st.integers(0, 9)), max_size=3),
       st.sampled_from(["", "+0000", "-0500", "+0100", "+1400"]), st.sampled_from(["\r", "\n"]),
       st.sampled_from(["R4", "R5"]))
def test_mutated_messages_translate_warm_as_cold(index: int, edits: list, inserted: list, zone: str,
                                                 separator: str, version: str) -> None:
    """Values, flags and times of a feed's metric rows (numbers of any precision, NaN, repetitions, flag
    lists, bad times, other zones), NTEs and segments the decoder passes over, LF line ends: translated
    after the plain feed message (its memos warm), the bytes and findings of a cold translation."""
    segments = FEED[index].decode().split("\r")
    rows = [k for k, seg in enumerate(segments) if seg.startswith("OBX") and seg.split("|")[5]]
    for row, field, draw in edits:
        fields = segments[rows[row]].split("|")
        fields[field] = draw.draw({5: _VALUE, 8: _FLAGS, 14: _TIME}[field])
        segments[rows[row]] = "|".join(fields)
    msh = segments[0].split("|")
    msh[6] = msh[6][:14] + zone
    segments[0] = "|".join(msh)
    for at, segment, n in sorted(inserted, reverse=True):
        segments.insert(min(at, len(segments)), segment.format(n=n))
    message = separator.join(segments).encode()
    expected = _outcome(_cold, message, version)
    _warm(FEED[index], version)
    for _ in range(2):
        assert _outcome(_warm, message, version) == expected
    if edits and isinstance(expected, tuple):  # the edited values are this message's, not the feed's
        _warm(FEED[index], version)
        assert _outcome(_warm, message, version) == expected


@MUTATE
@given(st.binary(max_size=400), st.sampled_from([b"", b"MSH|^~\\&|", b"\x0bMSH|^~\\&|A|B|C|D|2024|"]))
def test_arbitrary_bytes_only_ever_raise_decode_error(junk: bytes, prefix: bytes) -> None:
    _warm(FEED[0])
    try:
        fhir_json(prefix + junk, standard="hl7v2")
    except DecodeError:
        pass
