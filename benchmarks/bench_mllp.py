"""`interop serve mllp` over loopback with the durable queue on, beside a raw MLLP echo server, same run.

Each server runs in its own process pinned to one core (the load generator, and `serve mllp`'s
translating worker process, to the other cores when there are any); C connections each send a message, wait for its acknowledgement, send the next, for S
seconds. Printed per server: sustained messages/s, acknowledgement latency p50/p99/max, the
server's peak RSS; for `serve mllp` also how long its worker took to translate and write the
backlog to DIR/fhir after the load stopped (forwarding rate). The ratio column compares with the
echo server: the price of parsing MSH, group-committing to SQLite with fsync before each ACK and
building the ACK. Figures drift 2x on a shared machine; compare within one run only.

    python benchmarks/bench_mllp.py [--connections 16] [--seconds 10]

Goal (issue 12): >= 2,000 msg/s sustained with p99 ACK <= 20 ms on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ECHO_SERVER = r"""
import asyncio, os, sys
class Echo(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t; self.buf = bytearray()
    def data_received(self, data):
        buf = self.buf; buf += data
        while True:
            end = buf.find(b"\x1c\r")
            if end < 0:
                return
            start = buf.find(b"\x0b")
            self.t.write(bytes(buf[start:end + 2]))
            del buf[:end + 2]
async def main():
    srv = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", 0, backlog=1024)
    print(f"listening on 127.0.0.1:{srv.sockets[0].getsockname()[1]}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def message(i: int) -> bytes:
    """A PCD-01 ORU^R01 of a central station feed: 64 monitors interleaved, values, times and ids changing."""
    bed = i % 64
    t = f"20240101{(i // 3600) % 24:02d}{(i // 60) % 60:02d}{i % 60:02d}"
    return (f"MSH|^~\\&|CIS|ICU{bed:02d}|INTEROP|HOSP|{t}||ORU^R01^ORU_R01|B{i}|P|2.6|||AL|NE\r"
            f"PID|1||P{bed:04d}^^^HOSP^MR||Test^Patient{bed}\r"
            f"PV1|1|I|ICU^^BED{bed}\r"
            f"OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{t}\r"
            f"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|{60 + i % 40}|/min^^UCUM|||||R|||{t}\r"
            f"OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|{90 + i % 10}|%^^UCUM|||||R|||{t}\r"
            f"OBX|3|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1.1|{110 + i % 30}|mm[Hg]^^UCUM|||||R|||{t}\r"
            ).encode()


def start(args: list[str], core: int | None) -> tuple[subprocess.Popen[bytes], int]:
    def pin() -> None:
        if core is not None:
            os.sched_setaffinity(0, {core})

    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([proc.stderr], [], [], 0.5)[0]:
            line = proc.stderr.readline()
            if b"listening on" in line:
                port = int(line.split(b"listening on ")[1].split(b";")[0].split(b":")[1].split(b" ")[0])
                return proc, port
            if not line:
                break
    proc.kill()
    raise SystemExit(f"server did not start: {args}")


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the engine's forwarding worker process)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def fsync_ms(directory: Path, n: int = 100) -> tuple[float, float]:
    """Median and p99 of write + fsync of 200 bytes in `directory`: the floor of a durable acknowledgement."""
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(fd, b"x" * 200)
            os.fsync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[n // 2], times[int(n * 0.99)]


def rss_peak(pid: int) -> float:
    """Peak resident set size (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def load(port: int, connections: int, seconds: float, offset: int) -> tuple[int, list[float]]:
    """C connections, each one message at a time; returns (messages acknowledged, latencies in s)."""
    latencies: list[float] = []
    counter = [offset]
    stop = time.perf_counter() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                i = counter[0]
                counter[0] += 1
                t0 = time.perf_counter()
                writer.write(b"\x0b" + message(i) + b"\x1c\r")
                await reader.readuntil(b"\x1c\r")
                latencies.append(time.perf_counter() - t0)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return len(latencies), latencies


def measure(name: str, args: list[str], connections: int, seconds: float, cores: list[int],
            offset: int) -> dict[str, float]:
    proc, port = start(args, cores[0] if cores else None)
    try:
        if len(cores) > 1:
            os.sched_setaffinity(0, {cores[1]})
            for child in children(proc.pid):  # the translating worker goes beside the load generator
                os.sched_setaffinity(child, set(cores[1:]))
        asyncio.run(load(port, connections, 1.0, offset + 10_000_000))  # warm up
        n, lat = asyncio.run(load(port, connections, seconds, offset))
        rss = rss_peak(proc.pid)
    except BaseException:
        proc.kill()
        raise
    lat.sort()
    return {"proc": proc, "rate": n / seconds, "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000, "max": lat[-1] * 1000, "rss": rss, "n": n,
            "mean": statistics.fmean(lat) * 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--drain-timeout", type=float, default=300.0)
    opts = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    tmp = Path(tempfile.mkdtemp(prefix="bench-mllp-"))
    try:
        fsync_before = fsync_ms(tmp)
        echo = measure("raw MLLP echo server", [sys.executable, "-c", ECHO_SERVER], opts.connections, opts.seconds,
                       cores, 0)
        echo["proc"].kill()
        store = tmp / "store"
        serve = measure("interop serve mllp", [sys.executable, "-m", "interop.cli.main", "serve", "mllp", "--port", "0",
                                               "--store", str(store)], opts.connections, opts.seconds, cores, 0)
        t0 = time.monotonic()
        db = sqlite3.connect(f"file:{store / 'store.sqlite3'}?mode=ro", uri=True, timeout=30)
        backlog = db.execute("SELECT COUNT(*) FROM item WHERE status = 'pending'").fetchone()[0]
        done_during = db.execute("SELECT COUNT(*) FROM item WHERE status = 'done'").fetchone()[0]
        while time.monotonic() - t0 < opts.drain_timeout:
            pending = db.execute("SELECT COUNT(*) FROM item WHERE status = 'pending'").fetchone()[0]
            if not pending:
                break
            time.sleep(0.2)
        drained = time.monotonic() - t0
        done = db.execute("SELECT COUNT(*) FROM item WHERE status = 'done'").fetchone()[0]
        rows = db.execute("SELECT COUNT(*) FROM item").fetchone()[0]
        db.close()
        serve["rss"] = max(serve["rss"], rss_peak(serve["proc"].pid))
        serve["proc"].terminate()
        serve["proc"].wait(30)
        tail = serve["proc"].stderr.read().decode("utf-8", "replace")
        stats = next((ln.split("mllp stats: ", 1)[1] for ln in tail.splitlines() if "mllp stats: " in ln), "(no stats line)")
        files = len(list((store / "fhir").glob("*.json")))
        fsync_after = fsync_ms(tmp)
        forward_rate = rows / (opts.seconds + 1.0 + drained) if drained < opts.drain_timeout else float("nan")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"MLLP over loopback: {opts.connections} connections, one message outstanding each, {opts.seconds:.0f} s; "
          f"servers pinned to core {cores[0]}" + (f", load generator on core {cores[1]}" if len(cores) > 1 else ""))
    print(f"{'server':<44}{'msg/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'RSS MiB':>9}")
    for name, r in (("raw MLLP echo server (no parsing, no disk)", echo),
                    ("interop serve mllp (SQLite WAL, fsync, ACK)", serve)):
        print(f"{name:<44}{r['rate']:>9.0f}{r['rate'] / echo['rate']:>8.2f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
              f"{r['max']:>9.1f}{r['rss']:>9.0f}")
    print(f"serve mllp: {rows} rows stored ({serve['n']} timed + warm-up), {done} translated and written as "
          f"{files} files in DIR/fhir; {done_during} done and {backlog} pending when the load stopped, drained in "
          f"{drained:.1f} s "
          f"(worker: {forward_rate:.0f} msg/s end to end)")
    print(f"serve mllp's own stats at shutdown: {stats}")
    print(f"disk: write + fsync of 200 bytes, median {fsync_before[0]:.1f} ms (p99 {fsync_before[1]:.1f}) before the runs, "
          f"{fsync_after[0]:.1f} ms (p99 {fsync_after[1]:.1f}) after: every acknowledgement waits for one such flush "
          f"(shared by the messages of one group commit)")
    goal = serve["rate"] >= 2000 and serve["p99"] <= 20
    print(f"goal >= 2,000 msg/s with p99 <= 20 ms: {'met' if goal else 'NOT met'} "
          f"({serve['rate']:.0f} msg/s, p99 {serve['p99']:.1f} ms)")


if __name__ == "__main__":
    main()
