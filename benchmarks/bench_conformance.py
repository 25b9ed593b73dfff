"""Conformance throughput: PCD-01 messages/s validated with every assertion on, beside hl7apy's own
strict validation of the same messages, measured in the same run.

Workload: a central-station feed (examples/hl7v2/feed.py `central_station`: 200 monitors interleaved,
values, times, control ids, patients and devices changing), each message validated by
  - iomt-interop: every assertion that reads HL7 v2 (profiles hl7v2 + ihe-pcd-01 + ihe-pcd-04: the
    structure walk against hl7apy's ORU_R01 definition, field/component/data type/table/length checks,
    the PCD-01 and PCD-04 rules), tokenized and checked from scratch per message;
  - iomt-interop with a site's XML conformance profile (conformance/cases/xml/acme-pcd01-site.xml: usage,
    predicates, conformance statements, co-constraints, plus the HL7 v2 rows), a row of its own;
  - hl7apy: `parse_message(validation_level=STRICT, find_groups=True)` then `Validator.validate`.
Both read the same bytes; the ratio is the figure (machines here drift 2x between runs).

Goal (issue 10): >= 10x hl7apy.

Run: python benchmarks/bench_conformance.py [--seconds S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))


def _rate(fn, messages: list[bytes], seconds: float) -> tuple[float, int]:
    """Messages per second of fn over the messages (cycled) for about `seconds`."""
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for m in messages:
            fn(m)
            n += 1
        if time.perf_counter() >= deadline:
            break
    return n / (time.perf_counter() - start), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    ap.add_argument("--messages", type=int, default=400, help="messages in the feed (default 400)")
    args = ap.parse_args()

    from feed import central_station
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    from hl7apy.validation import Validator
    from interop.conformance.catalogue import catalogue
    from interop.conformance.hl7v2.context import V2Context
    from interop.conformance.runner import check_context

    example = (ROOT / "conformance" / "cases" / "hl7v2" / "pcd01-vitals.hl7").read_bytes()
    messages = central_station(example, n=args.messages)
    from interop.conformance.profiles import assertions_for

    rows = assertions_for("ihe-pcd-01")  # the PCD-01 profile: HL7 v2 structure + IHE PCD-01 rules
    every = [a for a in catalogue() if a.input == "hl7v2" and "hl7v2-xml" not in a.profiles]  # + PCD-04 ones

    def ours(m: bytes, rows=rows) -> int:
        findings, _ = check_context(V2Context(m), rows)
        return len(findings)

    def ours_every(m: bytes) -> int:
        return ours(m, every)

    from interop.conformance.profiles import select

    site = select(str(ROOT / "conformance" / "cases" / "xml" / "acme-pcd01-site.xml"))

    def ours_site(m: bytes) -> int:  # a site's XML profile: usage incl. predicates, statements, co-constraints
        findings, _ = check_context(V2Context(m, user_profile=site.user_profile), site.assertions)
        return len(findings)

    def theirs(m: bytes) -> None:
        msg = parse_message(m.decode("utf-8").replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT,
                            find_groups=True)
        Validator.validate(msg)

    # warm both (reference tables, hl7apy's lazily imported modules) and check they accept the feed
    errors = sum(ours(m) for m in messages[:20])
    for m in messages[:5]:
        theirs(m)
    print(f"feed: {len(messages)} PCD-01 messages ({len(messages[0])} bytes, "
          f"{messages[0].count(b'OBX|')} OBX each); ihe-pcd-01 assertions: {len(rows)} (findings on the first 20: "
          f"{errors}); every HL7 v2 assertion incl. PCD-04: {len(every)}")

    hl7apy_rate, hn = _rate(theirs, messages[:40], args.seconds)
    ours_rate, on = _rate(ours, messages, args.seconds)
    every_rate, en = _rate(ours_every, messages, args.seconds)
    site_rate, sn = _rate(ours_site, messages, args.seconds)
    hl7apy_rate2, hn2 = _rate(theirs, messages[40:80], args.seconds)  # again, after ours: drift check
    ref = (hl7apy_rate + hl7apy_rate2) / 2
    print(f"{'hl7apy strict parse + validate':<40} {ref:10.1f} msg/s  ({hn + hn2} messages; "
          f"{1000 / ref:.2f} ms each)")
    print(f"{'iomt-interop, ihe-pcd-01 profile':<40} {ours_rate:10.1f} msg/s  ({on} messages; "
          f"{1000 / ours_rate:.3f} ms each)  {ours_rate / ref:.1f}x hl7apy")
    print(f"{'iomt-interop, every HL7 v2 assertion':<40} {every_rate:10.1f} msg/s  ({en} messages; "
          f"{1000 / every_rate:.3f} ms each)  {every_rate / ref:.1f}x hl7apy")
    print(f"{'iomt-interop, site XML profile':<40} {site_rate:10.1f} msg/s  ({sn} messages; "
          f"{1000 / site_rate:.3f} ms each)  {site_rate / ref:.1f}x hl7apy  (structure + HL7 v2 rows + "
          f"{len(site.user_profile.predicates)} predicates, {len(site.user_profile.statements)} statements, "
          f"{len(site.user_profile.coconstraints)} co-constraint rows)")
    ratio = min(ours_rate, every_rate) / ref
    print(f"ratio: {ratio:.1f}x hl7apy (goal >= 10x): {'met' if ratio >= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
