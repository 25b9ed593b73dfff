"""APDUs/s decoding one fixed scan report: our codec vs a plain (non-compiled) construct declaration.

Both sides use the same declaration (`interop.codecs.ieee11073.apdu.Apdu`): the reference parses it
declaratively (construct's interpreter), our codec runs its compiled form (`apdu.parse_apdu`). A
third line shows the full trace path (scan report → canonical `Metric`s) for scale.

Vector: 20601 Annex H.2.4.1-style blood-pressure scan report (signove/antidote
tests/resources/apdu/H241_ID_02BC @ dbb2742), 66 octets. Goal: ratio >= 3.

Run: python benchmarks/bench_x73.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import time

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

    from interop.codecs.ieee11073 import apdu
    from interop.codecs.ieee11073.association import Association
    from interop.codecs.ieee11073.configurations import standard

    declarative = apdu.Apdu  # plain construct, the same declaration, not compiled
    apdu.warm()
    assert declarative.parse(SCAN_REPORT) == apdu.parse_apdu(SCAN_REPORT)

    assoc = Association(mode="trace")
    assoc.config = standard(700)
    assoc.config_id = 700

    def to_model() -> None:
        value = apdu.parse_apdu(SCAN_REPORT)
        assoc.metrics.clear()
        assoc._scan_report(value.apdu.message.event_type, 0, value.apdu.message.event_info, 22)

    plain = rate(lambda: declarative.parse(SCAN_REPORT), args.seconds)
    ours = rate(lambda: apdu.parse_apdu(SCAN_REPORT), args.seconds)
    full = rate(to_model, args.seconds)
    print(f"fixed scan report, {len(SCAN_REPORT)} octets")
    print(f"  construct declarative (reference) {plain:>10,.0f} APDU/s  {1e6 / plain:7.1f} us")
    print(f"  interop codec (compiled)          {ours:>10,.0f} APDU/s  {1e6 / ours:7.1f} us")
    print(f"  interop codec -> canonical Metric {full:>10,.0f} APDU/s  {1e6 / full:7.1f} us")
    print(f"  ratio codec / reference           {ours / plain:10.2f} x  (goal >= 3)")


if __name__ == "__main__":
    main()
