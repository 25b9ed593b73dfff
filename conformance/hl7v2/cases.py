"""Crafted HL7 v2 test inputs for the catalogue's `cases:` rows: a base message and edits.

A case is either the name of a base message in `cases/hl7v2/` (`pcd01-vitals`) or a mapping::

    {base: pcd01-vitals,                    # the message to start from
     set: {"OBX[1].18": "XYZ^^XYZ^EUI-64",   # replace a field, component ("OBX[3].6.1") or segment ("PID[1]")
           "MSH[1].12": "2.5"},
     delete: ["PV1[1]"],                     # remove segments
     after: {"PID[1]": "ZZZ|1"},             # insert segment lines after a segment
     append: ["NTE|1||text"],                # add segment lines at the end
     replace: [["|F|", "|Q|"]],              # raw text replacements (every occurrence)
     eol: "\n",                              # segment terminator (default CR)
     text: "..."}                            # the whole message text instead of a base
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent.parent / "cases" / "hl7v2"
_PATH = re.compile(r"([A-Z0-9]{3})\[(\d+)\](?:\.(\d+)(?:\.(\d+))?)?\Z")


def base_message(name: str) -> str:
    """A base message's text, segments separated by CR."""
    text = (CASES_DIR / f"{name}.hl7").read_text(encoding="utf-8")
    return "\r".join(line for line in re.split(r"\r\n|\r|\n", text) if line)


def _find(lines: list[str], seg: str, ordinal: int) -> int:
    n = 0
    for i, line in enumerate(lines):
        if line[:3] == seg:
            n += 1
            if n == ordinal:
                return i
    raise KeyError(f"{seg}[{ordinal}] not in the base message")


def _set(lines: list[str], path: str, value: str) -> None:
    m = _PATH.match(path)
    if not m:
        raise ValueError(f"bad case path {path!r} (expected SEG[n], SEG[n].field or SEG[n].field.component)")
    seg, ordinal, field, comp = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    i = _find(lines, seg, ordinal)
    if field is None:
        lines[i] = value
        return
    fields = lines[i].split("|")
    f = int(field) - (1 if seg == "MSH" else 0)  # MSH-1 is the separator itself
    while len(fields) <= f:
        fields.append("")
    if comp is None:
        fields[f] = value
    else:
        comps = fields[f].split("^")
        c = int(comp) - 1
        while len(comps) <= c:
            comps.append("")
        comps[c] = value
        fields[f] = "^".join(comps)
    lines[i] = "|".join(fields)


def build(spec: Any) -> bytes:
    """The bytes of one case."""
    if isinstance(spec, str):
        return base_message(spec).encode("utf-8")
    if "text" in spec:
        text = spec["text"]
    else:
        text = base_message(spec.get("base", "pcd01-vitals"))
    lines = text.split("\r")
    for path, value in (spec.get("set") or {}).items():
        _set(lines, path, str(value))
    doomed = []
    for path in spec.get("delete") or ():  # ordinals name segments of the message before any deletion
        m = _PATH.match(path)
        if not m:
            raise ValueError(f"bad case path {path!r}")
        doomed.append(_find(lines, m.group(1), int(m.group(2))))
    for i in sorted(doomed, reverse=True):
        del lines[i]
    for path, new in (spec.get("after") or {}).items():
        m = _PATH.match(path)
        if not m:
            raise ValueError(f"bad case path {path!r}")
        i = _find(lines, m.group(1), int(m.group(2)))
        lines[i + 1:i + 1] = [new] if isinstance(new, str) else list(new)
    lines.extend(spec.get("append") or ())
    out = spec.get("eol", "\r").join(lines)
    for old, new in spec.get("replace") or ():
        out = out.replace(old, new)
    return out.encode(spec.get("encoding", "utf-8"))
