"""20601 throughput: one blood-pressure scan report, APDU bytes → FHIR R4 Bundle JSON, beside construct's
declarative parse of the same APDU alone (both measured in the same run).

Both sides use the same declaration (`interop.codecs.ieee11073.apdu.Apdu`): the reference parses it
declaratively (construct's interpreter); our codec runs its compiled form (`apdu.parse_apdu`). Rows:
  - APDU parse alone (codec vs construct declarative);
  - the manager's steady state: the association is established once (AARQ, MDS attributes of
    examples/x73/bp-0x02BC.x73), then each scan report APDU is received (`Association.receive`: parse,
    state machine, metrics), made a canonical `Message` and translated to FHIR R4 Bundle JSON.

Vector: 20601 Annex H.2.4.1-style blood-pressure scan report (signove/antidote
tests/resources/apdu/H241_ID_02BC @ dbb2742), 66 octets.
Goals (issue 14): APDU bytes → FHIR JSON ≥ 1.5× the rate of construct's declarative parse alone.

Run: python benchmarks/bench_x73.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCAN_REPORT = bytes.fromhex(
    "e700003e003c005401010036000000490050 0d1d002cf00000000002002400010012000300060078005000642007120612100000"
    "0002000af2582007120612100000".replace(" ", ""))


def rate(fn, seconds: float) -> float:
    """Calls per second of `fn()` over about `seconds`."""
    n, batch = 0, 200
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()

    from interop.codecs.ieee11073 import apdu, trace
    from interop.codecs.ieee11073.association import Association

    from interop import to_fhir

    declarative = apdu.Apdu  # plain construct, the same declaration, not compiled
    apdu.warm()
    assert declarative.parse(SCAN_REPORT) == apdu.parse_apdu(SCAN_REPORT)

    # an association in the operating state: AARQ and the MDS attributes of the example trace
    agent, _ = trace.parse_hex_text((ROOT / "examples" / "x73" / "bp-0x02BC.x73").read_bytes())
    assoc = Association(mode="trace")
    frames = list(trace.frames(agent))
    for offset, frame in frames[:2]:
        assoc.receive(frame, offset)
    setup = len(assoc.issues)

    def to_json() -> bytes:
        """One scan report APDU → canonical Message → FHIR R4 Bundle JSON."""
        del assoc.metrics[:], assoc.issues[setup:]
        assoc.receive(SCAN_REPORT, 0)
        return to_fhir(assoc.message(), "R4").json()

    bundle = to_json()
    assert b'"valueQuantity"' in bundle or b'"component"' in bundle
    plain = rate(lambda: declarative.parse(SCAN_REPORT), args.seconds)
    ours = rate(lambda: apdu.parse_apdu(SCAN_REPORT), args.seconds)
    full = rate(to_json, args.seconds)
    plain2 = rate(lambda: declarative.parse(SCAN_REPORT), args.seconds)  # again: the machine drifts
    plain = max(plain, plain2)
    print(f"blood-pressure scan report, {len(SCAN_REPORT)} octets; FHIR Bundle {len(bundle)} bytes")
    print(f"  construct declarative parse (reference)  {plain:>10,.0f} APDU/s  {1e6 / plain:7.1f} us")
    print(f"  interop APDU parse (compiled)            {ours:>10,.0f} APDU/s  {1e6 / ours:7.1f} us"
          f"  {ours / plain:5.2f}x construct")
    print(f"  interop APDU bytes -> FHIR R4 JSON       {full:>10,.0f} APDU/s  {1e6 / full:7.1f} us"
          f"  {full / plain:5.2f}x construct (goal >= 1.5x)")


if __name__ == "__main__":
    main()
