"""DICOM headers/s: our decode → canonical → FHIR R4 JSON beside plain pydicom `dcmread(stop_before_pixels=True)`.

Run: python benchmarks/bench_dicom.py [--seconds 0.5] [--files NAME ...]
Prints one row per file (the structured reports of examples/dicom first: a TID 1500 measurement report and
a CT radiation dose SR, then pydicom test files shipped in the wheel) and the aggregate over the set: time
per header for the bare read, for decode → canonical, and for decode → canonical → FHIR JSON, and the ratio
bare / full (goal, issue 14: ≥ 0.5 for SR and dose SR: the whole translation costs at most twice the bare
header read). The three are measured in turns, round after round, best round kept: compare ratios of one run.

Figures of 2026-12-07 (shared 2-core machine, load average 3.5-6; "before" = main at 585ff13, "after" = the
issue-14 DICOM work, run alternately in the same minutes with `--seconds 2`; ratio = bare / full):

    file                         before: bare / full µs, ratio    after: bare / full µs, ratio
    sr_tid1500_measurement_report  424 / 1461  0.29  524 / 1327  0.39    352 / 528  0.67   581 / 837  0.69
    sr_ct_radiation_dose           508 / 1935  0.26  442 / 1885  0.23    368 / 768  0.48   431 / 925  0.47
    CT_small.dcm                  1166 / 1720  0.68                      931 / 461  2.02
    MR_small.dcm                   735 / 1252  0.59                      464 / 290  1.60
    MR_small_implicit.dcm          341 /  694  0.49                      343 / 238  1.44
    rtplan.dcm                     277 /  613  0.45                      335 / 236  1.42

Final runs at 22:10 UTC on a quieter machine (load 1.2-1.8, `--seconds 2`): TID 1500 0.58, 0.67, 0.67
(~530 µs against ~355); dose SR 0.52, 0.48, 0.49, and 0.51 (ratio of best rounds over 40 paired rounds,
698 µs against 359; median of the per-round ratios 0.495): at the goal, not clearly above it. Image headers
(CT_small, MR_small) 1.4-2.1. Python calls per message (cProfile, deterministic): TID 1500 3,757 -> 1,670,
dose SR 5,423 -> 2,396. What changed: a well-formed Part 10 file is read in one pass with the structural checks in
the same loop (codecs/dicom/part10.py; pydicom reads everything else), SR items parsed in one loop, the
walk reads each element once, equipment/patient/practitioners, dates and code texts remembered (bounded
LRU memos keyed by everything they are read from), the dose mapping no longer makes and drops one
Observation per NUM. Where the dose SR's time goes now (py-spy): reading the file 6 %, parsing the content
tree's items 12 % (~1 µs an element), the walk's per-item work ~18 %, header modules ~8 %, FHIR mapping ~27 %
(ImagingStudy, DiagnosticReport, dose summary and two event Observations, Patient, Device, Provenance),
JSON 4 %.

2026-12-08 (machine loaded all session: load average 4-117 on 2 cores; timed ratios swung 0.32-0.61 for one
build, so the deterministic measures lead): Python opcodes per message (sys.settrace) and instructions per
message (valgrind cachegrind, `decode -> FHIR JSON` run 200 times minus run 0 times), "before" = main at
e948caa, "after" = d98b5ac:

    file                           opcodes before/after   instructions before/after   bare dcmread
    sr_ct_radiation_dose             41,382 / 35,942        3.34 M / 2.94 M (-12 %)     1.84 M
    sr_tid1500_measurement_report    28,030 / 24,778        2.37 M / 2.11 M (-11 %)     1.84 M

Instruction ratio bare / full: dose SR 0.55 -> 0.63, TID 1500 0.78 -> 0.87. On the quiet machine of the
last session the timed ratios were 0.89x the instruction ratios for both files (0.49 and 0.69), which puts
the dose SR at ~0.56 and TID 1500 at ~0.77 now: above the 0.5 goal, short of 0.6 for the dose SR. What
changed: element loops without per-element bounds tests and with the VR read as a 16-bit number (items,
part10), the SR walk reading Value Type, Relationship Type and concept names inline from the memos, the
usual Measured Value Sequence read straight from its bytes, the dose mapping's one table per concept object
and one pass per irradiation event. Where the dose SR's instructions go now (cachegrind, per stage): the SR
walk ~50 % (about half of it parsing the content items' elements, half the per-item work: model objects,
memo lookups, paths), the top-level Part 10 read ~10 %, header modules and Context ~7 %, FHIR mapping ~27 %,
JSON ~5 %; the interpreter loop itself is 31 % of all instructions, the rest spread thin (allocation
and freeing 8 %, dict lookups 5 %, no single C function above 3 %).
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

# Image headers of several vendors, sizes and transfer syntaxes (all ship inside the pydicom wheel).
ROOT = Path(__file__).resolve().parents[1]
REPORTS = (ROOT / "examples" / "dicom" / "sr_tid1500_measurement_report.dcm",
           ROOT / "examples" / "dicom" / "sr_ct_radiation_dose.dcm")
DEFAULT_FILES = (*(str(p) for p in REPORTS),
    "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm",
    "examples_jpeg2k.dcm", "examples_overlay.dcm", "liver_1frame.dcm", "rtdose.dcm", "rtplan.dcm",
)


def _per_call(fns: dict[str, object], seconds: float, rounds: int = 7) -> dict[str, float]:
    """Mean seconds per call of each function, measured in turns (one batch of each per round, `rounds`
    rounds, about `seconds` per function in all), best round kept: a load change on the shared machine
    hits every candidate of a round alike, so their ratio holds."""
    sizes = {}
    for name, fn in fns.items():
        fn()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 10:
            fn()
            n += 1
        sizes[name] = max(n * 10 // rounds, 3)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            n = sizes[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time budget per measurement")
    parser.add_argument("--files", nargs="*", default=list(DEFAULT_FILES), help="pydicom test file names")
    args = parser.parse_args()

    import pydicom
    from interop.codecs.dicom.codec import DicomCodec
    from pydicom.data import get_testdata_file

    codec = DicomCodec()
    try:
        from interop.registry import get_mapping

        fhir = get_mapping("fhir-r4")
    except Exception:  # the FHIR mapping is not part of this build: measure decode → canonical only
        fhir = None

    for name in args.files:  # warm caches (data dictionary, SOP class names, mapping tables) before timing
        path = _path(name, get_testdata_file)
        if path is not None:
            data = Path(path).read_bytes()
            pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            message = codec.decode(data)
            if fhir:
                fhir.map(message).json()

    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'file':26s} {'KiB':>5s} {'bare µs':>8s} {'canon µs':>9s} {'fhir µs':>8s} {'ratio':>6s}")
    totals = [0.0, 0.0, 0.0]
    sr: dict[str, tuple[float, float]] = {}
    for name in args.files:
        path = _path(name, get_testdata_file)
        if path is None:
            print(f"{name:26s} (not packaged, skipped)")
            continue
        data = Path(path).read_bytes()
        fns = {"bare": lambda d=data: pydicom.dcmread(io.BytesIO(d), stop_before_pixels=True),
               "canon": lambda d=data: codec.decode(d)}
        if fhir:
            fns["full"] = lambda d=data: fhir.map(codec.decode(d)).json()
        times = _per_call(fns, args.seconds)
        bare, canon = times["bare"], times["canon"]
        full = times.get("full", canon)
        if Path(path).resolve() in REPORTS:
            sr[Path(name).name] = (bare, full)
        for i, v in enumerate((bare, canon, full)):
            totals[i] += v
        print(f"{Path(name).name[:26]:26s} {len(data) / 1024:5.0f} {bare * 1e6:8.0f} {canon * 1e6:9.0f} {full * 1e6:8.0f} "
              f"{bare / full:6.2f}")
    bare, canon, full = totals
    if bare:
        k = len(args.files)
        print(f"\nheaders/s over the set: bare dcmread {k / bare:,.0f}; decode → canonical {k / canon:,.0f}; "
              f"decode → canonical → FHIR R4 JSON {k / full:,.0f}{'' if fhir else ' (FHIR mapping absent)'}")
        print(f"ratio (full / bare throughput): {bare / full:.2f}; canonical only: {bare / canon:.2f}")
    for name, (b, f) in sr.items():
        print(f"{name}: decode → FHIR R4 JSON at {b / f:.2f}x the rate of bare dcmread (goal ≥ 0.5)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _path(name: str, get_testdata_file) -> str | None:
    """A file of this repository, else a pydicom test file by name (None when not packaged)."""
    if Path(name).is_file():
        return name
    return get_testdata_file(name, download=False)


if __name__ == "__main__":
    main()
