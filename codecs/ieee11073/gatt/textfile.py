"""The GATT input text format: header lines, then one characteristic value per line as hex.

```
# characteristic: 2A35            16-bit UUID (hex, "0x" optional) or GSS name ("blood_pressure_measurement")
# device: 00-1C-05-FF-FE-FF-E8-74 EUI-64 system id (8 bytes) or BD_ADDR (6 bytes); ':' '-' or none between bytes
# system-id: 74E8FFFEFF051C00     Device Information System ID (0x2A23) value as sent (little-endian)
# manufacturer: Nonin             Device Information 0x2A29; likewise model (0x2A24), serial (0x2A25),
# firmware: r2.1                  firmware (0x2A26), hardware (0x2A27), software (0x2A28)
# gateway: 0A-0B-0C-FF-FE-0D-0E-0F  the gateway (PHG) that received the values: EUI-64 or MAC, optional
# gateway-manufacturer: ACME        with gateway-model: its manufacturer and model (of the software)
# received: 2024-11-29T23:09:05+01:00   when the gateway received the values (ISO 8601), optional
1e 7a 00 50 00 5f 00 e4 07 0b 1d 17 08 39 48 00 01 04 00    one value; whitespace allowed; '#' starts a comment
```
A later `# characteristic:` line switches the characteristic for the values below it (e.g. a
Temperature Type 0x2A1D value, then Temperature Measurement values). Other `#` lines are comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADER = re.compile(rb"^[ \t]*#[ \t]*characteristic[ \t]*:", re.IGNORECASE | re.MULTILINE)
DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z_ -]*?)\s*:\s*(.*?)\s*$")
KEYS = {"characteristic", "device", "system-id", "manufacturer", "model", "serial", "firmware", "hardware",
        "software", "gateway", "gateway-manufacturer", "gateway-model", "received"}


def header_first(head: bytes) -> bool:
    """True when a `# characteristic:` line comes before any line that is not blank or a `#` comment."""
    for raw in head.splitlines():
        line = raw.strip()
        if not line:
            continue
        if HEADER.match(line):
            return True
        if not line.startswith(b"#"):
            return False
    return False


@dataclass
class Line:
    """One non-empty input line: a header directive or a hex value."""

    number: int  # 1-based
    offset: int  # byte offset of the line start
    key: str | None = None  # directive name, None for a value line
    text: str = ""  # directive value, or the value's hex text without comment and whitespace


@dataclass
class TextInput:
    """The lines of a GATT text input, in order."""

    lines: list[Line] = field(default_factory=list)


def split_lines(text: str) -> TextInput:
    """Directives and value lines of `text` with their positions (comments and blank lines dropped)."""
    out = TextInput()
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        start = offset
        offset += len(raw.encode("utf-8"))
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = DIRECTIVE.match(line)
            if m:
                key = m.group(1).strip().lower().replace(" ", "-").replace("_", "-")
                if key in KEYS:
                    out.lines.append(Line(number, start, key, m.group(2)))
            continue
        body = line.split("#", 1)[0]
        out.lines.append(Line(number, start, None, "".join(body.split())))
    return out
