"""`interop translate`: decode inputs and write FHIR (or canonical JSON) per input."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from interop.cli.options import BundleType


class Source(StrEnum):
    auto = "auto"
    hl7v2 = "hl7v2"
    ieee11073 = "ieee11073"
    gatt = "bluetooth-gatt"
    dicom = "dicom"


class Target(StrEnum):
    fhir_r4 = "fhir-r4"
    fhir_r5 = "fhir-r5"
    canonical = "canonical"
    hl7v2 = "hl7v2"



SUFFIX = {"fhir-r4": ".fhir.json", "fhir-r5": ".fhir.json", "canonical": ".canonical.json", "hl7v2": ".hl7"}
# When walking a directory, files that are documentation or code, not device data (named files are always read).
SKIP_SUFFIXES = {".md", ".py", ".pyc", ".txt", ".rst", ".json", ".csv", ".tsv", ".sh"}


def translate(
    paths: Annotated[list[str], typer.Argument(help="Files or directories to translate; '-' reads standard input.",
                                               metavar="PATH...")],
    source: Annotated[Source, typer.Option("--from", help="Input standard; 'auto' detects it from the content.")]
    = Source.auto,
    to: Annotated[Target, typer.Option("--to", help="Output: FHIR R4 or R5 Bundle, or the canonical model as JSON.")]
    = Target.fhir_r4,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Output file (one input) or directory "
                                                "(several inputs; one file each).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail at the first deviation from the standard instead "
                                         "of recording it and going on.")] = False,
    bundle: Annotated[BundleType, typer.Option("--bundle", help="FHIR Bundle type; 'transaction' uses "
                                               "conditional creates on identifiers.")] = BundleType.collection,
    validate: Annotated[bool, typer.Option("--validate", help="Validate every emitted resource with the "
                                           "fhir.resources models (slower); exit 1 on failure.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Print what was tolerated, not placed or not "
                                         "expressible (with positions) on stderr.")] = False,
    assume_tz: Annotated[str | None, typer.Option("--assume-tz", help="UTC offset for times that carry none "
                                                  "(e.g. +02:00); default: the sender's, else UTC.")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Indent the JSON output.")] = False,
    patient: Annotated[list[str] | None, typer.Option("--patient", help="Logical Patient id for personal "
                                                      "health device data that names no patient; USER=ID per "
                                                      "user of a multi-user device (repeatable).")] = None,
) -> None:
    """Translate device messages into FHIR R4/R5 Bundles (or the canonical model).

    One input prints its output on stdout (or to -o FILE). Several inputs, or a directory, need
    -o DIR and write one file per input, with a progress bar and a summary on stderr. A file that
    holds several HL7 v2 messages (a batch, an MLLP capture) gives one output per message: one JSON
    document per line, or one file each in -o DIR (name.1.fhir.json, name.2.fhir.json ...).

    Exit status: 0 all translated; 1 --validate found invalid output; 2 bad input or usage
    (one line per problem on stderr, naming the file and the position).

    Examples:

      interop translate examples/hl7v2/pcd01-vitals.hl7

      interop translate examples/ --to fhir-r5 -o out/

      cat message.hl7 | interop translate - --to canonical
    """
    inputs, problems = _expand(paths)
    for line in problems:
        sys.stderr.write(line + "\n")
    if not inputs:
        if not problems:
            sys.stderr.write("interop translate: no input files found\n")
        raise typer.Exit(2)
    many = len(inputs) > 1 or any(Path(p).is_dir() for p in paths if p != "-")
    if many and output is None:
        sys.stderr.write("interop translate: several inputs need -o DIR (one output file per input)\n")
        raise typer.Exit(2)
    if many:
        assert output is not None
        if output.exists() and not output.is_dir():
            sys.stderr.write(f"interop translate: {output} exists and is not a directory\n")
            raise typer.Exit(2)
        output.mkdir(parents=True, exist_ok=True)
    options = {"bundle_type": bundle.value} if to.value.startswith("fhir") else {}
    if assume_tz and to.value.startswith("fhir"):
        options["assume_tz"] = assume_tz
    if patient and to.value.startswith("fhir"):
        try:
            options["patient"] = _patients(patient)
        except ValueError as exc:
            sys.stderr.write(f"interop translate: --patient: {exc}\n")
            raise typer.Exit(2) from None
    worst = 2 if problems else 0
    results: list[tuple[str, str, int, int]] = []  # (input, status, resources, issues)
    progress = None
    task = None
    if many:
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
            status, code, count, n_issues = _one(item, label, source.value, to.value, options, output, many,
                                                 strict, validate, report, pretty)
            worst = max(worst, code)  # 2 (bad input) outranks 1 (invalid output)
            results.append((label, status, count, n_issues))
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    if many:
        _summary(results, output, time.perf_counter() - started)
    raise typer.Exit(worst)


def _patients(values: list[str]) -> str | dict[int, str]:
    """'ID' for everyone, or 'USER=ID' pairs for a multi-user device."""
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out: dict[int, str] = {}
    for v in values:
        user, sep, ident = v.partition("=")
        if not sep or not user.strip().isdigit() or not ident.strip():
            raise ValueError(f"{v!r}: expected ID, or USER=ID with a numeric user id")
        out[int(user)] = ident.strip()
    return out


def _expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """Files to read, in order; directories are walked (sorted); missing paths become error lines."""
    files: list[str] = []
    problems: list[str] = []
    for p in paths:
        if p == "-":
            files.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.rglob("*") if f.is_file() and f.suffix.lower() not in SKIP_SUFFIXES
                           and not f.name.startswith(".") and "__pycache__" not in f.parts)
            files.extend(found)
        elif path.exists():
            files.append(p)
        else:
            problems.append(f"{p}: path: no such file or directory")
    return files, problems


def _one(item, label, source, to, options, output, many, strict, validate, report, pretty):
    """Translate every message of one input (a file may hold several: HL7 v2 batches, MLLP captures);
    returns (status, exit code, resources, issues) for the input as a whole."""
    from interop.errors import InteropError
    from interop.pipeline import decode_all, translate_json_all

    # FHIR JSON as it comes (no other option, no validation, no indent): interop.translate_json, the
    # canonical path in one call, with the findings of decoding and mapping
    direct = to.startswith("fhir") and options.keys() <= {"bundle_type"} and not (strict or validate or pretty)
    try:
        data = sys.stdin.buffer.read() if item == "-" else item
        given = label if item == "-" else None
        if direct:
            results = list(translate_json_all(data, "R5" if to == "fhir-r5" else "R4",
                                              bundle_type=options.get("bundle_type", "collection"),
                                              standard=source, label=given))
        else:
            results = list(decode_all(data, source, strict=strict, label=given))
    except InteropError as exc:
        sys.stderr.write(f"{_with_label(str(exc), label)}\n")
        return "error", 2, 0, 0
    except Exception as exc:  # noqa: BLE001 - a codec bug must not hide the input's name
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"{label}: internal error while translating: {type(exc).__name__}: {exc}\n")
        return "error", 2, 0, 0
    several = len(results) > 1
    worst, resources, n_issues, bodies = 0, 0, 0, []
    for n, message in enumerate(results, 1):
        where = f"{label}: message {n}" if several else label
        if isinstance(message, InteropError):  # one bad message of several: the others still go out
            sys.stderr.write(f"{_with_label(str(message), label)}\n")
            worst = 2
            continue
        if direct:  # a pipeline.Translation: JSON, resources and the findings of decoding and mapping
            if report:
                _report(message.issues, where)
            bodies.append((n, message.json))
            resources += message.resources
            n_issues += len(message.issues)
            continue
        outcome = _translate_one(message, where, to, options, validate, report, pretty)
        if outcome is None:
            worst = 2
            continue
        body, code, count, issues = outcome
        worst = max(worst, code)
        resources += count
        n_issues += issues
        bodies.append((n, body))
    _write(bodies, label, to, output, many, several)
    status = "error" if worst == 2 else "invalid" if worst == 1 else "ok"
    return status, worst, resources, n_issues


def _translate_one(message, where, to, options, validate, report, pretty):
    """One decoded message → (output bytes, exit code, resources, issues), or None after an error line."""
    from interop.errors import InteropError
    from interop.pipeline import translate

    try:
        result = translate(message, to, **options)
        body = result.json(indent=pretty) if hasattr(result, "json") else bytes(result)
    except InteropError as exc:
        sys.stderr.write(f"{_with_label(str(exc), where)}\n")
        return None
    except Exception as exc:  # noqa: BLE001 - a mapping bug must not hide the input's name
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(f"{where}: internal error while translating: {type(exc).__name__}: {exc}\n")
        return None
    code = 0
    issues = list(message.issues) + list(getattr(result, "issues", []) if result is not None else [])
    if to != "canonical":
        issues = list(message.issues) + [i for i in getattr(result, "issues", []) if i not in message.issues]
    if validate and to.startswith("fhir"):
        try:
            result.to_model()
        except Exception as exc:  # pydantic ValidationError: our output failed the FHIR model
            first = str(exc).splitlines()
            sys.stderr.write(f"{where}: FHIR validation failed: {' '.join(first[:3])}\n")
            code = 1
    if report:
        _report(issues, where)
    count = getattr(result, "resource_count", None)  # a Bundle counts without copying itself
    if count is None:
        count = len(getattr(result, "resources", []) or [])
    return body, code, count, len(issues)


def _report(issues, where: str) -> None:
    for i in issues:
        sys.stderr.write(f"{where}: {i.severity}: {i.location}: {i.message} [{i.code}]\n")


def _write(bodies, label, to, output, many, several) -> None:
    """Outputs of one input: a file per message in -o DIR ("name.2.fhir.json" when the input held
    several), else one document per line on stdout or in -o FILE."""
    if many:
        name = Path(label).name
        for n, body in bodies:
            (output / (name + (f".{n}" if several else "") + SUFFIX[to])).write_bytes(body + b"\n")
        return
    text = b"".join(body + b"\n" for _, body in bodies)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(text)
    else:
        sys.stdout.buffer.write(text)
        sys.stdout.flush()


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


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.command("translate")(translate)
