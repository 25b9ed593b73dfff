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


def central_station(message: bytes, monitors: int = 200, n: int = 1000) -> list[bytes]:
    """`n` messages of a central station's feed: `monitors` monitors taking turns (message k comes from
    monitor k % monitors), each with its own patient (PID-3, name, birth date), bed (PV1-3), gateway and
    device EUI-64 (MSH-3, OBR-2/3, OBX-18), and in every message new values, times (a minute apart per
    monitor, so each monitor's times differ from the others'), control id (MSH-10) and order numbers
    (OBR-2 and OBR-3 entity ids: a new placer and filler order number per message, as a gateway that
    numbers its observation requests sends them). What recurs per monitor is what a real monitor keeps:
    its device tree, codes, units, alarm limits, patient and bed."""
    rnd = random.Random(20261207)
    ranges = {"150456": (85, 100, 0), "149530": (40, 180, 0), "150021": (80, 200, 0), "150022": (40, 120, 0),
              "150023": (50, 140, 0), "150364": (35.0, 41.0, 2), "151562": (4, 40, 0)}
    start = datetime(2024, 3, 15, 10, 15)
    lines = message.decode().split("\r")
    out = []
    for k in range(n):
        mon, turn = k % monitors, k // monitors
        eui = f"00A0C9{mon:06X}0001"  # the monitor's MDS EUI-64
        gw = f"ACDE48FFFE{mon:06X}"  # its gateway's EUI-64
        stamp = (start + timedelta(minutes=turn, seconds=mon % 60)).strftime("%Y%m%d%H%M%S") + "+0100"
        order = f"{gw}-{turn * 7 + 1}"
        segs = []
        for seg in lines:
            f = seg.split("|")
            if f[0] == "MSH":
                f[2] = f"ACME_GW^{gw}^EUI-64"
                f[6], f[9] = stamp, f"CS{mon:03d}{turn:07d}"
            elif f[0] == "PID":
                f[3] = f"P{mon:06d}^^^ACME_HOSP&1.2.3.4.5&ISO^MR"
                f[5] = f"Doe{mon}^Jane^^^^^L"
                f[7] = f"19{40 + mon % 60:02d}0{1 + mon % 9}1{mon % 10}"
            elif f[0] == "PV1":
                f[3] = f"ICU{mon // 20}^{100 + mon}^1^ACME_HOSP"
            elif f[0] == "OBR":
                f[2] = f"{order}^ACME_GW^{gw}^EUI-64"
                f[3] = f"{order}F^ACME_GW^{gw}^EUI-64"
                f[7] = stamp
            elif f[0] == "OBX":
                if len(f) > 18 and f[18]:
                    f[18] = f"{eui}^^{eui}^EUI-64"
                if f[5]:
                    lo, hi, digits = ranges[f[3].split("^")[0]]
                    f[5] = f"{rnd.uniform(lo, hi):.{digits}f}" if digits else str(rnd.randint(lo, hi))
                    f[14] = stamp
                    low, _, high = f[7].partition("-")
                    if high:
                        v = float(f[5])
                        f[8] = "H" if v > float(high) else "L" if v < float(low) else ""
            segs.append("|".join(f))
        out.append("\r".join(segs).encode())
    return out
