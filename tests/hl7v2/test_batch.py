"""Inputs holding several HL7 v2 messages (batch files, MLLP captures, messages one after another):
each message is decoded on its own, a bad one loses none of the others, and no message is ever read
into another."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from interop.codecs.hl7v2.batch import split

from interop import decode, decode_all
from interop.errors import DecodeError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

FEED = feed((ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes(), 4)
IDS = ["MSG000000", "MSG000001", "MSG000002", "MSG000003"]


def test_one_message_is_left_as_it_is() -> None:
    assert split(FEED[0]) == [(0, FEED[0])]
    assert split(b"\x0b" + FEED[0] + b"\x1c\r") == [(0, b"\x0b" + FEED[0] + b"\x1c\r")]
    assert split(b"junk") == [(0, b"junk")]
    (only,) = decode_all(FEED[0])
    assert only == decode(FEED[0])


def test_batch_file_with_envelope() -> None:
    """HL7 v2 chapter 2 batch protocol: FHS, BHS, the messages, BTS (message count), FTS."""
    data = b"FHS|^~\\&|ACME_GW\rBHS|^~\\&|ACME_GW\r" + b"\r".join(FEED) + b"\rBTS|4\rFTS|1\r"
    chunks = split(data)
    assert [c[0] for c in chunks] == [data.index(m) for m in FEED]  # offsets into the whole file
    assert all(c[1].startswith(b"MSH|") and b"BTS" not in c[1] for c in chunks)
    messages = list(decode_all(data))
    assert [m.control_id for m in messages] == IDS
    assert all(not m.issues for m in messages)
    assert [m.metrics[0].value.quantity.value for m in messages] == \
        [decode(m).metrics[0].value.quantity.value for m in FEED]


def test_mllp_capture() -> None:
    data = b"".join(b"\x0b" + m + b"\x1c\r" for m in FEED)
    assert [m.control_id for m in decode_all(data)] == IDS


def test_lf_separated_messages() -> None:
    data = b"\n".join(m.replace(b"\r", b"\n") for m in FEED) + b"\n"
    messages = list(decode_all(data))
    assert [m.control_id for m in messages] == IDS
    assert {i.code for m in messages for i in m.issues} == {"hl7v2.line-ends"}


def test_a_bad_message_loses_none_of_the_others() -> None:
    bad = FEED[1].replace(b"MSH|^~\\&|", b"MSH|^~^&|")
    data = b"\r".join([FEED[0], bad, FEED[2]])
    first, error, third = decode_all(data, label="capture.hl7")
    assert (first.control_id, third.control_id) == ("MSG000000", "MSG000002")
    assert isinstance(error, DecodeError)
    assert error.position == "message 2, MSH-2"
    assert error.offset == len(FEED[0]) + 1 + 4  # the encoding characters, counted in the whole file
    assert str(error).startswith("capture.hl7: message 2, MSH-2 (byte ")


def test_text_between_messages_is_reported_not_dropped() -> None:
    data = FEED[0] + b"\rBHS|^~\\&|GW\rstray text\r" + FEED[1]
    first, stray, second = decode_all(data)
    assert isinstance(stray, DecodeError) and stray.position.startswith("message 2")
    assert (first.control_id, second.control_id) == ("MSG000000", "MSG000001")


def test_decode_never_mixes_two_messages() -> None:
    """decode() reads one message: a second MSH ends it, with a finding saying what was not read."""
    msg = decode(FEED[0] + b"\r" + FEED[1])
    assert msg.control_id == "MSG000000"
    assert len(msg.metrics) == len(decode(FEED[0]).metrics)
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.second-msh"]
    assert issue.location == "MSH" and issue.offset == len(FEED[0]) + 1
    assert "it and the 15 segments after it are not read" in issue.message
    framed = decode(b"\x0b" + FEED[0] + b"\x1c\r\x0b" + FEED[1] + b"\x1c\r")
    assert [i.code for i in framed.issues] == ["hl7v2.after-mllp-block"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["\r", "\n", "\r\n"]), min_size=3, max_size=3),
       st.sampled_from(["", "FHS|^~\\&|X\r", "BHS|^~\\&|X\r", "\x0b"]))
def test_any_separator_and_envelope_keeps_every_message(ends: list[str], head: str) -> None:
    parts = [m.replace(b"\r", end.encode()) for m, end in zip(FEED[:3], ends, strict=True)]
    if head == "\x0b":
        data = b"".join(b"\x0b" + p + b"\x1c\r" for p in parts)
    else:
        data = head.encode() + b"\r".join(parts)
    results = list(decode_all(data))
    assert [getattr(m, "control_id", None) for m in results] == IDS[:3]


def test_cli_translates_every_message_of_a_batch(tmp_path: Path) -> None:
    bad = FEED[2].replace(b"MSH|^~\\&|", b"MSH|^~^&|")
    batch = tmp_path / "capture.hl7"
    batch.write_bytes(b"\r".join([FEED[0], FEED[1], bad, FEED[3]]))
    run = [sys.executable, "-m", "interop.cli.main", "translate"]
    r = subprocess.run([*run, str(batch)], capture_output=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2
    lines = r.stdout.splitlines()  # one Bundle per line, for the three good messages
    assert len(lines) == 3 and all(json.loads(line)["resourceType"] == "Bundle" for line in lines)
    (err,) = r.stderr.decode().splitlines()
    assert err.startswith(f"{batch}: message 3, MSH-2 (byte ")
    other = tmp_path / "single.hl7"
    other.write_bytes(FEED[0])
    out = tmp_path / "out"
    r = subprocess.run([*run, str(batch), str(other), "-o", str(out)], capture_output=True, timeout=120, cwd=ROOT)
    assert r.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "capture.hl7.1.fhir.json", "capture.hl7.2.fhir.json", "capture.hl7.4.fhir.json", "single.hl7.fhir.json"]
