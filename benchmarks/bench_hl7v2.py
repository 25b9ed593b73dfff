"""HL7 v2 throughput: messages/s of `to_fhir(decode(bytes)).json()` beside reference parsers.

Measured in the same run, interleaved (see `measure`):
  - parse only: iomt-interop tokenizer vs python-hl7 `hl7.parse` vs hl7apy `parse_message`;
  - full translate, message bytes → FHIR R4 Bundle JSON through the canonical Message (the one
    translation path), vs python-hl7's `hl7.parse` of the same messages and vs a naive floor
    (str.split + dict + orjson of the OBX values, no model, no FHIR structure), on:
      a central-station feed (examples/hl7v2/feed.py `central_station`: 200 monitors interleaved,
        each its own patient, bed, gateway and device EUI-64; values, times, control ids and OBR-2/3
        order numbers new in every message): the realistic workload;
      one monitor's feed (`feed`: every value, time and control id changes);
      the example repeated; a feed with another patient in every message; the first message of a
        new device (every memo emptied before each message);
  - `interop translate` wall time for one message vs `python -c pass`.

Goals (issue 14): on the central-station feed, full translate ≥ 7× python-hl7 parse alone and within
3× of the naive floor.

Run: python benchmarks/bench_hl7v2.py [--seconds S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()


def rate(fn, seconds: float) -> float:
    """Calls per second of fn() over about `seconds` (best of 3 runs)."""
    return measure({"": fn}, seconds)[""]


def measure(candidates: dict[str, Callable[[], object]], seconds: float) -> dict[str, float]:
    """Calls per second of each candidate: the best of many short runs, taken in turns.

    Shared machines have slow phases lasting seconds (cache and memory contention from neighbours make
    memory-bound code up to 2x slower, while a register-bound loop is unaffected). Runs in turns put
    every candidate into the same phases, so the ratios printed side by side hold."""
    per_run: dict[str, int] = {}
    for name, fn in candidates.items():  # warm up (imports, memos), then calibrate: a run of about 50 ms
        for _ in range(3):
            fn()
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            dt = time.perf_counter() - t0
            if dt > 0.02:
                break
            n *= 2
        per_run[name] = max(1, int(n * 0.05 / dt))
    best = dict.fromkeys(candidates, 0.0)
    rounds = max(3, int(seconds / 0.05))
    for _ in range(rounds):
        for name, fn in candidates.items():
            n = per_run[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = max(best[name], n / (time.perf_counter() - t0))
    return best


def naive_floor(data: bytes) -> bytes:
    """The least work that yields a FHIR-shaped Bundle of the same message: full str.split into
    segments, fields and components, plain dicts (Patient + one Observation per OBX with code,
    value, unit, time, range, status, subject reference), orjson. No model, no validation, no
    device tree, no terminology, no escapes, no error handling."""
    text = data.decode()
    segs = [[f.split("^") for f in s.split("|")] for s in text.split("\r") if s]
    entries = []
    patient_ref = None
    for s in segs:
        if s[0][0] == "PID":
            pid = {"resourceType": "Patient", "id": s[3][0], "identifier": [{"value": s[3][0]}],
                   "name": [{"family": s[5][0], "given": [s[5][1]]}], "birthDate": s[7][0]}
            patient_ref = "Patient/" + pid["id"]
            entries.append({"fullUrl": patient_ref, "resource": pid})
        elif s[0][0] == "OBX" and s[5][0]:
            lo, _, hi = s[7][0].partition("-")
            entries.append({"resource": {
                "resourceType": "Observation", "id": s[4][0], "status": "final",
                "code": {"coding": [{"system": "urn:iso:std:iso:11073:10101", "code": s[3][0],
                                     "display": s[3][1]}]},
                "subject": {"reference": patient_ref},
                "effectiveDateTime": s[14][0] if len(s) > 14 else None,
                "valueQuantity": {"value": float(s[5][0]), "unit": s[6][1] if len(s[6]) > 1 else s[6][0]},
                "referenceRange": [{"low": {"value": float(lo)}, "high": {"value": float(hi)}}] if hi else [],
            }})
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def cli_wall(args: list[str], repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def stages(seconds: float, messages: list[bytes]) -> None:
    """Where the full translate spends its time: each stage alone, on the central-station feed."""
    from interop.codecs.hl7v2.codec import HL7v2Codec
    from interop.codecs.hl7v2.decoder import HL7v2Decoder
    from interop.codecs.hl7v2.tokenizer import tokenize

    from interop import decode, to_fhir

    n = len(messages)
    parsed = [tokenize(m) for m in messages]
    decoded = [decode(m, "hl7v2") for m in messages]
    bundles = [to_fhir(m, "R4") for m in decoded]
    codec = HL7v2Codec()
    turns = {k: iter(range(1 << 62)) for k in range(5)}

    def nth(k: int) -> int:
        return next(turns[k]) % n

    per = measure({
        "tokenize (segments, fields)": lambda: tokenize(messages[nth(0)]),
        "decode tokens → Message": lambda: HL7v2Decoder(parsed[nth(1)]).decode(),
        "codec.decode (tokenize + decode + digest)": lambda: codec.decode(messages[nth(2)]),
        "Message → FHIR R4 Bundle dicts": lambda: to_fhir(decoded[nth(3)], "R4"),
        "Bundle dicts → JSON (orjson)": lambda: bundles[nth(4)].json(),
    }, seconds)
    print(f"  stages ({bundles[0].resource_count} resources), each alone, central-station feed:")
    for name, r in per.items():
        print(f"    {name:58s} {1e6 / r:9.1f} µs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    ap.add_argument("--monitors", type=int, default=200, help="monitors of the central-station feed")
    args = ap.parse_args()

    import hl7
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    from interop.codecs.hl7v2.tokenizer import tokenize

    import interop
    from interop import decode, to_fhir

    text = MESSAGE.decode()
    obx = text.count("\rOBX")
    print(f"message: {MESSAGE.__len__()} bytes, {obx} OBX segments (examples/hl7v2/pcd01-vitals.hl7)\n")

    sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
    from feed import central_station, feed

    station = central_station(MESSAGE, args.monitors, args.monitors * 10)
    station_text = [m.decode() for m in station]
    varied = feed(MESSAGE)
    cursors: dict[str, Iterator[int]] = {}

    def turn(name: str, size: int) -> int:  # each candidate walks the feed in order, on its own
        it = cursors.get(name)
        if it is None:
            it = cursors[name] = iter(range(1 << 62))
        return next(it) % size

    patients = iter(range(1 << 62))

    def new_patient() -> bytes:  # a feed in which nothing recurs: another patient in every message
        n = next(patients)
        return varied[n & 255].replace(b"HOSP0001", f"P{n:07d}".encode())

    def first_message() -> bytes:
        interop.clear_caches()
        return to_fhir(decode(MESSAGE, "hl7v2"), "R4").json()

    ns = len(station)
    r = measure({
        "station canonical": lambda: to_fhir(decode(station[turn("sc", ns)]), "R4").json(),
        "station python-hl7": lambda: hl7.parse(station_text[turn("sp", ns)]),
        "station floor": lambda: naive_floor(station[turn("sf", ns)]),
        "tokenize": lambda: tokenize(MESSAGE),
        "python-hl7": lambda: hl7.parse(text),
        "canonical": lambda: to_fhir(decode(MESSAGE, "hl7v2"), "R4").json(),
        "canonical auto": lambda: to_fhir(decode(MESSAGE), "R4").json(),
        "floor": lambda: naive_floor(MESSAGE),
        "feed canonical": lambda: to_fhir(decode(varied[turn("fc", 256)]), "R4").json(),
        "feed floor": lambda: naive_floor(varied[turn("ff", 256)]),
        "new canonical": lambda: to_fhir(decode(new_patient()), "R4").json(),
    }, args.seconds * 4)
    r["first"] = rate(first_message, args.seconds / 2)
    r["hl7apy"] = rate(lambda: parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True),
                       min(args.seconds, 2.0))
    py_hl7 = r["python-hl7"]
    station_hl7 = r["station python-hl7"]

    def row(name: str, rate_: float, ref: float | None = None, ref_name: str = "") -> None:
        ratio = f"{rate_ / ref:8.2f}x {ref_name}" if ref else ""
        print(f"{name:62s} {rate_:12,.0f} msg/s {1e6 / rate_:9.1f} µs  {ratio}")

    print(f"central-station feed: {args.monitors} monitors interleaved, {ns} messages (values, times, control ids,"
          " OBR-2/3 order numbers new in each)")
    row("  to_fhir(decode(bytes)).json() (bytes → FHIR R4 Bundle JSON)", r["station canonical"], station_hl7,
        "python-hl7 parse")
    row("  python-hl7 hl7.parse of the same messages", station_hl7)
    row("  naive floor: str.split + FHIR-shaped dicts + orjson", r["station floor"])
    print(f"  => {r['station canonical'] / station_hl7:.2f}x python-hl7 parse (goal ≥ 7x); "
          f"{r['station floor'] / r['station canonical']:.2f}x slower than the naive floor (goal ≤ 3x)")
    print("parse only, the example message")
    row("  iomt-interop tokenize", r["tokenize"], py_hl7, "python-hl7")
    row("  python-hl7 hl7.parse", py_hl7)
    row("  hl7apy parse_message (tolerant, find_groups)", r["hl7apy"], py_hl7, "python-hl7")

    print(f"full translate, the example repeated ({len(to_fhir(decode(MESSAGE)).resources)} resources)")
    row("  to_fhir(decode(bytes, 'hl7v2')).json()", r["canonical"], py_hl7, "python-hl7 parse")
    row("  to_fhir(decode(bytes)).json() (standard detected)", r["canonical auto"], py_hl7, "python-hl7 parse")
    row("  naive floor", r["floor"])
    print(f"  canonical vs naive floor: {r['floor'] / r['canonical']:.2f}x slower")
    row("  first message of a new device (memos emptied first)", r["first"], py_hl7, "python-hl7 parse")
    print("full translate, one monitor's feed (256 messages: every value, time and control id differs)")
    row("  to_fhir(decode(bytes)).json()", r["feed canonical"], py_hl7, "python-hl7 parse")
    row("  naive floor on the same feed", r["feed floor"])
    print(f"  canonical on the feed vs naive floor: {r['feed floor'] / r['feed canonical']:.2f}x slower")
    print("full translate, nothing recurs (one monitor's feed with another patient in every message)")
    row("  to_fhir(decode(bytes)).json()", r["new canonical"], py_hl7, "python-hl7 parse")
    stages(args.seconds, station)

    exe = [sys.executable, "-m", "interop.cli.main", "translate", str(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7")]
    interop_bin = Path(sys.executable).parent / "interop"
    if interop_bin.exists():
        exe = [str(interop_bin), "translate", str(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7")]
    base = cli_wall([sys.executable, "-c", "pass"])
    cli = cli_wall(exe)
    print("\nCLI, one message (best of 7 wall times)")
    print(f"  python -c pass            {base * 1000:7.1f} ms")
    print(f"  interop translate         {cli * 1000:7.1f} ms   {cli / base:.1f}x python -c pass (goal ≤ 10x)")


if __name__ == "__main__":
    main()
