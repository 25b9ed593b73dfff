"""`interop translate` as a user runs it: a batch file of 1k, 10k and 100k messages to NDJSON, and one message.

Rows: messages, input MB, seconds, messages/s and peak resident memory (the operating system's own
accounting of the finished `interop` process, `os.wait4`) for each size; the rate should not fall as
the input grows (time linear in the message count) and memory should stay flat (the CLI streams:
one message, its Bundle and one read chunk at a time). Goals (issue 14): peak RSS < 400 MB at 100k
messages (about 160 MB of input), and a one-message translation within 10× `python -c pass` (wall
time, both run by the same interpreter in turns, medians).

The input is a central-station feed (`examples/hl7v2/feed.py`: 200 monitors interleaved, values,
times, control ids and order numbers all changing) written as one HL7 v2 file, messages one after
another, in a temporary folder that is removed afterwards (never committed).

Run: python benchmarks/bench_cli.py [--sizes 1000,10000,100000] [--turns 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import central_station  # noqa: E402

INTERPRETER = sys.executable
INTEROP = [INTERPRETER, "-m", "interop.cli.main"]
BLOCK = 1000  # messages generated at a time: the generator holds no more than this


def write_feed(path: Path, n: int) -> int:
    """`n` central-station messages, one after another, CR-terminated; returns the file size."""
    base = VITALS.read_bytes()
    one_round = central_station(base, 200, BLOCK)
    with open(path, "wb") as f:
        written = 0
        turn = 0
        while written < n:
            count = min(BLOCK, n - written)
            block = one_round if turn == 0 else _renumber(one_round, turn)
            for m in block[:count]:
                f.write(m.rstrip(b"\r") + b"\r")
            written += count
            turn += 1
    return path.stat().st_size


def _renumber(block: list[bytes], turn: int) -> list[bytes]:
    """The block again with new control ids, so that no two messages of the file are the same bytes."""
    out = []
    for m in block:
        head, sep, rest = m.partition(b"\r")
        fields = head.split(b"|")
        fields[9] = fields[9] + b"-" + str(turn).encode()
        out.append(b"|".join(fields) + sep + rest)
    return out


def run(cmd: list[str], stdout=subprocess.DEVNULL) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in bytes, exit status) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE if stdout is subprocess.DEVNULL else None)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr is not None:
        err = proc.stderr.read()
        proc.stderr.close()
        if proc.returncode:
            sys.stderr.write(err.decode(errors="replace")[-2000:])
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return wall, rss, proc.returncode


def bench_sizes(sizes: list[int]) -> list[tuple[int, float, float, int]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_cli_") as tmp:
        for n in sizes:
            src = Path(tmp) / f"feed{n}.hl7"
            size = write_feed(src, n)
            out = Path(tmp) / f"feed{n}.ndjson"
            wall, rss, code = run([*INTEROP, "translate", str(src), "-o", str(out)])
            lines = _count_lines(out)
            if code != 0 or lines != n:
                raise SystemExit(f"interop translate of {n} messages: exit {code}, {lines} Bundles")
            rows.append((n, size / 1e6, wall, rss))
            print(f"{n:>9,} messages {size / 1e6:8.1f} MB  {wall:8.1f} s  {n / wall:9,.0f} msgs/s  "
                  f"peak RSS {rss / 1e6:6.0f} MB", flush=True)
            src.unlink()
            out.unlink()
    return rows


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def bench_startup(turns: int) -> tuple[float, float]:
    """Median wall seconds of `python -c pass` and of a one-message `interop translate`, run in turns."""
    baseline, one = [], []
    for _ in range(turns):
        baseline.append(run([INTERPRETER, "-c", "pass"])[0])
        wall, _, code = run([*INTEROP, "translate", str(VITALS)])
        if code != 0:
            raise SystemExit(f"interop translate {VITALS}: exit {code}")
        one.append(wall)
    return statistics.median(baseline), statistics.median(one)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="message counts, comma-separated")
    parser.add_argument("--turns", type=int, default=15, help="turns of the start-up comparison")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    print(f"interop translate FILE -o FILE.ndjson (central-station feed, {INTERPRETER})")
    rows = bench_sizes(sizes)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per_first, per_last = first[2] / first[0], last[2] / last[0]
        print(f"time per message at {last[0]:,} vs {first[0]:,}: {per_last / per_first:.2f}× "
              "(1.00 = linear; start-up is in every row)")
        peak = max(r[3] for r in rows)
        print(f"peak RSS over all sizes: {peak / 1e6:.0f} MB (goal < 400 MB)")

    base, one = bench_startup(args.turns)
    print(f"one message: interop translate {one * 1000:.0f} ms, python -c pass {base * 1000:.0f} ms "
          f"(medians of {args.turns} turns): {one / base:.1f}× (goal ≤ 10×)")


if __name__ == "__main__":
    main()
