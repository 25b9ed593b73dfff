"""`interop translate --report` lists every segment and field no mapping consumed, for every message type
(lab ORU with SPM, OUL^R22 with ED/RP, ADT, PCD-01, PCD-04): nothing dropped silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from interop import decode_all

TESTS = Path(__file__).resolve().parents[1]
READ = {"MSH", "PID", "PV1", "OBR", "OBX", "NTE", "MRG", "SPM"}  # the segments readers place
SAMPLES = sorted([*(TESTS / "data" / "hl7v2").glob("*.hl7"), *(TESTS / "hl7v2" / "data").glob("*.hl7")])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_unread_segment_is_reported(path: Path):
    for msg in decode_all(path):
        if isinstance(msg, Exception):
            continue
        reported = {i.location for i in msg.issues if i.code == "hl7v2.segment-not-placed"}
        text = path.read_bytes().replace(b"\r\n", b"\r").replace(b"\n", b"\r").decode("utf-8", "replace")
        counts: dict[str, int] = {}
        expected = set()
        started = False
        for line in text.split("\r"):
            name = line[:3].lstrip("\ufeff")
            if name == "MSH":
                if started:
                    break  # decode_all gives the next message its own report
                started = True
            if not started or len(line) < 4 or name in ("BHS", "BTS", "FHS", "FTS"):
                continue
            counts[name] = counts.get(name, 0) + 1
            if name not in READ:
                expected.add(f"{name}[{counts[name]}]")
        assert expected <= reported, sorted(expected - reported)
        break


def test_translate_report_for_oul_r22_lists_segments_fields_and_attachment_findings():
    run = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate",
                          str(TESTS / "data" / "hl7v2" / "msfc-OUL-R22-01.hl7"), "--report"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    for where in ("SFT[1]", "PRT[1]", "SAC[1]", "INV[1]", "ORC[1]", "TXA[1]", "TQ1[1]", "CTI[1]", "NTE[1]-5", "NTE[1]-6",
                  "OBR[1]-49", "OBX[4]-29"):
        assert any(f": {where}: " in line or f": {where}" in line for line in lines), where
    assert any("OBX[4]-5: type of data 'IM' with subtype 'MRXS' names no MIME type" in line for line in lines)
    assert any("ORC[1]: envelope segment ORC is not mapped to the canonical model; it carries ORC-1, ORC-4, "
               "ORC-5, ORC-21" in line for line in lines)


def test_msh_fields_no_reader_consumes_are_reported():
    """CDC ReportStream ELR: MSH-17 country code (USA) has no place in the model."""
    (msg,) = list(decode_all(TESTS / "data" / "hl7v2" / "cdc-reportstream-elr-covid-ag.hl7"))
    assert [i.location for i in msg.issues if i.location.startswith("MSH")] == ["MSH-17"]
