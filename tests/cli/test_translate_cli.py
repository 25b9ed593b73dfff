"""`interop translate` as a user runs it: a subprocess, real files, exit codes, stderr lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interop.cli.main", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)


def test_one_file_prints_bundle():
    r = run("translate", str(VITALS))
    assert r.returncode == 0, r.stderr
    b = json.loads(r.stdout)
    assert b["resourceType"] == "Bundle" and b["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    assert kinds.count("Observation") == 7 and kinds.count("Patient") == 1 and kinds[-1] == "Provenance"
    assert r.stderr == b""


def test_stdin_and_r5_and_canonical():
    r = run("translate", "-", "--to", "fhir-r5", stdin=VITALS.read_bytes())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entry"][0]["resource"]["resourceType"] == "Patient"
    r = run("translate", str(VITALS), "--to", "canonical")
    assert json.loads(r.stdout)["control_id"] == "MSG00001"


def test_directory_needs_output_dir_and_writes_one_file_each(tmp_path):
    r = run("translate", str(VITALS.parent))
    assert r.returncode == 2 and b"-o DIR" in r.stderr
    out = tmp_path / "out"
    r = run("translate", str(VITALS.parent), "-o", str(out), "--to", "fhir-r5")
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["pcd01-custom-delimiters.hl7.fhir.json", "pcd01-vitals.hl7.fhir.json"]
    assert b"2 of 2 translated" in r.stderr


def test_validate_and_report():
    r = run("translate", str(ROOT / "tests" / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7"),
            "--validate", "--report")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.decode().splitlines()
    assert any("OBX[6]-4" in line and "hl7v2.pcd-facet" in line for line in lines)
    assert all(line.startswith(str(ROOT / "tests")) for line in lines)


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    cases = {
        "empty": (b"", "byte 0"),
        "junk": (bytes(range(256)) * 4, "byte 0"),
        "truncated-msh": (b"MSH|^~", "MSH-2"),
        "wrong-encoding-chars": (b"MSH|^~^&|A|B\rPID|1\r", "MSH-2"),
        "bad-field-separator": (b"MSH1^~\\&1A\r", "MSH-1"),
    }
    out = {}
    for name, (data, where) in cases.items():
        p = tmp / f"{name}.hl7"
        p.write_bytes(data)
        out[name] = (p, where)
    return out


@pytest.mark.parametrize("case", ["empty", "junk", "truncated-msh", "wrong-encoding-chars", "bad-field-separator"])
def test_bad_input_one_line_exit_2(tmp_path, case):
    path, where = _bad_inputs(tmp_path)[case]
    r = run("translate", str(path))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(str(path)) and where in err and "expected" in err
    assert r.stdout == b""


def test_missing_path():
    r = run("translate", "/nonexistent/file.hl7")
    assert r.returncode == 2
    assert r.stderr.decode() == "/nonexistent/file.hl7: path: no such file or directory\n"


def test_large_junk_file(tmp_path):
    p = tmp_path / "junk50.bin"
    with open(p, "wb") as f:
        f.write(b"\x00\xff" * (25 * 1024 * 1024))
    r = run("translate", str(p))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "Traceback" not in err and str(p) in err


def test_no_patient_data_in_errors(tmp_path):
    data = VITALS.read_bytes().replace(b"|97|", b"|9x7|")
    p = tmp_path / "bad-value.hl7"
    p.write_bytes(data)
    r = run("translate", str(p), "--strict")
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "OBX[3]-5" in err and "Doe" not in err and "HOSP0001" not in err


def test_mixed_good_and_bad_inputs(tmp_path):
    bad = tmp_path / "bad.hl7"
    bad.write_bytes(b"MSH|^~")
    out = tmp_path / "o"
    r = run("translate", str(VITALS), str(bad), "-o", str(out))
    assert r.returncode == 2
    assert (out / "pcd01-vitals.hl7.fhir.json").exists()
    assert b"1 of 2 translated" in r.stderr


def test_help_teaches():
    r = run("translate", "--help")
    assert r.returncode == 0
    assert b"Exit status" in r.stdout and b"--assume-tz" in r.stdout


@pytest.mark.skipif(os.environ.get("CI_SKIP_IMPORT_TIME") == "1", reason="explicitly disabled")
def test_translate_does_not_import_heavy_libraries():
    code = (f"import sys; sys.argv=['interop','translate',{str(VITALS)!r}]; from interop.cli import main\n"
            "try:\n    main.run()\nexcept SystemExit:\n    pass\n"
            "heavy=[m for m in ('pydicom','pynetdicom','fhir.resources','hl7apy','construct') if m in sys.modules]\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=ROOT)
    assert r.stderr.decode().endswith("HEAVY="), r.stderr.decode()[-300:]


def test_a_feed_of_many_files_lists_only_failures_and_totals(tmp_path):
    sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
    from feed import feed

    src = tmp_path / "feed"
    src.mkdir()
    for i, message in enumerate(feed(VITALS.read_bytes(), 30)):
        (src / f"m{i:03d}.hl7").write_bytes(message)
    (src / "m999-bad.hl7").write_bytes(b"not a message")
    out = tmp_path / "out"
    r = run("translate", str(src), "-o", str(out))
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "m999-bad.hl7: byte 0: decode error: unrecognised content" in err
    assert "m000.hl7" not in err  # 31 inputs: translated ones get no row of their own
    assert "30 of 31 translated in" in " ".join(err.split())
    assert "810 resources, 0 issues" in " ".join(err.split())  # 27 per message
    assert len(list(out.iterdir())) == 30
    bundle = json.loads((out / "m007.hl7.fhir.json").read_bytes())
    assert len(bundle["entry"]) == 27


def test_a_feed_gives_the_canonical_bundles_and_reports_what_each_message_says(tmp_path):
    """`interop translate` replays a feed's structure (interop.translate_json): the files hold the
    canonical path's bytes, and --report still names each message's own findings, here the LF line
    ends of every message (an info note the tokenizer makes per message, with its offset)."""
    sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
    from feed import feed

    from interop import decode, to_fhir

    src = tmp_path / "feed"
    src.mkdir()
    messages = [m.replace(b"\r", b"\n") for m in feed(VITALS.read_bytes(), 25)]
    for i, message in enumerate(messages):
        (src / f"m{i:03d}.hl7").write_bytes(message)
    out = tmp_path / "out"
    r = run("translate", str(src), "-o", str(out), "--report")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert err.count("info: message: segments end with LF or CR LF instead of CR; accepted (quirk 'segment-terminator' "
                     "of profile 'default': accept) [hl7v2.line-ends]") == 25
    assert "675 resources, 25 issues" in " ".join(err.split())
    for i in (0, 1, 24):
        expected = to_fhir(decode(messages[i])).json() + b"\n"
        assert (out / f"m{i:03d}.hl7.fhir.json").read_bytes() == expected
