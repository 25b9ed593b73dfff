"""MLLP block scanning, the session state table, HL7 v2 acknowledgements (checked with hl7apy), MSH rules."""

from __future__ import annotations

import hl7apy.parser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interop.transport.mllp import fsm
from interop.transport.mllp.ack import AckError, build_ack, reply_code
from interop.transport.mllp.framing import Block, DiscardEnd, FrameScanner, Junk, Oversize, Start, frame
from interop.transport.mllp.receiver import content_digest, inspect, read_header

MSG = (b"MSH|^~\\&|MONITOR|ICU|INTEROP|HOSP|20240101120000||ORU^R01^ORU_R01|CTRL1|P|2.6\r"
       b"PID|1||PAT1^^^HOSP^MR\rOBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.0.1|67|/min^^UCUM|||||R\r")


def blocks(events):
    return [e.payload for e in events if isinstance(e, Block)]


def test_frame_and_scan_one_read() -> None:
    assert frame(b"abc") == b"\x0babc\x1c\r"
    ev = FrameScanner(1000).feed(frame(MSG) + frame(b"MSH|x"))
    assert ev == [Start(), Block(MSG), Start(), Block(b"MSH|x")]


def test_scan_split_everywhere() -> None:
    stream = b"\r\n" + frame(MSG) + b"\n" + frame(MSG[:40])
    for cut in range(1, len(stream)):
        sc = FrameScanner(1000)
        ev = sc.feed(stream[:cut]) + sc.feed(stream[cut:])
        assert blocks(ev) == [MSG, MSG[:40]], cut
        assert not any(isinstance(e, Junk) for e in ev), cut  # line ends between blocks are not junk
        assert not sc.in_block


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=10))
def test_scan_arbitrary_bytes_never_raises(data: bytes, cuts: list[int]) -> None:
    sc = FrameScanner(64)
    pos = 0
    for c in cuts + [len(data)]:
        for e in sc.feed(data[pos:pos + c]):
            assert isinstance(e, Start | Block | Junk | Oversize | DiscardEnd)
            if isinstance(e, Block):
                assert len(e.payload) <= 64 and b"\x1c" not in e.payload
        pos += c


def test_junk_missing_cr_and_oversize() -> None:
    sc = FrameScanner(10)
    ev = sc.feed(b"junk!\x0bMSH|1\x1cX\x0b" + b"A" * 30)
    assert ev[0] == Junk(5)
    assert ev[2] == Block(b"MSH|1", trailer_ok=False)
    assert ev[3] == Junk(1) and ev[4] == Start()
    assert isinstance(ev[5], Oversize) and ev[5].head.startswith(b"AAAA") and ev[5].limit == 10
    assert sc.in_block and sc.buffered == 30
    assert sc.feed(b"B" * 5 + b"\x1c\r" + frame(b"ok")) == [DiscardEnd(35), Start(), Block(b"ok")]


def test_transition_table_covers_every_event_in_every_state() -> None:
    for n in range(1, 13):
        assert (f"Evt{n}", fsm.STA_CLOSED) in fsm.TRANSITION_TABLE
    for (event, state), action in fsm.TRANSITION_TABLE.items():
        assert event in fsm.EVENTS and state in fsm.STATES
        assert action.__name__.startswith("MLLP_") and event in (action.__doc__ or "") or action is fsm.MLLP_14


def parse_v2(ack: bytes):
    return hl7apy.parser.parse_message(ack.decode().replace("\r", "\n").strip().replace("\n", "\r"),
                                       find_groups=False)


def test_original_mode_aa_echoes_control_id_and_swaps_applications() -> None:
    v = inspect(MSG, "peer")
    assert v.code == "AA" and v.item is not None and v.item.dedup == "MONITOR^ICU:CTRL1"
    ack = build_ack(v.header, reply_code(v.header, "AA"), control_id="A1", timestamp="20240101120001")
    assert ack == (b"MSH|^~\\&|INTEROP|HOSP|MONITOR|ICU|20240101120001||ACK^R01^ACK|A1|P|2.6\r"
                   b"MSA|AA|CTRL1\r")
    m = parse_v2(ack)  # hl7apy reads it as a valid v2.6 ACK
    assert m.msa.msa_1.value == "AA" and m.msa.msa_2.value == "CTRL1"


def test_enhanced_mode_one_acknowledgement_as_msh15_msh16_ask() -> None:
    msg = MSG.replace(b"|P|2.6\r", b"|P|2.6|||AL|NE\r")
    v = inspect(msg, "peer")
    ack = build_ack(v.header, reply_code(v.header, "AA"), control_id="A1", timestamp="20240101120001")
    assert b"\rMSA|CA|CTRL1\r" in ack
    # (MSH-15, MSH-16) -> MSA-1 sent on success, on error; None = nothing sent
    for (accept, app), sent in {("AL", "AL"): ("CA", "CE"), ("NE", "NE"): (None, None), ("ER", "AL"): ("AA", "CE"),
                                ("SU", "NE"): ("CA", None), ("", "AL"): ("CA", "CE"), ("NE", "AL"): ("AA", "AE"),
                                ("NE", "ER"): (None, "AE"), ("NE", ""): (None, None)}.items():
        h = inspect(MSG.replace(b"|P|2.6\r", f"|P|2.6|||{accept}|{app}\r".encode()), "p").header
        assert (reply_code(h, "AA"), reply_code(h, "AE")) == sent, (accept, app)
    assert reply_code(inspect(MSG, "p").header, "AR") == "AR"  # original mode


def test_ar_unsupported_version_has_err_with_location_and_table_0357_code() -> None:
    v = inspect(MSG.replace(b"|2.6\r", b"|9.9\r"), "peer")
    assert v.code == "AR" and v.item is None
    ack = build_ack(v.header, v.code, v.errors, control_id="A2", timestamp="20240101120001")
    segs = ack.decode().split("\r")
    assert segs[1] == "MSA|AR|CTRL1"
    assert segs[2].startswith("ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||")
    m = parse_v2(ack.replace(b"|9.9", b"|2.5.1").replace(b"|2.5.1\r", b"|2.5\r"))
    assert m.err.err_3.err_3_1.value == "203"


def test_ae_required_fields_and_v23_err1() -> None:
    msg = b"MSH|^~\\&|LAB|FAC|||20240101||ORU^R01||P|2.3\rPID|1\r"
    v = inspect(msg, "peer")
    assert v.code == "AE" and [e.field for e in v.errors] == [10]
    ack = build_ack(v.header, v.code, v.errors, control_id="A3", timestamp="20240101")
    segs = ack.decode().split("\r")
    assert segs[0].split("|")[8] == "ACK^R01"  # v2.3: no message structure component
    assert segs[1] == "MSA|AE||MSH-10 is required"  # MSA-3 text before v2.5
    assert segs[2] == "ERR|MSH^1^10^101&Required field missing&HL70357"


@pytest.mark.parametrize(("data", "code", "where"), [
    (b"PID|1||X\r", "100", None),  # no MSH
    (b"\x00\xff\x10garbage", "100", None),  # binary junk
    (b"MSH", "102", 2),  # truncated after the segment id
    (b"MSHA^~\\&|x", "102", 1),  # alphanumeric field separator
    (b"MSH|^~|x|", "102", 2),  # two encoding characters
])
def test_no_msh_is_ar_with_empty_msa2(data: bytes, code: str, where: int | None) -> None:
    v = inspect(data, "peer")
    assert v.code == "AR" and v.header is None
    assert (v.errors[0].code, v.errors[0].field) == (code, where)
    ack = build_ack(None, "AR", v.errors)
    assert ack.split(b"\r")[1] == b"MSA|AR|"


def test_processing_id_and_ack_messages() -> None:
    assert inspect(MSG.replace(b"|P|2.6", b"|X|2.6"), "p").errors[0].code == "202"
    ack_in = b"MSH|^~\\&|A|B|C|D|20240101||ACK^R01^ACK|9|P|2.6\rMSA|AA|1\r"
    assert inspect(ack_in, "p").is_ack


def test_charset_and_delimiters_from_msh() -> None:
    msg = "MSH#!~$&#APP#FAC#R#F#20240101##ORU!R01#C9#P#2.5######8859/1\rPID#1##Müller\r".encode("latin-1")
    h = read_header(msg)
    assert (h.delimiters.field, h.delimiters.component, h.charset, h.control_id) == ("#", "!", "latin-1", "C9")
    ack = build_ack(h, "AA", control_id="A", timestamp="2024")
    assert ack.startswith(b"MSH#!~$&#R#F#APP#FAC#2024##ACK!R01!ACK#A#P#2.5######8859/1\rMSA#AA#C9\r")


def test_digest_ignores_msh7_only() -> None:
    restamped = MSG.replace(b"20240101120000", b"20240101130000")
    assert content_digest(MSG, "|") == content_digest(restamped, "|")
    assert content_digest(MSG, "|") != content_digest(MSG.replace(b"|67|", b"|68|"), "|")


def test_ack_text_never_repeats_field_values() -> None:
    err = AckError("207", "message larger than this receiver's limit of 10 bytes; not stored")
    ack = build_ack(inspect(MSG, "p").header, "AR", (err,))
    assert b"PAT1" not in ack and b"147842" not in ack
