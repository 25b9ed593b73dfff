"""DICOM C-STORE receive rate: `interop serve dicom` beside dcmtk's `storescp`, same files, same run.

Run: python benchmarks/bench_dicom_scp.py [--files 200] [--studies 10] [--rounds 3] [--parallel 4]
Makes `--files` instances (pydicom's CT_small.dcm with new UIDs, spread over `--studies` studies), then
for each round sends all of them with dcmtk's `storescu` (one association) to a fresh `storescp -od DIR`,
to a bare pynetdicom SCP and to a fresh `interop serve dicom --store DIR`, and times storescu from start to
exit (every C-STORE answered: for `serve dicom` that means every instance durable in its SQLite store,
one fsync per C-STORE since storescu waits for each response). Prints the instances/s of each (best
round), the ratio serve/storescp (goal >= 0.5), and for `serve dicom` how long after storescu exited the
last study's FHIR Bundle was written (instances are decoded into the model when their study is
translated, not before the response).

The bare pynetdicom SCP (writes each dataset to a file; no fsync, store or translation) is pynetdicom as
shipped: its two reactor threads per association poll every millisecond, and its DIMSE layer encodes and
decodes each command set through a pydicom Dataset. `serve dicom` keeps pynetdicom's state machine, PDUs
and negotiation but wakes both reactors on events (`interop/transport/dicom/reactor.py`) and reads
C-STORE-RQ / writes C-STORE-RSP command sets with `struct` (`dimse.py`), so it runs faster than that SCP
despite its fsync.

Then the same with `--parallel` storescu sending at once (storescp with and without --fork, the faster
counts): there the instances of several associations share one fsync (the engine's group commit), but
every association also costs pynetdicom ~30 ms of CPU to negotiate storescu's 128 presentation contexts
(pydicom validates each UID it builds), and all of them share one interpreter lock. A last round sends
the same files to `serve dicom` while `--slowloris` stalled connections (silent, half a header, half an
A-ASSOCIATE-RQ) are held open, more than its connection limit: the well-behaved storescu must still be
served. The machine's load average is printed with the figures: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool(name: str) -> str:
    """dcmtk's binary, not the pynetdicom app of the same name in a virtual environment's bin folder."""
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not os.path.exists(os.path.join(p, "..", "pyvenv.cfg")))
    found = shutil.which(name, path=path)
    if found is None:
        sys.exit(f"bench_dicom_scp: dcmtk's {name} not found (apt-get install -y dcmtk)")
    return found


def make_files(directory: Path, count: int, studies: int) -> list[Path]:
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    directory.mkdir(parents=True, exist_ok=True)
    template = dcmread(get_testdata_file("CT_small.dcm"))
    out = []
    for n in range(count):
        ds = template.copy()
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1140.{n % studies + 1}"
        ds.SeriesInstanceUID = f"{ds.StudyInstanceUID}.1"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{ds.SeriesInstanceUID}.{n + 1}"
        ds.InstanceNumber = n + 1
        path = directory / f"ct{n + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path)
    return out


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench_dicom_scp: server exited ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("bench_dicom_scp: server did not start")


# dcmtk as packaged by Debian leaves Nagle's algorithm on unless TCP_NODELAY=1 is set (dcmnet's runtime switch);
# with it on, every C-STORE waits for a delayed ACK (about 40 ms on Linux) and storescp manages ~10 instances/s.
# Both dcmtk tools run with it off so the reference is storescp at its best.
DCMTK_ENV = {**os.environ, "TCP_NODELAY": "1"}


def _send(storescu: str, port: int, files: list[Path], called: str, parallel: int = 1) -> float:
    """Time until every storescu has exited; with `parallel` > 1 the files are dealt over that many storescu
    processes (associations) sending at once, as several modalities do."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen([storescu, "-aet", f"BENCH{n}", "-aec", called, "127.0.0.1", str(port),
                               *map(str, files[n::parallel])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=DCMTK_ENV)
             for n in range(parallel)]
    errors = [p.communicate()[1] for p in procs]
    elapsed = time.perf_counter() - t0
    for p, err in zip(procs, errors, strict=True):
        if p.returncode != 0:
            sys.exit(f"bench_dicom_scp: storescu failed: {err.decode()[-2000:]}")
    return elapsed


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _receive(name: str, cmd: list[str], port: int, out: Path, storescu: str, files: list[Path], called: str,
             parallel: int = 1, env: dict[str, str] | None = None) -> float:
    """Start the receiver `cmd` (listening on `port`), time the send, stop it; it must have written one file per
    instance into `out`."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        _wait_port(port, proc)
        elapsed = _send(storescu, port, files, called, parallel)
    finally:
        _stop(proc)
    stored = len(list(out.iterdir()))
    if stored != len(files):
        sys.exit(f"bench_dicom_scp: {name} wrote {stored} of {len(files)} files")
    return elapsed


def run_storescp(storescp: str, storescu: str, files: list[Path], work: Path, parallel: int = 1,
                 fork: bool = False) -> float:
    out = work / f"storescp{parallel}{'-fork' if fork else ''}"
    out.mkdir()
    port = _free_port()
    # --fork: one process per association, parallel associations served in parallel (as serve dicom does);
    # without it storescp serves them one after the other (the others wait in the listen backlog)
    cmd = [storescp, *(["--fork"] if fork else []), "-aet", "STORESCP", "-od", str(out), str(port)]
    return _receive("storescp", cmd, port, out, storescu, files, "STORESCP", parallel, env=DCMTK_ENV)


# The library's own floor: a pynetdicom SCP that only writes each received dataset to a file (no fsync, no
# store, no translation). `serve dicom` is built on pynetdicom, so this bounds what it can reach.
BARE_PYNETDICOM = """
import sys
from pathlib import Path
from pynetdicom import AE, AllStoragePresentationContexts, evt
out, count = Path(sys.argv[2]), [0]
def store(event):
    count[0] += 1
    (out / f"{count[0]}.dcm").write_bytes(event.encoded_dataset())
    return 0x0000
ae = AE(ae_title="BARE")
ae.supported_contexts = AllStoragePresentationContexts
ae.start_server(("127.0.0.1", int(sys.argv[1])), block=True, evt_handlers=[(evt.EVT_C_STORE, store)])
"""


def run_bare_pynetdicom(storescu: str, files: list[Path], work: Path) -> float:
    out = work / "bare-pynetdicom"
    out.mkdir()
    port = _free_port()
    cmd = [sys.executable, "-c", BARE_PYNETDICOM, str(port), str(out)]
    return _receive("the bare pynetdicom SCP", cmd, port, out, storescu, files, "BARE")


def _stalled(port: int, count: int) -> list[socket.socket]:
    """`count` slowloris connections: silent ones, half a PDU header, an A-ASSOCIATE-RQ cut short."""
    out = []
    for n in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if n % 3 == 1:
                s.sendall(b"\x01\x00\x00")
            elif n % 3 == 2:
                s.sendall(b"\x01\x00\x00\x00\x00\xc8\x00\x01" + bytes(20))
        except OSError:
            continue
        out.append(s)
    return out


def run_serve(storescu: str, files: list[Path], studies: int, work: Path, slowloris: int = 0,
              parallel: int = 1) -> tuple[float, float]:
    store = work / ("serve-slowloris" if slowloris else f"serve{parallel}")
    port = _free_port()
    cmd = [sys.executable, "-m", "interop.cli.main", "serve", "dicom", "--port", str(port), "--store", str(store),
           "--quiet-period", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stalled: list[socket.socket] = []
    try:
        _wait_port(port, proc)
        if slowloris:
            stalled = _stalled(port, slowloris)
            time.sleep(2.5)  # past the server's stall grace (2 s)
        t0 = time.perf_counter()
        elapsed = _send(storescu, port, files, "INTEROP", parallel)
        deadline = time.monotonic() + 120
        fhir = store / "fhir"
        while time.monotonic() < deadline:
            if fhir.is_dir() and len([p for p in fhir.iterdir() if p.suffix == ".json"]) >= studies:
                break
            time.sleep(0.02)
        bundles_after = time.perf_counter() - t0 - elapsed
    finally:
        _stop(proc)
        for s in stalled:
            s.close()
    return elapsed, bundles_after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="instances sent per round")
    parser.add_argument("--studies", type=int, default=10, help="studies they are spread over")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best one reported)")
    parser.add_argument("--parallel", type=int, default=4,
                        help="also send the files over this many simultaneous associations (0: skip that table)")
    parser.add_argument("--slowloris", type=int, default=300,
                        help="stalled connections held open during one extra serve round (0: skip it)")
    args = parser.parse_args()
    storescu, storescp = _tool("storescu"), _tool("storescp")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-dicom-scp-") as tmp:
        root = Path(tmp)
        files = make_files(root / "in", args.files, args.studies)
        ref, ours, after, bare = [], [], [], []
        for r in range(args.rounds):
            work = root / f"round{r}"
            work.mkdir()
            ref.append(run_storescp(storescp, storescu, files, work))
            bare.append(run_bare_pynetdicom(storescu, files, work))
            elapsed, bundles = run_serve(storescu, files, args.studies, work)
            ours.append(elapsed)
            after.append(bundles)
        n = len(files)
        best_ref, best_ours = min(ref), min(ours)
        print(f"load average {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} now (2 cores; compare ratios)")
        print(f"files: {n} x CT_small.dcm ({files[0].stat().st_size} bytes) in {args.studies} studies, "
              f"storescu one association, {args.rounds} rounds (best)")
        print(f"  storescp -od DIR        {n / best_ref:8.1f} instances/s  ({best_ref:.2f} s)")
        print(f"  interop serve dicom     {n / best_ours:8.1f} instances/s  ({best_ours:.2f} s, durable before each "
              f"C-STORE-RSP; last Bundle {min(after):.2f} s after)")
        print(f"  ratio serve/storescp    {best_ref / best_ours:8.2f}  (goal >= 0.5)")
        best_bare = min(bare)
        print(f"  bare pynetdicom SCP     {n / best_bare:8.1f} instances/s  ({best_bare:.2f} s: writes each dataset to a "
              f"file, no fsync, no store, no translation; {best_ref / best_bare:.2f} of storescp: pynetdicom as shipped)")
        if args.parallel > 1:
            # several modalities at once: the instances of different associations share one fsync (group commit)
            pref, pours = [], []
            for r in range(args.rounds):
                work = root / f"parallel{r}"
                work.mkdir()
                pref.append(min(run_storescp(storescp, storescu, files, work, args.parallel),
                                run_storescp(storescp, storescu, files, work, args.parallel, fork=True)))
                pours.append(run_serve(storescu, files, args.studies, work, parallel=args.parallel)[0])
            p_ref, p_ours = min(pref), min(pours)
            print(f"{args.parallel} storescu at once ({args.parallel} associations, files dealt round-robin):")
            print(f"  storescp -od DIR        {n / p_ref:8.1f} instances/s  ({p_ref:.2f} s; the faster of single-process "
                  "and --fork)")
            print(f"  interop serve dicom     {n / p_ours:8.1f} instances/s  ({p_ours:.2f} s)")
            print(f"  ratio serve/storescp    {p_ref / p_ours:8.2f}  (goal >= 0.5)")
        if args.slowloris:
            work = root / "slowloris"
            work.mkdir()
            elapsed, _ = run_serve(storescu, files, args.studies, work, slowloris=args.slowloris)
            print(f"  serve dicom, {args.slowloris} slowloris connections open (limit 256):"
                  f" {n / elapsed:.1f} instances/s ({elapsed:.2f} s), {best_ours / elapsed:.2f} of its rate without")


if __name__ == "__main__":
    main()
