"""HL7 batches over MLLP (HL7 v2 chapter 2, "HL7 batch protocol" and "Acknowledging batches"): a batch
in one block is stored message by message and answered with a batch of acknowledgements; several
messages in one block without a batch envelope are refused (MLLP carries one message per block)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from interop.transport.forward import RetryPolicy
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

from .helpers import Peer, msa, oru

FAST = RetryPolicy(initial=0.05, maximum=0.5, jitter=0.0)
FHS = b"FHS|^~\\&|GATEWAY|ICU|INTEROP|HOSP|20240101120000||||FILE-17\r"
BHS = b"BHS|^~\\&|GATEWAY|ICU|INTEROP|HOSP|20240101120000||||BATCH-42\r"


@pytest.fixture()
def svc(tmp_path: Path):
    s = MllpService(MllpConfig(port=0), store_dir=tmp_path / "store", retry=FAST)
    s.start()
    yield s
    s.stop()


def segments(block: bytes) -> list[list[str]]:
    return [line.split("|") for line in block.decode().split("\r") if line]


def test_batch_is_stored_per_message_and_answered_with_a_batch_of_acks(svc, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    batch = FHS + BHS + oru(1) + oru(2) + oru(3, version="9.9") + b"BTS|3\rFTS|1\r"
    p = Peer(svc.port)
    answer = p.exchange(batch)
    segs = segments(answer)
    assert [s[0] for s in segs] == ["FHS", "BHS", "MSH", "MSA", "MSH", "MSA", "MSH", "MSA", "ERR", "BTS", "FTS"]
    fhs, bhs = segs[0], segs[1]
    # sender and receiver swapped, new control ids, the original's named in FHS-12 / BHS-12
    assert fhs[2:6] == ["INTEROP", "HOSP", "GATEWAY", "ICU"] and fhs[11] == "FILE-17" and fhs[10].startswith("ACK")
    assert bhs[2:6] == ["INTEROP", "HOSP", "GATEWAY", "ICU"] and bhs[11] == "BATCH-42" and bhs[10] != fhs[10]
    assert [(s[1], s[2]) for s in segs if s[0] == "MSA"] == [("AA", "CTRL1"), ("AA", "CTRL2"), ("AR", "CTRL3")]
    assert "203^Unsupported version id^HL70357" in answer.decode()
    assert segs[-2] == ["BTS", "3"] and segs[-1] == ["FTS", "1"]
    # the connection keeps serving single messages after a batch
    assert msa(p.exchange(oru(4))) == ("AA", "CTRL4")
    p.close()
    assert svc.engine.drain(30)
    assert svc.store.counts() == {"done": 3}  # CTRL1, CTRL2, CTRL4; the refused one is not queued
    assert sorted(f.name.split("-")[1] for f in (tmp_path / "store" / "fhir").iterdir()) == ["CTRL1", "CTRL2",
                                                                                             "CTRL4"]
    assert "batch of 3 messages, 2 accepted" in caplog.text


def test_batch_without_fhs_and_a_count_that_disagrees(svc) -> None:
    p = Peer(svc.port)
    segs = segments(p.exchange(BHS + oru(5) + b"BTS|2\r"))
    p.close()
    assert [s[0] for s in segs] == ["BHS", "MSH", "MSA", "BTS"]  # no FHS asked, none sent
    assert segs[-1] == ["BTS", "1", "BTS-1 declared 2 messages; 1 received"]


def test_empty_batch_and_unreadable_batch_header(svc) -> None:
    p = Peer(svc.port)
    assert segments(p.exchange(BHS + b"BTS|0\r"))[-1] == ["BTS", "0"]
    bad = segments(p.exchange(b"BHS|^~\r" + oru(6) + b"BTS|1\r"))
    p.close()
    assert [s[0] for s in bad] == ["BHS", "BTS"] and bad[-1][1] == "0"
    assert "BHS-2 102 Data type error" in bad[-1][2]
    assert svc.engine.drain(30)
    assert svc.store.counts() == {}  # the batch refused whole: nothing stored


def test_two_messages_in_one_block_without_batch_envelope_are_refused(svc) -> None:
    p = Peer(svc.port)
    answer = p.exchange(oru(7) + oru(8))
    assert msa(answer) == ("AR", "CTRL7")
    assert b"|100^Segment sequence error^HL70357|" in answer and b"the block holds 2 messages" in answer
    assert msa(p.exchange(oru(9))) == ("AA", "CTRL9")
    p.close()
    assert svc.engine.drain(30)
    assert svc.store.counts() == {"done": 1}
