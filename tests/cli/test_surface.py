"""The command line as a newcomer meets it: --version, a port already in use, the fast start of
`translate`, and outputs written as they are made."""

from __future__ import annotations

import itertools
import json
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from interop import __version__, decode, decode_all, to_fhir
from interop.pipeline import split_messages

ROOT = Path(__file__).resolve().parents[2]
VITALS = ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"
sys.path.insert(0, str(ROOT / "examples" / "hl7v2"))
from feed import feed  # noqa: E402

FEED = feed(VITALS.read_bytes(), 5)


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interop.cli.main", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)


def test_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    for flag in ("--version", "-V"):
        r = run(flag)
        assert r.returncode == 0 and r.stderr == b""
        assert r.stdout.decode().startswith(f"interop (iomt-interop) {__version__}, Python 3.")
    assert b"--version" in run("--help").stdout


@pytest.mark.parametrize("command", [["serve", "x73"], ["serve", "dicom"]])
def test_a_port_in_use_is_one_clear_line(command: list[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run(*command, "--port", str(port), "--store", str(tmp_path / "store"))
    assert r.returncode == 2
    assert r.stderr.decode() == f"cannot listen on 127.0.0.1:{port}: address already in use\n"


def test_fast_path_reads_exactly_the_options_of_the_typer_command() -> None:
    import typer.main

    from interop.cli import fast
    from interop.cli.main import build_app

    command = typer.main.get_command(build_app()).commands["translate"]
    typer_options = {o for p in command.params for o in p.opts if o.startswith("-")}
    assert typer_options == set(fast.OPTIONS)
    from interop.cli.cmd_translate import BundleType, Engine, Source, Target

    for option, enum in (("--from", Source), ("--to", Target), ("--bundle", BundleType), ("--engine", Engine)):
        assert set(fast.OPTIONS[option][1]) == {e.value for e in enum}, option  # the same choices


def test_fast_path_gives_what_typer_gives(tmp_path: Path) -> None:
    """The fast path and the typer command write the same bytes; an option only typer reads goes to typer."""
    from interop.cli.fast import parse

    assert parse(["x.hl7", "--to=fhir-r5", "--patient", "1=a", "--patient", "2=b", "--pretty"]) is not None
    assert parse(["--help"]) is None and parse(["x.hl7", "--to", "nonsense"]) is None and parse([]) is None
    fast = run("translate", str(VITALS), "--to", "fhir-r5", "--bundle", "transaction")
    typer_run = subprocess.run(
        [sys.executable, "-c", "import sys; from interop.cli.main import build_app; "
         "build_app()(args=sys.argv[1:], prog_name='interop')",
         "translate", str(VITALS), "--to", "fhir-r5", "--bundle", "transaction"], capture_output=True, cwd=ROOT)
    assert fast.returncode == typer_run.returncode == 0
    assert fast.stdout == typer_run.stdout == to_fhir(decode(VITALS), "R5", bundle_type="transaction").json() + b"\n"
    bad = run("translate", str(VITALS), "--to", "fhir-r6")
    assert bad.returncode == 2 and b"fhir-r6" in bad.stderr  # typer's own message for a bad choice


def test_translate_imports_only_the_codec_it_picked() -> None:
    code = (f"import sys; sys.argv=['interop','translate',{str(VITALS)!r}]; from interop.cli import main\n"
            "try:\n    main.run()\nexcept SystemExit:\n    pass\n"
            "names=('pydicom','pynetdicom','fhir.resources','hl7apy','construct','pyspark','typer','rich',\n"
            "       'interop.codecs.dicom.codec','interop.codecs.ieee11073.codec','interop.codecs.ieee11073.gatt.codec')\n"
            "sys.stderr.write('LOADED=' + ','.join(m for m in names if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=ROOT)
    assert r.stderr.decode().endswith("LOADED="), r.stderr.decode()[-300:]
    assert r.stdout.count(b"\n") == 1


def test_batch_to_ndjson_stdout_file_and_folder(tmp_path: Path) -> None:
    batch = b"FHS|^~\\&|GW\rBHS|^~\\&|GW\r" + b"\r".join(FEED) + b"\rBTS|5\rFTS|1\r"
    chunks = [raw for _, raw in split_messages(batch)]  # each message as the batch holds it (with its CR)
    assert [raw.rstrip(b"\r") for raw in chunks] == [m.rstrip(b"\r") for m in FEED]

    def expected(label: str, messages: list[bytes] = chunks) -> list[bytes]:  # the input's name is in each Bundle
        return [to_fhir(decode(m, label=label)).json() for m in messages]

    r = run("translate", "-", stdin=batch)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == expected("<stdin>")
    out = tmp_path / "all.ndjson"
    r = run("translate", "-", "-o", str(out), stdin=batch)
    assert r.returncode == 0 and out.read_bytes().splitlines() == expected("<stdin>")
    src = tmp_path / "capture.hl7"
    src.write_bytes(batch)
    folder = tmp_path / "out"
    folder.mkdir()
    r = run("translate", str(src), "-o", str(folder))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == [f"capture.hl7.{n}.fhir.json" for n in range(1, 6)]
    assert (folder / "capture.hl7.3.fhir.json").read_bytes() == expected(str(src))[2] + b"\n"
    # several inputs into one NDJSON file
    single = tmp_path / "single.hl7"
    single.write_bytes(FEED[0])
    r = run("translate", str(src), str(single), "-o", str(tmp_path / "both.ndjson"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "both.ndjson").read_bytes().splitlines() == expected(str(src)) + expected(str(single), FEED[:1])


def test_pretty_is_indented_json() -> None:
    r = run("translate", str(VITALS), "--pretty")
    assert r.returncode == 0
    assert r.stdout.startswith(b'{\n  "resourceType": "Bundle"') and json.loads(r.stdout)["type"] == "collection"
    assert b"--pretty" in run("translate", "--help").stdout


def test_decode_all_is_a_generator_over_a_stream() -> None:
    """An endless stream of messages: the first ones come out without the stream ever ending."""
    endless = itertools.cycle([m + b"\r" for m in FEED])  # chunks of one message each, forever
    first = list(itertools.islice(decode_all(endless), 7))
    assert [m.control_id for m in first] == [f"MSG{n % 5:06d}" for n in range(7)]
    chunked = (bytes([b]) for b in b"".join(FEED))  # one byte at a time
    assert [m.control_id for m in decode_all(chunked)] == [f"MSG{n:06d}" for n in range(5)]
    with open(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7", "rb") as f:  # a file object
        (only,) = decode_all(f)
    assert only == decode(VITALS)


def test_glob_inputs(tmp_path: Path) -> None:
    for n, m in enumerate(FEED[:3]):
        (tmp_path / f"m{n}.hl7").write_bytes(m)
    r = run("translate", str(tmp_path / "m*.hl7"), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"m{n}.hl7.fhir.json" for n in range(3)]
    r = run("translate", str(tmp_path / "nothing*.hl7"), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and re.search(rb"nothing\*\.hl7: path: no file matches", r.stderr)


def test_a_reader_that_goes_away_stops_the_output_quietly(tmp_path: Path) -> None:
    """`interop translate big.hl7 | head -1`: no error line, no traceback, the status a closed pipe gives."""
    batch = tmp_path / "feed.hl7"
    batch.write_bytes(b"\r".join(feed(VITALS.read_bytes(), 200)))
    proc = subprocess.Popen([sys.executable, "-m", "interop.cli.main", "translate", str(batch)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert json.loads(first)["resourceType"] == "Bundle" and err == b""


def test_help_paragraphs_are_reflowed_not_cut_at_source_lines():
    """typer keeps a docstring's line breaks: on an 80-column terminal each source line ended in a ragged
    half-line. `reflow` joins a paragraph's lines; indented examples and list items keep their lines."""
    from interop.cli.main import reflow

    doc = """First line of the summary.

    A paragraph written over
    three source
    lines.

    Examples:

      interop translate a.hl7 --pretty
      interop translate b/ -o out/
    - an item that
      runs on
    """
    assert reflow(doc) == ("First line of the summary.\n\n"
                           "A paragraph written over three source lines.\n\n"
                           "Examples:\n\n"
                           "  interop translate a.hl7 --pretty\n"
                           "  interop translate b/ -o out/\n"
                           "- an item that\n"
                           "  runs on")


def test_translate_help_wraps_at_the_terminal_width():
    out = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", "--help"], capture_output=True,
                         timeout=120, cwd=ROOT, env={**__import__("os").environ, "COLUMNS": "80"}).stdout.decode()
    # the docstring breaks "(a batch" / "file, an MLLP capture": reflowed, the phrase is on one line
    assert "a batch file, an MLLP capture" in out
