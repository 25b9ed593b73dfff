"""What `interop translate` does, without typer: read each input as a stream of messages, translate each
message, write each output as soon as it is made.

Memory holds one message, its Bundle and one read chunk whatever the size of the input: a 160 MB
batch file goes out as NDJSON line by line. Used by the typer command (`cmd_translate`) and by the
start-up fast path (`fast`), which parse the same options.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from interop.cli.inputs import expand, is_many
from interop.text import is_ascii_digits

SUFFIX = {"fhir-r4": ".fhir.json", "fhir-r5": ".fhir.json", "canonical": ".canonical.json", "hl7v2": ".hl7"}
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
SOURCES = ("auto", "hl7v2", "ieee11073", "bluetooth-gatt", "dicom")
TARGETS = ("fhir-r4", "fhir-r5", "canonical", "hl7v2")
BUNDLES = ("collection", "transaction")
ENGINES = ("local", "spark")


@dataclass
class Options:
    """The options of `interop translate` (see its --help)."""

    source: str = "auto"
    to: str = "fhir-r4"
    output: Path | None = None
    strict: bool = False
    bundle: str = "collection"
    validate: bool = False
    report: bool = False
    assume_tz: str | None = None
    pretty: bool = False
    patient: list[str] | None = None
    engine: str = "local"
    master: str | None = None
    partitions: int | None = None
    quirks: list[str] | None = None  # HL7 v2 quirk profiles (codecs.hl7v2.quirks)


class Usage(Exception):
    """A usage error: one line, exit 2."""


def run(paths: list[str], opts: Options) -> int:
    """Translate `paths`; returns the exit status (0 ok, 1 invalid output with --validate, 2 bad input/usage)."""
    try:
        mapping_options = _mapping_options(opts)
        if opts.engine == "spark":
            return _run_spark(paths, opts, mapping_options)
        inputs, problems = expand(paths)
        for line in problems:
            sys.stderr.write(line + "\n")
        if not inputs:
            if not problems:
                sys.stderr.write("interop translate: no input files found\n")
            return 2
        sink = _sink(opts, is_many(paths, inputs))
    except Usage as exc:
        sys.stderr.write(f"interop translate: {exc}\n")
        return 2
    worst = 2 if problems else 0
    try:
        with _quirks(opts.quirks):
            worst = max(worst, _translate_all(inputs, opts, mapping_options, sink))
    except Usage as exc:
        sys.stderr.write(f"interop translate: {exc}\n")
        return 2
    finally:
        sink.close()
    return worst


def _quirks(names: list[str] | None):
    """The HL7 v2 quirk profiles of --quirks in force (codecs.hl7v2.quirks.use), or nothing."""
    from contextlib import nullcontext

    if not names:
        return nullcontext()
    from interop.codecs.hl7v2 import quirks
    from interop.errors import DecodeError

    try:
        quirks.combine(tuple(names))  # an unknown name or a broken file: a usage error before any input
    except DecodeError as exc:
        raise Usage(f"--quirks: {exc.message}; expected {exc.expected}") from None
    return quirks.use(*names)


def _mapping_options(opts: Options) -> dict[str, Any]:
    fhir = opts.to.startswith("fhir")
    options: dict[str, Any] = {"bundle_type": opts.bundle} if fhir else {}
    if opts.assume_tz and fhir:
        options["assume_tz"] = opts.assume_tz
    if opts.patient and fhir:
        try:
            options["patient"] = patients(opts.patient)
        except ValueError as exc:
            raise Usage(f"--patient: {exc}") from None
    return options


def patients(values: list[str]) -> str | dict[int, str]:
    """'ID' for everyone, or 'USER=ID' pairs for a multi-user device."""
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out: dict[int, str] = {}
    for v in values:
        user, sep, ident = v.partition("=")
        if not sep or not is_ascii_digits(user.strip()) or not ident.strip():
            raise ValueError(f"{v!r}: expected ID, or USER=ID with a numeric user id")
        out[int(user)] = ident.strip()
    return out


# ---------------------------------------------------------------------------------------------- sinks

class _Lines:
    """Every output, one document per line (NDJSON; indented documents with --pretty), on stdout or in a file."""

    per_file = False

    def __init__(self, handle: IO[bytes], close: bool) -> None:
        self.handle = handle
        self._close = close

    def write(self, label: str, n: int | None, body: bytes) -> None:
        self.handle.write(body)
        self.handle.write(b"\n")

    def close(self) -> None:
        if self._close:
            self.handle.close()
        else:
            self.handle.flush()


class _Folder:
    """One file per output in a folder: name.fhir.json, or name.N.fhir.json for message N of a file of several."""

    per_file = True

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder = folder
        self.suffix = suffix

    def write(self, label: str, n: int | None, body: bytes) -> None:
        name = Path(label).name + (f".{n}" if n is not None else "") + self.suffix
        with open(self.folder / name, "wb") as f:
            f.write(body)
            f.write(b"\n")

    def close(self) -> None:
        pass


def _sink(opts: Options, many: bool) -> _Lines | _Folder:
    out = opts.output
    if out is None:
        if many:
            raise Usage("several inputs need -o DIR (one output file per input) or -o FILE.ndjson (one Bundle "
                        "per line)")
        return _Lines(sys.stdout.buffer, close=False)
    is_folder = out.is_dir() or str(out).endswith(("/", "\\")) or (many and out.suffix.lower() not in NDJSON_SUFFIXES)
    if is_folder:
        if out.exists() and not out.is_dir():
            raise Usage(f"{out} exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        return _Folder(out, SUFFIX[opts.to])
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _Lines(open(out, "wb"), close=True)  # noqa: SIM115 - closed by run()
    except OSError as exc:
        raise Usage(f"{out}: cannot write ({exc.strerror})") from None


# ---------------------------------------------------------------------------------------------- translating

def _translate_all(inputs: list[str], opts: Options, options: dict[str, Any], sink: _Lines | _Folder) -> int:
    many = len(inputs) > 1
    worst = 0
    results: list[tuple[str, str, int, int]] = []  # (input, status, resources, issues), one per input
    progress = task = None
    if many and sink.per_file:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from interop.cli.console import stderr_console

        progress = Progress(TextColumn("translating"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[name]}"), console=stderr_console(), transient=True)
        progress.start()
        task = progress.add_task("translate", total=len(inputs), name="")
    started = time.perf_counter()
    try:
        for item in inputs:
            label = "<stdin>" if item == "-" else item
            if progress is not None:
                progress.update(task, name=Path(label).name)
            status, code, count, n_issues = _one(item, label, opts, options, sink)
            worst = max(worst, code)  # 2 (bad input) outranks 1 (invalid output)
            results.append((label, status, count, n_issues))
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    if many:
        _summary(results, opts.output, time.perf_counter() - started)
    return worst


def _one(item: str, label: str, opts: Options, options: dict[str, Any], sink: _Lines | _Folder):
    """Translate every message of one input as it is read; returns (status, exit code, resources, issues)."""
    from interop.errors import DecodeError, InteropError
    from interop.pipeline import open_messages

    source: Any = sys.stdin.buffer if item == "-" else item
    try:
        standard, _, pieces = open_messages(source, opts.source, label=label if item == "-" else None)
        first = _next(pieces)
        second = _next(pieces) if first is not None else None
    except InteropError as exc:
        sys.stderr.write(f"{_with_label(str(exc), label)}\n")
        return "error", 2, 0, 0
    if first is None:
        sys.stderr.write(f"{label}: byte 0: decode error: no message in the input\n")
        return "error", 2, 0, 0
    several = second is not None
    worst, resources, n_issues = 0, 0, 0
    n = 0
    try:
        for n, (offset, raw) in enumerate(_chain(first, second, pieces), 1):
            where = f"{label}: message {n}" if several else label
            outcome = _message(raw, standard, label, where, n, offset, several, opts, options)
            if outcome is None:
                worst = 2
                continue
            body, code, count, issues = outcome
            sink.write(label, n if several else None, body)
            worst = max(worst, code)
            resources += count
            n_issues += issues
    except DecodeError as exc:  # the input broke off (a message over the size limit): what came before is out
        exc.position = f"message {n + 1}, {exc.position}" if several else exc.position
        sys.stderr.write(f"{_with_label(str(exc), label)}\n")
        worst = 2
    status = "error" if worst == 2 else "invalid" if worst == 1 else "ok"
    return status, worst, resources, n_issues


def _next(pieces: Iterator[tuple[int, bytes]]) -> tuple[int, bytes] | None:
    return next(pieces, None)


def _chain(first, second, rest) -> Iterator[tuple[int, bytes]]:
    yield first
    if second is not None:
        yield second
        yield from rest


def _message(raw: bytes, standard: str, label: str, where: str, n: int, offset: int, several: bool,
             opts: Options, options: dict[str, Any]):
    """One message → (output bytes, exit code, resources, issues), or None after its error line."""
    from interop.errors import DecodeError, InteropError
    from interop.pipeline import decode, translate

    try:
        message = decode(raw, standard, strict=opts.strict, label=label)
        result = translate(message, opts.to, **options)
        body = result.json(indent=opts.pretty) if hasattr(result, "json") else bytes(result)
    except DecodeError as exc:
        if several:  # positioned in the whole input
            exc.position = f"message {n}, {exc.position}" if exc.position else f"message {n}"
            exc.offset = offset + exc.offset if exc.offset is not None else offset
        sys.stderr.write(f"{_with_label(str(exc), label)}\n")
        return None
    except InteropError as exc:
        sys.stderr.write(f"{_with_label(str(exc), where)}\n")
        return None
    except Exception as exc:  # noqa: BLE001 - a codec or mapping bug must not hide the input's name
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"{where}: internal error while translating: {type(exc).__name__}: {exc}\n")
        return None
    code = 0
    issues = list(message.issues)
    if opts.to != "canonical":
        issues += [i for i in getattr(result, "issues", ()) if i not in message.issues]
    if opts.validate and opts.to.startswith("fhir"):
        try:
            result.to_model()
        except Exception as exc:  # noqa: BLE001 - pydantic ValidationError: our output failed the FHIR model
            first = str(exc).splitlines()
            sys.stderr.write(f"{where}: FHIR validation failed: {' '.join(first[:3])}\n")
            code = 1
    if opts.report:
        for i in issues:
            sys.stderr.write(f"{where}: {i.severity}: {i.location}: {i.message} [{i.code}]\n")
    count = getattr(result, "resource_count", None)  # a Bundle counts without copying itself
    if count is None:
        count = len(getattr(result, "resources", []) or [])
    return body, code, count, len(issues)


def _with_label(text: str, label: str) -> str:
    return text if text.startswith(label) else f"{label}: {text}"


SUMMARY_ROWS = 20  # up to this many inputs, every one gets a row; beyond, only those that failed


def _summary(results, output, seconds: float) -> None:
    from rich.table import Table

    from interop.cli.console import stderr_console

    table = Table(title=f"interop translate → {output}", show_lines=False)
    table.add_column("input")
    table.add_column("status")
    table.add_column("resources", justify="right")
    table.add_column("issues", justify="right")
    shown = results if len(results) <= SUMMARY_ROWS else [r for r in results if r[1] != "ok"]
    for label, status, count, n in shown[:50]:
        style = {"ok": "green", "error": "red", "invalid": "yellow"}[status]
        table.add_row(label, f"[{style}]{status}[/{style}]", str(count), str(n))
    if len(shown) > 50:
        table.add_row(f"... and {len(shown) - 50} more that failed", "", "", "")
    ok = sum(1 for r in results if r[1] == "ok")
    resources = sum(r[2] for r in results)
    issues = sum(r[3] for r in results)
    rate = f", {len(results) / seconds:,.0f} inputs/s" if seconds > 0 else ""
    caption = (f"{ok} of {len(results)} translated in {seconds:.1f} s{rate}; "
               f"{resources:,} resources, {issues:,} issues")
    if not shown:  # many inputs, all translated: the totals say it all
        stderr_console().print(f"interop translate → {output}: {caption}", highlight=False)
        return
    table.caption = caption
    stderr_console().print(table)


# ---------------------------------------------------------------------------------------------- Spark

SPARK_ERROR_LINES = 5  # error lines printed per failed input (all of them are in OUT/_errors)


def _run_spark(paths: list[str], opts: Options, options: dict[str, Any]) -> int:
    if opts.output is None:
        raise Usage("--engine spark needs -o DIR (one NDJSON file per partition)")
    unsupported = [name for name, on in (("--validate", opts.validate), ("--report", opts.report),
                                         ("--quirks", bool(opts.quirks)),
                                         ("--pretty", opts.pretty), ("-", "-" in paths)) if on]
    if unsupported:
        raise Usage(f"{', '.join(unsupported)}: not with --engine spark (findings are in the issues column of "
                    "interop.spark.translate)")
    try:
        from interop import spark as ispark
    except ImportError:  # pragma: no cover - the module itself imports nothing heavy
        raise
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise Usage('--engine spark needs pyspark: pip install "iomt-interop[spark]" (and Java 17+)') from None
    started = time.perf_counter()
    local = [p for p in paths if "://" not in p]
    missing = [p for p in local if not Path(p).exists() and not (set("*?[") & set(p))]
    for p in missing:
        sys.stderr.write(f"{p}: path: no such file or directory\n")
    found = [p for p in paths if p not in missing]
    if not found:
        return 2
    messages, bundles, summary = ispark.run_translate(
        found, str(opts.output), master=opts.master, to=opts.to, standard=opts.source, options=options,
        strict=opts.strict, partitions=opts.partitions)
    for path, count, failed, errors in summary:
        for line in errors[:SPARK_ERROR_LINES]:
            sys.stderr.write(line + "\n")
        more = f" ({failed - SPARK_ERROR_LINES} more in {opts.output}/_errors)" if failed > SPARK_ERROR_LINES else ""
        sys.stderr.write(f"{path}: {failed} of {count} messages failed{more}\n")
    seconds = time.perf_counter() - started
    inputs_failed = len(summary)
    sys.stderr.write(f"interop translate (spark {opts.master or 'local[*]'}) → {opts.output}: {bundles:,} of "
                     f"{messages:,} messages translated in {seconds:.1f} s"
                     + (f"; failures in {inputs_failed} input{'s' if inputs_failed != 1 else ''}"
                        if inputs_failed else "") + "\n")
    return 2 if missing or bundles < messages else 0
