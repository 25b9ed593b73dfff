"""hl7apy is the structural reference: where it parses a message, our tokenizer must agree on every
segment id and every field value (after escape resolution) of the segments we read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_segment
from interop.codecs.hl7v2.tokenizer import tokenize

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7",
            *sorted((Path(__file__).parent / "data").glob("msfc-*.hl7"))]


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: p.name)
def test_fields_agree_with_hl7apy(path):
    parsed = tokenize(path.read_bytes())
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\r").replace("\n", "\r")
    lines = [line for line in text.split("\r") if line.strip()]
    assert [s.name for s in parsed.segments] == [line[:3] for line in lines]
    version = parsed.segments[0].get(12).split("^")[0]
    checked = 0
    for seg, line in zip(parsed.segments, lines, strict=True):
        if seg.name not in ("PID", "PV1", "OBR", "OBX"):
            continue
        ref = parse_segment(line, version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
        reps_by_field: dict[int, list] = {}
        for child in ref.children:  # hl7apy gives each repetition as its own child
            if child.name is None:  # a field beyond the structure hl7apy knows for this version
                continue
            reps_by_field.setdefault(int(child.name.split("_")[1]), []).append(child)
        for n, reps in reps_by_field.items():
            ours = seg.get(n).split("~")
            assert len(ours) == len(reps), seg.where(n)
            for mine, theirs in zip(ours, reps, strict=True):
                comps = mine.split("^")
                for comp in theirs.children:  # components hl7apy placed by name (CWE_1, CX_4 ...)
                    if comp.name and "_" in comp.name:
                        i = int(comp.name.rsplit("_", 1)[1]) - 1
                        if i < len(comps) and comp.to_er7():
                            assert _trim(comps[i]) == _trim(comp.to_er7()), f"{seg.where(n, i + 1)}"
                            checked += 1
                if "^" not in mine and (not theirs.children or not getattr(theirs.children[0], "name", None)):
                    assert _trim(mine) == _trim(theirs.to_er7()), seg.where(n)
                    checked += 1
    assert checked > 5


def _trim(value: str) -> str:
    """Drop trailing empty components/subcomponents, which hl7apy does not keep."""
    return re.sub(r"[\^&]+(?=~|$)", "", value)
