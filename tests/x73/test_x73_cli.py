"""`interop translate` on 20601 traces: exit 0 with a Bundle; malformed input → exit 2 and one line naming the byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .vectors import EXAMPLES, trace

INTEROP = [sys.executable, "-m", "interop.cli.main"]
ENV = {**os.environ, "PYTHONPATH": ""}
OUTSIDE = tempfile.gettempdir()  # not the source tree: `-m` puts the cwd first on sys.path (pip install . case)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*INTEROP, *args], capture_output=True, text=True, timeout=60, env=ENV, cwd=OUTSIDE)


def test_translate_example_trace() -> None:
    done = _run("translate", str(EXAMPLES / "scale-0x05DC.x73"))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(done.stdout)
    obs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert [o["valueQuantity"]["value"] for o in obs] == [76.2, 76.0]
    assert {o["valueQuantity"]["code"] for o in obs} == {"kg"}


@pytest.mark.parametrize(("name", "raw", "strict", "byte"), [
    ("before-association.x73", trace("antidote_H241"), False, "byte 0"),
    ("truncated.x73", trace("antidote_H211")[:30], False, "byte 2"),
    ("unknown-choice.x73", trace("antidote_H211") + bytes.fromhex("e7 00 00 08 00 06 43 21 09 99 00 00"), False,
     "byte 62"),
    ("unknown-handle.x73", trace("antidote_H211_ID_05DC", "antidote_H241_ID_05DC"), False, "byte 100"),
    ("unknown-handle-strict.x73", trace("antidote_H211_ID_05DC", "antidote_H241_ID_05DC"), True, "byte 100"),
])
def test_malformed_input_exits_2_with_one_line(tmp_path: Path, name: str, raw: bytes, strict: bool, byte: str) -> None:
    path = tmp_path / name
    path.write_text(" ".join(f"{b:02x}" for b in raw) + "\n")  # the hex-text trace format
    done = _run("translate", str(path), *(["--strict"] if strict else []), "--from", "ieee11073")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and byte in lines[0] and "Traceback" not in done.stderr
