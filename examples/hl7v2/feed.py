"""A synthetic monitor feed for benchmarks and tests: pcd01-vitals.hl7 again and again, with the
values, times and control ids a real feed changes (random but reproducible)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def feed(message: bytes, n: int = 256) -> list[bytes]:
    """`n` messages of one monitor's feed: `message` (pcd01-vitals.hl7) with every value, time and
    control id changed (values of plausible ranges and varying length, times a minute apart, H/L
    flags where a value leaves its alarm limits), so that nothing keyed on a value, a time or a byte
    offset can be reused from one message to the next. What stays is what a real feed keeps: the
    device tree, codes, units, alarm limits, patient and visit."""
    rnd = random.Random(20240315)
    ranges = {"150456": (85, 100, 0), "149530": (40, 180, 0), "150021": (80, 200, 0), "150022": (40, 120, 0),
              "150023": (50, 140, 0), "150364": (35.0, 41.0, 2), "151562": (4, 40, 0)}
    start = datetime(2024, 3, 15, 10, 15)
    out = []
    for i in range(n):
        stamp = (start + timedelta(minutes=i)).strftime("%Y%m%d%H%M%S") + "+0100"
        segs = []
        for seg in message.decode().split("\r"):
            f = seg.split("|")
            if f[0] == "MSH":
                f[6], f[9] = stamp, f"MSG{i:06d}"
            elif f[0] == "OBR":
                f[7] = stamp
            elif f[0] == "OBX" and f[5]:
                lo, hi, digits = ranges[f[3].split("^")[0]]
                f[5] = f"{rnd.uniform(lo, hi):.{digits}f}" if digits else str(rnd.randint(lo, hi))
                f[14] = stamp
                low, _, high = f[7].partition("-")
                if high:  # the abnormal flag a monitor sets against its alarm limits (table 0078)
                    v = float(f[5])
                    f[8] = "H" if v > float(high) else "L" if v < float(low) else ""
            segs.append("|".join(f))
        out.append("\r".join(segs).encode())
    return out
