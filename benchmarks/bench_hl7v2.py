"""HL7 v2 throughput: messages/s for a 12-OBX IHE PCD-01 message, beside reference parsers.

Measured in the same run:
  - parse only: iomt-interop tokenizer vs python-hl7 `hl7.parse` vs hl7apy `parse_message`;
  - full translate (decode → canonical model → FHIR R4 Bundle JSON) vs a naive floor
    (str.split + dict + orjson of the OBX values, no model, no FHIR structure), for the example
    repeated and for a varied feed (examples/hl7v2/feed.py: every value, time and control id
    changes, H/L flags follow the values), which nothing keyed on a value or a time can help;
  - `interop translate` wall time for one message vs `python -c pass`.

Goals (issue 3): parse ≥ 13× python-hl7; full translate ≥ 7× python-hl7 parse alone and within
3× of the naive floor; CLI ≤ 15× `python -c pass`.

Run: python benchmarks/bench_hl7v2.py [--seconds S]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()


def rate(fn, seconds: float) -> float:
    """Calls per second of fn() over about `seconds` (best of 3 runs)."""
    n = 1
    while True:  # calibrate
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > 0.05:
            break
        n *= 2
    per_run = max(1, int(n * (seconds / 3) / dt))
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(per_run):
            fn()
        best = max(best, per_run / (time.perf_counter() - t0))
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


def stages(seconds: float) -> None:
    """Where the full translate spends its time: each stage alone, on the same message."""
    from interop.codecs.hl7v2.codec import HL7v2Codec
    from interop.codecs.hl7v2.decoder import HL7v2Decoder
    from interop.codecs.hl7v2.tokenizer import tokenize

    from interop import decode, to_fhir

    message = decode(MESSAGE, "hl7v2")
    bundle = to_fhir(message, "R4")
    parsed = tokenize(MESSAGE)
    codec = HL7v2Codec()
    per = {
        "tokenize (segments, fields)": rate(lambda: tokenize(MESSAGE), seconds / 3),
        "decode tokens → canonical Message (pydantic)": rate(lambda: HL7v2Decoder(parsed).decode(), seconds / 3),
        "codec.decode (tokenize + decode + raw digest)": rate(lambda: codec.decode(MESSAGE), seconds / 3),
        "Message → FHIR R4 Bundle dicts": rate(lambda: to_fhir(message, "R4"), seconds / 3),
        "Bundle dicts → JSON (orjson)": rate(bundle.json, seconds / 3),
    }
    print(f"  stages ({len(bundle.resources)} resources), each alone:")
    for name, r in per.items():
        print(f"    {name:50s} {1e6 / r:9.1f} µs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = ap.parse_args()

    import hl7
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    from interop.codecs.hl7v2.tokenizer import tokenize

    from interop import decode, to_fhir

    text = MESSAGE.decode()
    obx = text.count("\rOBX")
    print(f"message: {MESSAGE.__len__()} bytes, {obx} OBX segments (examples/hl7v2/pcd01-vitals.hl7)\n")

    ours_parse = rate(lambda: tokenize(MESSAGE), args.seconds)
    py_hl7 = rate(lambda: hl7.parse(text), args.seconds)
    apy = rate(lambda: parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True),
               min(args.seconds, 2.0))
    ours_full = rate(lambda: to_fhir(decode(MESSAGE, "hl7v2"), "R4").json(), args.seconds)
    ours_full_auto = rate(lambda: to_fhir(decode(MESSAGE), "R4").json(), args.seconds)
    floor = rate(lambda: naive_floor(MESSAGE), args.seconds)
    sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
    from feed import feed

    varied = feed(MESSAGE)
    turn = iter(range(1 << 62))
    ours_feed = rate(lambda: to_fhir(decode(varied[next(turn) & 255], "hl7v2"), "R4").json(), args.seconds)
    floor_feed = rate(lambda: naive_floor(varied[next(turn) & 255]), args.seconds)

    def row(name: str, r: float, ref: float | None = None, ref_name: str = "") -> None:
        ratio = f"{r / ref:8.2f}x {ref_name}" if ref else ""
        print(f"{name:52s} {r:12,.0f} msg/s {1e6 / r:9.1f} µs  {ratio}")

    print("parse only")
    row("  iomt-interop tokenize", ours_parse, py_hl7, "python-hl7")
    row("  python-hl7 hl7.parse", py_hl7)
    row("  hl7apy parse_message (tolerant, find_groups)", apy, py_hl7, "python-hl7")
    print("full translate to FHIR R4 Bundle JSON")
    row("  iomt-interop decode(hl7v2) + to_fhir + json", ours_full, py_hl7, "python-hl7 parse")
    row("  iomt-interop decode(auto) + to_fhir + json", ours_full_auto, py_hl7, "python-hl7 parse")
    row("  naive floor: str.split + FHIR-shaped dicts + orjson", floor)
    print(f"  full translate vs naive floor: {floor / ours_full:.2f}x slower (goal ≤ 3x)")
    print("full translate, a varied feed (256 messages: every value, time and control id differs)")
    row("  iomt-interop decode(hl7v2) + to_fhir + json", ours_feed, py_hl7, "python-hl7 parse")
    row("  naive floor on the same feed", floor_feed)
    print(f"  varied feed vs naive floor: {floor_feed / ours_feed:.2f}x slower (goal ≤ 3x)")
    stages(args.seconds)
    print(f"  parse vs python-hl7: {ours_parse / py_hl7:.1f}x (goal ≥ 13x); "
          f"full translate vs python-hl7 parse: {ours_full / py_hl7:.1f}x (goal ≥ 7x)")

    exe = [sys.executable, "-m", "interop.cli.main", "translate", str(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7")]
    interop_bin = Path(sys.executable).parent / "interop"
    if interop_bin.exists():
        exe = [str(interop_bin), "translate", str(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7")]
    base = cli_wall([sys.executable, "-c", "pass"])
    cli = cli_wall(exe)
    print("\nCLI, one message (best of 7 wall times)")
    print(f"  python -c pass            {base * 1000:7.1f} ms")
    print(f"  interop translate         {cli * 1000:7.1f} ms   {cli / base:.1f}x python -c pass (goal ≤ 15x)")


if __name__ == "__main__":
    main()
