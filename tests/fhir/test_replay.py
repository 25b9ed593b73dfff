"""interop.fhir_json replays the learned translation of a recurring structure (mappings.fhir.replay):
its JSON must be byte for byte what the canonical path writes, `to_fhir(decode(data)).json()`, and it
must fall back to that path whenever anything could differ."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from interop.mappings.fhir import replay

from interop import clear_caches, decode, fhir_json, to_fhir
from interop.errors import DecodeError
from interop.pipeline import translate_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

VITALS = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
FEED = feed(VITALS, 40)
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".hl7", ".x73", ".gatt", ".dcm"))
PHILIPS = ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7"


def _blank_clock(data: bytes) -> bytes:
    """Provenance.recorded is the clock when the input states no time: blanked for comparison."""
    return re.sub(rb'"recorded":"[^"]*"', b'"recorded":""', data)


def _canonical(data: bytes | Path, version: str = "R4", bundle_type: str = "collection") -> bytes:
    return to_fhir(decode(data), version, bundle_type=bundle_type).json()


def _learn(data: bytes, version: str = "R4", bundle_type: str = "collection") -> None:
    """Translate `data` twice: a structure is learned when it is met again (replay.learn)."""
    for _ in range(2):
        translate_json(data, version, bundle_type=bundle_type)


def _replayed(data: bytes, version: str = "R4", bundle_type: str = "collection") -> bool:
    return translate_json(data, version, bundle_type=bundle_type).message is None


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
@pytest.mark.parametrize("version", ["R4", "R5"])
def test_a_feed_is_replayed_byte_for_byte(version: str, bundle_type: str) -> None:
    clear_caches()
    replayed = 0
    for message in FEED:
        out, count, issues, msg, _ = translate_json(message, version, bundle_type=bundle_type)
        replayed += msg is None
        assert out == _canonical(message, version, bundle_type)
        assert count == 23 and issues == ()
    assert replayed == len(FEED) - 2  # all but the first two of the structure (met, then learned)


def test_the_replayed_bundle_carries_this_message_news() -> None:
    """Values, times, flags, ids and Provenance are the new message's, not the learned one's."""
    clear_caches()
    _learn(FEED[0])
    import orjson

    first, second = (orjson.loads(fhir_json(m)) for m in FEED[:2])
    assert _replayed(FEED[1])
    assert first["id"] != second["id"] and first["timestamp"] != second["timestamp"]
    obs = [[e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation"]
           for b in (first, second)]
    assert [o["valueQuantity"]["value"] for o in obs[0]] != [o["valueQuantity"]["value"] for o in obs[1]]
    assert {o["id"] for o in obs[0]}.isdisjoint(o["id"] for o in obs[1])
    assert obs[1][0]["effectiveDateTime"] == "2024-03-15T10:16:00+01:00"  # FEED[1] is a minute after FEED[0]
    provenance = second["entry"][-1]["resource"]
    assert provenance["entity"][0]["what"]["display"] == "HL7 v2 ORU^R01^ORU_R01 MSG000001"
    assert [t["reference"] for t in provenance["target"]] == [e["fullUrl"] for e in second["entry"][:-1]]


@pytest.mark.parametrize("path", EXAMPLES + [PHILIPS], ids=lambda p: p.name)
def test_every_example_gives_what_the_canonical_path_gives(path: Path) -> None:
    data = path.read_bytes()
    for version in ("R4", "R5"):
        for bundle_type in ("collection", "transaction"):
            canonical = _blank_clock(_canonical(data, version, bundle_type))
            for _ in range(3):  # met, then learned, then replayed where it can be
                assert _blank_clock(fhir_json(data, version, bundle_type=bundle_type)) == canonical


def test_devices_interleaved_each_replay_their_own_structure() -> None:
    """Two monitors (other EUI-64, patient and bed) take turns: each is replayed from its own learning."""
    clear_caches()
    other = [m.replace(b"0123456789ABCDEF", b"00112233445566FF").replace(b"HOSP0001", b"HOSP0002")
             .replace(b"ICU^101", b"ICU^102") for m in FEED]
    for a, b in zip(FEED, other, strict=True):
        for message in (a, b):
            assert fhir_json(message) == _canonical(message)
    assert len(replay._SKELETONS) == 2
    assert _replayed(FEED[5]) and _replayed(other[5])


def _edit(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


@pytest.mark.parametrize("edit", [
    (b"|F|||20240315101600+0100", b"|F|||20240315101600"),  # an OBX-14 without offset: the sender's zone (MSH-7)
    (b"20240315101600+0100||ORU", b"20240315101600+0200||ORU"),  # MSH-7 in summer time: another default zone
    (b"20240315101600+0100||ORU", b"202403151016||ORU"),  # MSH-7 at minute precision: no Bundle.timestamp
], ids=["obx14-naive", "msh7-zone", "msh7-minutes"])
def test_times_are_read_anew(edit: tuple[bytes, bytes]) -> None:
    clear_caches()
    _learn(FEED[0])
    message = _edit(FEED[1], *edit)
    assert _blank_clock(fhir_json(message)) == _blank_clock(_canonical(message))
    assert _replayed(message)


@pytest.mark.parametrize("edit", [
    (b"|F|||20240315101600+0100", b"|F|||2024031510XX"),  # a bad OBX-14: hl7v2.bad-dtm
    (b"|8-30|", b"|8-30|ZZZ"),  # an unknown OBX-8 flag: hl7v2.unknown-flag
    (b"20240315101600+0100||ORU", b"202403151016||ORU|"),  # MSH changed shape: another structure
    (b"PV1||I|", b"PV1||I|ICU^101^1\rNTE|1||a note\rPV1||I|"),  # a segment the split does not read
], ids=["bad-time", "unknown-flag", "new-structure", "nte"])
def test_what_needs_the_canonical_path_takes_it(edit: tuple[bytes, bytes]) -> None:
    clear_caches()
    _learn(FEED[0])
    message = _edit(FEED[1], *edit)
    result = translate_json(message)
    assert result.message is not None  # not replayed: the Message comes with it
    assert _blank_clock(result.json) == _blank_clock(_canonical(message))
    assert result.issues == _canonical_issues(message)


def _canonical_issues(data: bytes, version: str = "R4") -> tuple:
    """What `translate_json` reports for `data` on the canonical path: decoding's findings, then the mapping's."""
    message = decode(data)
    bundle = to_fhir(message, version)
    return message.issues + tuple(i for i in bundle.issues if i not in message.issues)


def test_findings_on_what_recurs_are_replayed_at_each_message_offsets() -> None:
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
    for n, message in enumerate(messages):
        result = translate_json(message)
        assert (result.message is None) == (n > 1)
        assert result.json == _canonical(message)
        expected = _canonical_issues(message)
        assert result.issues == expected
        codes = [i.code for i in expected]
        assert codes.count("hl7v2.field-not-placed") == 14 and codes.count("fhir.zone-assumed") == 7
        assert "fhir.encounter-class" in codes
    offsets = [[i.offset for i in translate_json(m).issues if i.code == "hl7v2.field-not-placed"] for m in messages]
    assert len({tuple(o) for o in offsets}) > 1  # the offsets are each message's own


def test_a_value_of_another_kind_is_not_replayed() -> None:
    """NaN has no value: the Observation gets a dataAbsentReason and DeviceMetric.unit differs."""
    clear_caches()
    _learn(FEED[0])
    message = re.sub(rb"(OBX\|4\|NM\|[^|]*\|[^|]*\|)\d+", rb"\1NaN", FEED[1])
    assert not _replayed(message)
    assert fhir_json(message) == _canonical(message)


@pytest.mark.parametrize("old,new", [
    (b"HOSP0001^^^ACME_HOSP&1.2.3.4.5&ISO^MR", b""),  # no patient identifier: Patient and Encounter per message
    (b"|||||||0123456789ABCDEF^^0123456789ABCDEF^EUI-64", b""),  # MDS without identifier: ids on the digest
], ids=["anonymous-patient", "unidentified-mds"])
def test_structures_whose_resources_do_not_recur_are_never_learned(old: bytes, new: bytes) -> None:
    clear_caches()
    messages = [_edit(m, old, new) for m in FEED[:4]]
    for message in messages:
        assert _blank_clock(fhir_json(message)) == _blank_clock(_canonical(message))
        assert not _replayed(message)
    assert not replay._SKELETONS


def test_threads_replay_what_one_thread_does() -> None:
    clear_caches()
    expected = [_canonical(m) for m in FEED]
    results: list[list[bytes]] = [[] for _ in range(4)]

    def work(k: int) -> None:
        for message in FEED[k:] + FEED[:k]:
            results[k].append(fhir_json(message))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, got in enumerate(results):
        assert got == expected[k:] + expected[:k]


def test_bad_input_raises_what_decode_raises() -> None:
    for data in (b"", b"\x00\x01junk", FEED[0][:2], b"MSH|^~", FEED[0].replace(b"MSH|^~\\&|", b"MSH|^~^&|")):
        with pytest.raises(DecodeError) as replayed:
            fhir_json(data, standard="hl7v2")
        with pytest.raises(DecodeError) as canonical:
            decode(data, "hl7v2")
        assert str(replayed.value) == str(canonical.value)


MUTATE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MUTATE
@given(st.integers(0, len(FEED) - 1), st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(
    ["", "|", "^", "~", "\\", "&", "X", "1", "7", ".", "-", "+0200", "NAV", "INV", "H", "L", " ", "\r", "\"\""])),
    min_size=1, max_size=4))
def test_mutated_messages_give_what_the_canonical_path_gives(index: int, edits: list[tuple[int, str]]) -> None:
    """After the feed's structure is learned, a mutated message (other values, flags, times, fields,
    segments) gives the canonical JSON, or the same DecodeError."""
    text = FEED[index].decode()
    for at, piece in edits:
        at = min(at, len(text))
        text = text[:at] + piece + text[at + 1:]
    data = text.encode()
    _learn(FEED[index])
    try:
        expected = _blank_clock(_canonical(data))
    except DecodeError as exc:
        expected = str(exc).encode()
    try:
        expected_issues = _canonical_issues(data)
    except DecodeError:
        expected_issues = None
    for _ in range(3):  # met, then learned, then maybe replayed
        try:
            result = translate_json(data)
            got = _blank_clock(result.json)
            assert result.issues == expected_issues
        except DecodeError as exc:
            got = str(exc).encode()
        assert got == expected


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


@MUTATE
@given(st.integers(0, len(FEED) - 1),
       st.lists(st.tuples(st.integers(0, 6), st.sampled_from([5, 8, 14]), st.data()), min_size=1, max_size=6),
       st.sampled_from(["", "+0000", "-0500", "+0100", "+1400"]), st.sampled_from(["R4", "R5"]))
def test_any_news_in_a_learned_structure_replays_to_the_canonical_bytes(
        index: int, edits: list, zone: str, version: str) -> None:
    """Values, flags and times of a feed's metric rows (numbers of any precision, NaN, repetitions,
    flag lists, bad times, other zones): replayed where it can be, the canonical JSON either way."""
    segments = FEED[index].decode().split("\r")
    rows = [k for k, seg in enumerate(segments) if seg.startswith("OBX") and seg.split("|")[5]]
    for row, field, data in edits:
        text = data.draw({5: _VALUE, 8: _FLAGS, 14: _TIME}[field])
        fields = segments[rows[row]].split("|")
        fields[field] = text
        segments[rows[row]] = "|".join(fields)
    msh = segments[0].split("|")
    msh[6] = msh[6][:14] + zone
    segments[0] = "|".join(msh)
    data = "\r".join(segments).encode()
    _learn(FEED[index], version)
    try:
        expected = _blank_clock(_canonical(data, version))
    except DecodeError as exc:
        expected = str(exc).encode()
    try:
        expected_issues = _canonical_issues(data, version)
    except DecodeError:
        expected_issues = None
    for _ in range(3):
        try:
            out, _, issues, message, _ = translate_json(data, version)
            got = _blank_clock(out)
            event("replayed" if message is None else "canonical path")
            assert issues == expected_issues
        except DecodeError as exc:
            got = str(exc).encode()
        assert got == expected


def test_a_message_with_one_observation_twice_is_not_learned() -> None:
    """Two OBX rows of one metric and time: the canonical path renames the second id; never replayed."""
    clear_caches()
    messages = [re.sub(rb"(\rOBX\|3\|[^\r]*)", rb"\1\1", m) for m in FEED[:3]]
    assert all(m.count(b"\rOBX|3|") == 2 for m in messages)
    for message in messages:
        out, _, _, msg, bundle = translate_json(message)
        assert out == _canonical(message)
        assert msg is not None  # not replayed
    ids = [r["id"] for r in to_fhir(decode(messages[0])).resources if r["resourceType"] == "Observation"]
    assert len(ids) == 8 and len(set(ids)) == 8


def test_a_feed_with_lf_line_ends_is_replayed_with_each_message_notes() -> None:
    """The tokenizer's info notes (LF line ends) do not stop the replay; each message gets its own."""
    clear_caches()
    messages = [m.replace(b"\r", b"\n") for m in FEED[:5]]
    for n, message in enumerate(messages):
        result = translate_json(message)
        assert result.json == _canonical(message)
        assert [i.code for i in result.issues] == ["hl7v2.line-ends"]
        assert (result.message is None) == (n > 1)
    # a warning from the tokenizer (a line that is no segment) is never replayed
    broken = messages[3].replace(b"\nPV1|", b"\n!!!\nPV1|")
    result = translate_json(broken)
    assert result.message is not None and "hl7v2.bad-segment" in [i.code for i in result.issues]
    assert result.json == _canonical(broken)


def test_the_learned_structures_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_caches()
    monkeypatch.setattr(replay, "_SIZE", 3)
    beds = [[m.replace(b"ICU^101", f"ICU^{100 + k}".encode()) for m in FEED[:2]] for k in range(5)]
    for bed in beds:
        _learn(bed[0])
    assert len(replay._SKELETONS) == 3
    assert _replayed(beds[4][1]) and _replayed(beds[2][1])  # the newest three
    assert not _replayed(beds[0][1])  # the oldest went first (and is learned again now)


def test_segments_the_decoder_does_not_read_do_not_stop_the_replay() -> None:
    """An ORC with a new order number in every message, an EVN, and a PRT (not placed: reported by name
    and place, an info finding): nothing of their text is translated, only their place recurs."""
    clear_caches()
    messages = [m.replace(b"\rPID|", b"\rEVN||20240315\rPID|").replace(
        b"\rOBR|", f"\rORC|RE|ORD{n:05d}\rPRT|{n}|AD\rOBR|".encode()) for n, m in enumerate(FEED[:4])]
    for n, message in enumerate(messages):
        result = translate_json(message)
        assert result.json == _canonical(message) and result.issues == _canonical_issues(message)
        assert [i.code for i in result.issues] == ["hl7v2.segment-not-placed"]
        assert (result.message is None) == (n > 1)
    # the same message without its ORC: another structure (a finding's segment is found by its place)
    without = messages[3].replace(b"\rORC|RE|ORD00003", b"")
    for _ in range(3):
        result = translate_json(without)
        assert result.json == _canonical(without) and result.issues == _canonical_issues(without)


@MUTATE
@given(st.binary(max_size=400), st.sampled_from([b"", b"MSH|^~\\&|", b"\x0bMSH|^~\\&|A|B|C|D|2024|"]))
def test_arbitrary_bytes_only_ever_raise_decode_error(junk: bytes, prefix: bytes) -> None:
    _learn(FEED[0])
    try:
        fhir_json(prefix + junk, standard="hl7v2")
    except DecodeError:
        pass


def test_nte_comments_are_news_of_the_metric_before_them() -> None:
    """An NTE after a metric row (its text new in every message), after a device row (it belongs to the
    metric before, HL7v2Decoder.nte), empty, or right after the OBR (no metric: a finding, no replay)."""
    clear_caches()

    def commented(message: bytes, n: int) -> bytes:
        message = message.replace(b"\rOBX|4|", f"\rNTE|1||probe moved \\T\\ refit {n}\rOBX|4|".encode())
        message = message.replace(b"\rOBX|6|", f"\rNTE|2||cuff {n}~second line\rOBX|6|".encode())  # after OBX|5 (VMD)
        return message.replace(b"\rOBX|10|", b"\rNTE|3||\rOBX|10|")  # empty: nothing to say

    messages = [commented(m, n) for n, m in enumerate(FEED[:5])]
    for n, message in enumerate(messages):
        result = translate_json(message)
        assert result.json == _canonical(message) and result.issues == _canonical_issues(message)
        assert (result.message is None) == (n > 1)
    import orjson

    notes = [r.get("note") for r in (e["resource"] for e in orjson.loads(fhir_json(messages[3]))["entry"])
             if r["resourceType"] == "Observation"]
    assert notes[0] == [{"text": "probe moved & refit 3"}]  # SpO2, OBX|3
    assert notes[1] == [{"text": "cuff 3\nsecond line"}]  # pulse, OBX|4: the last metric before OBX|5's NTE
    assert notes[2:] == [None] * 5
    orphan = messages[4].replace(b"\rOBX|1|", b"\rNTE|9||about the order\rOBX|1|")
    fhir_json(orphan)
    result = translate_json(orphan)
    assert result.message is not None and "hl7v2.note-not-placed" in [i.code for i in result.issues]
    assert result.json == _canonical(orphan)
    # learned from a message whose orphan NTE said something, an empty one says nothing (and back)
    silent = messages[3].replace(b"\rOBX|1|", b"\rNTE|9||\rOBX|1|")
    for message in (silent, orphan, silent):
        result = translate_json(message)
        assert result.json == _canonical(message) and result.issues == _canonical_issues(message)


_SEGMENT = st.sampled_from(["NTE|1||note {n}", "NTE|1||", "ORC|RE|X{n}", "PRT|{n}|AD", "ZXX|{n}", "EVN||2024"])


@MUTATE
@given(st.integers(0, len(FEED) - 1),
       st.lists(st.tuples(st.integers(0, 6), st.sampled_from([5, 8, 14]), st.data()), max_size=3),
       st.lists(st.tuples(st.integers(1, 17), _SEGMENT, st.integers(0, 9)), max_size=3),
       st.sampled_from(["\r", "\n"]), st.data())
def test_feeds_with_comments_and_segments_not_read_replay_to_the_canonical_findings(
        index: int, edits: list, inserted: list, separator: str, data) -> None:
    """A learned structure meets messages with NTEs (saying something or nothing, after a metric, a
    device row or no metric), segments the decoder passes over or reports, other news and LF ends:
    replayed or not, the canonical bytes and findings, the second time too."""
    segments = FEED[index].decode().split("\r")
    rows = [k for k, seg in enumerate(segments) if seg.startswith("OBX") and seg.split("|")[5]]
    for row, field, draw in edits:
        fields = segments[rows[row]].split("|")
        fields[field] = draw.draw({5: _VALUE, 8: _FLAGS, 14: _TIME}[field])
        segments[rows[row]] = "|".join(fields)
    for at, segment, n in sorted(inserted, reverse=True):
        segments.insert(min(at, len(segments)), segment.format(n=n))
    message = separator.join(segments).encode()
    learned = data.draw(st.sampled_from([FEED[index], message]))
    _learn(learned)  # from this message or from the plain feed one
    try:
        expected = (_blank_clock(_canonical(message)), _canonical_issues(message))
    except DecodeError as exc:
        expected = str(exc)
    for _ in range(3):
        try:
            result = translate_json(message)
            got = (_blank_clock(result.json), result.issues)
            event("replayed" if result.message is None else "canonical path")
        except DecodeError as exc:
            got = str(exc)
        assert got == expected


def test_a_structure_met_once_is_not_learned() -> None:
    """A new patient in every message (most ADT and lab feeds): no structure recurs, none is learned,
    so none costs memory or pushes out a monitor's; the second message of a structure is learned."""
    clear_caches()
    for n, message in enumerate(FEED[:10]):
        message = message.replace(b"HOSP0001", f"NEW{n:04d}".encode())
        assert fhir_json(message) == _canonical(message)
    assert not replay._SKELETONS
    assert not _replayed(FEED[0]) and not replay._SKELETONS  # met once (the patient recurs from here)
    assert not _replayed(FEED[1]) and len(replay._SKELETONS) == 1  # met again: learned
    assert _replayed(FEED[2])
