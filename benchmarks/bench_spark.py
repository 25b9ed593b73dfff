"""`interop translate --engine spark` on 1 and 2 workers beside the single-process CLI, on the same archive.

The archive: `--files` HL7 v2 files of a central-station feed (`examples/hl7v2/feed.py`), each holding
`--per-file` messages one after another, in sub-folders, written to a temporary folder (never committed).
Each row runs the command a user runs and counts the Bundles it wrote:

    interop translate ARCHIVE -o OUT.ndjson                                   (single process)
    interop translate ARCHIVE -o OUT/ --engine spark --master local[1]        (one Python worker)
    interop translate ARCHIVE -o OUT/ --engine spark --master local[2]        (two)

Wall time includes each command's start-up: Spark's JVM and Python workers cost several seconds,
which a large archive (or a cluster) amortises and a small one does not. The ratio local[2]/local[1]
shows how the work spreads over workers on this machine (2 cores, shared: compare within one run).

Run: python benchmarks/bench_spark.py [--files 200] [--per-file 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import central_station  # noqa: E402

INTEROP = [sys.executable, "-m", "interop.cli.main", "translate"]


def write_archive(folder: Path, files: int, per_file: int) -> int:
    messages = central_station(VITALS.read_bytes(), 200, files * per_file)
    for i in range(files):
        sub = folder / f"day{i % 10:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        part = messages[i * per_file:(i + 1) * per_file]
        (sub / f"capture{i:05d}.hl7").write_bytes(b"".join(m.rstrip(b"\r") + b"\r" for m in part))
    return files * per_file


def bundles_in(out: Path) -> int:
    paths = [out] if out.is_file() else sorted(out.glob("part-*"))
    return sum(p.read_bytes().count(b"\n") for p in paths)


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - started
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--per-file", type=int, default=50)
    args = parser.parse_args()
    try:
        import pyspark
    except ImportError:
        raise SystemExit('pyspark is needed: pip install "iomt-interop[spark]"') from None

    with tempfile.TemporaryDirectory(prefix="bench_spark_") as tmp:
        archive = Path(tmp) / "archive"
        n = write_archive(archive, args.files, args.per_file)
        print(f"{args.files} files, {n:,} messages; pyspark {pyspark.__version__}, {sys.executable}")
        rows = []
        for name, extra, out in (
            ("single-process CLI", [], Path(tmp) / "cli.ndjson"),
            ("spark local[1]", ["--engine", "spark", "--master", "local[1]"], Path(tmp) / "spark1"),
            ("spark local[2]", ["--engine", "spark", "--master", "local[2]"], Path(tmp) / "spark2"),
        ):
            wall = timed([*INTEROP, str(archive), "-o", str(out), *extra])
            found = bundles_in(out)
            if found != n:
                raise SystemExit(f"{name}: {found} Bundles for {n} messages")
            rows.append((name, wall))
            print(f"{name:<20} {wall:7.1f} s  {n / wall:8,.0f} msgs/s", flush=True)
        cli, one, two = (w for _, w in rows)
        print(f"spark local[2] / local[1]: {one / two:.2f}× the rate; local[2] / single-process CLI: "
              f"{cli / two:.2f}× (start-up included)")


if __name__ == "__main__":
    main()
