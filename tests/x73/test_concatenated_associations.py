"""A 20601 trace of several associations one after another (a gateway's capture, concatenated files)
gives one message per association, each from its AARQ; none is lost to the next."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073.split import split
from interop.codecs.ieee11073.trace import parse_hex_text

from interop import decode, decode_all

ROOT = Path(__file__).resolve().parents[2]
X73 = ROOT / "examples" / "x73"
BP, SCALE, OXI = (X73 / n for n in ("bp-0x02BC.x73", "scale-0x05DC.x73", "pulseox-0x0190.x73"))


def test_hex_traces_one_after_another() -> None:
    data = BP.read_bytes() + SCALE.read_bytes() + OXI.read_bytes()
    chunks = split(data)
    assert [offset for offset, _ in chunks] == [0, len(BP.read_bytes()), len(BP.read_bytes()) + len(SCALE.read_bytes())]
    messages = list(decode_all(data))
    assert [m.devices[0].model for m in messages] == [decode(p).devices[0].model for p in (BP, SCALE, OXI)]
    assert [len(m.metrics) for m in messages] == [len(decode(p).metrics) for p in (BP, SCALE, OXI)]
    assert [m.sending.identifier for m in messages] == ["0A1B2C3D4E5F0702", "0A1B2C3D4E5F1501",
                                                        decode(OXI).sending.identifier]


def test_binary_apdus_one_after_another() -> None:
    agent = [parse_hex_text(p.read_bytes())[0] for p in (BP, SCALE)]
    data = b"".join(agent)
    assert split(data) == [(0, agent[0]), (len(agent[0]), agent[1])]
    assert [m.devices[0].model for m in decode_all(data)] == ["BPM-700", "WS-1500"]


def test_one_association_is_left_as_it_is() -> None:
    for p in (BP, SCALE, OXI):
        assert split(p.read_bytes()) == [(0, p.read_bytes())]


def test_cli_writes_one_bundle_per_association(tmp_path: Path) -> None:
    both = tmp_path / "day.x73"
    both.write_bytes(BP.read_bytes() + SCALE.read_bytes())
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(both), "--patient", "p1"],
                       capture_output=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    bundles = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(bundles) == 2
    units = [{e["resource"].get("valueQuantity", {}).get("unit") for e in b["entry"]} for b in bundles]
    assert "kg" in units[1] and "kg" not in units[0]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_split_never_raises_and_loses_nothing(data: bytes) -> None:
    chunks = split(data)
    assert b"".join(c for _, c in chunks).strip() == data.strip() or chunks == [(0, data)]
