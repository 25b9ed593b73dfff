"""`interop validate`: check inputs against a conformance profile and report (terminal, JSON, JUnit, HTML)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

PROFILE_HELP = ("Profile name (hl7v2, ihe-pcd-01, ihe-pcd-04, x73-20601, phd, pocd, dicom, fhir-r4, fhir-r5), "
                "an HL7 v2 conformance profile XML file (NIST IGAMT / Messaging Workbench), or 'auto' "
                "(chosen per input: its kind and, for HL7 v2, the MSH-21 profile id).")


# One paragraph a line: rich keeps the line breaks of a help text, so each paragraph is one string.
VALIDATE_HELP = "\n\n".join((
    "Validate device messages against a conformance profile (HL7 v2, IHE PCD-01/04, IEEE 11073-20601, DICOM, "
    "FHIR) and report what does not conform.",
    "Every finding names its assertion (PCD01-OBX-018), severity, location (OBX[3].6, a DICOM attribute path, "
    "an APDU byte offset) and the section of the standard it comes from (a link in the HTML report); a message "
    "that cannot be decoded is a finding too, with its position.",
    "Severities: an error fails the run; warnings and info never do. A site profile (--profile FILE.xml, a NIST "
    "IGAMT or HL7 Messaging Workbench export; its .constraints.xml, .coconstraints.xml and value set files "
    "beside it are read too): R empty is an error, RE empty is info (required, but may be empty), X valued is "
    "an error, C(a/b) follows its predicate; a predicate, statement or co-constraint the suite cannot evaluate "
    "is listed as info (\"predicate not evaluated: ...\"), never dropped. The report names the profile and its "
    "revision.",
    "Exit codes: 0 no error, 1 at least one error, 2 unusable input or usage (one line on stderr). The "
    "catalogue: interop conformance assertions --profile P; the profiles: interop conformance profiles.",
    "Examples:",
    "  interop validate feed.hl7 --profile ihe-pcd-01 --report html -o report.html",
    "  interop validate msgs/ --profile site-profile.xml --report junit -o conformance.xml",
    "  interop validate capture.x73 --profile x73-20601 --vendor acme.yaml",
))


def fail_usage(message: str) -> typer.Exit:
    """One line on stderr, exit code 2."""
    sys.stderr.write(f"{message}\n")
    return typer.Exit(2)


def run_and_report(paths: list[str], profile: str, vendor: Path | None, report: str, output: Path | None) -> None:
    """Shared by `interop validate` and `interop conformance run`."""
    from interop.conformance.reports import FORMATS
    from interop.errors import InteropError

    if report not in FORMATS:
        raise fail_usage(f"--report must be one of {', '.join(FORMATS)}; got {report!r}")
    for p in paths:
        if not Path(p).exists():
            raise fail_usage(f"{p}: no such file or directory")
    from interop.conformance.runner import expand, run

    if not expand(paths):
        raise fail_usage(f"{', '.join(paths)}: no input files")
    try:
        cap = None
        if vendor is not None:
            from interop.conformance.vendor import load

            cap = load(vendor)
        result = run(paths, profile, cap)
    except InteropError as exc:
        raise fail_usage(str(exc)) from None
    if report == "terminal" and output is None:
        from rich.console import Console

        from interop.conformance.reports.terminal import print_report

        print_report(result, Console(highlight=False))
    else:
        from interop.conformance.reports import render

        text = render(result, report)
        if output is None:
            sys.stdout.write(text)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise fail_usage(f"{output}: cannot write report: {exc.strerror or exc}") from None
            s = result.summary()
            sys.stderr.write(f"{output}: {s['inputs']} input(s), {s['errors']} error(s), "
                             f"{s['warnings']} warning(s)\n")
    raise typer.Exit(result.exit_code)


def validate(
    paths: Annotated[list[str], typer.Argument(help="Input files or directories (every file under them).")],
    profile: Annotated[str, typer.Option("--profile", "-p", help=PROFILE_HELP)] = "auto",
    vendor: Annotated[Path | None, typer.Option("--vendor", help="Vendor capability file (YAML): claims "
                                                "checked against what the inputs exercise.")] = None,
    report: Annotated[str, typer.Option("--report", "-r", help="terminal, json, junit or html")] = "terminal",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    quirks: Annotated[list[str] | None, typer.Option("--quirks", help="HL7 v2 quirk profile(s) the inputs are "
                                                     "decoded with for the FHIR checks (see interop translate "
                                                     "--help); the HL7 v2 rules still judge the message as "
                                                     "sent.")] = None,
) -> None:
    """Validate device messages against a conformance profile (the help text is VALIDATE_HELP)."""
    if not quirks:
        run_and_report(paths, profile, vendor, report, output)
        return
    from interop.codecs.hl7v2 import quirks as hl7v2_quirks
    from interop.errors import DecodeError

    try:
        hl7v2_quirks.combine(tuple(quirks))
    except DecodeError as exc:
        raise fail_usage(f"--quirks: {exc.message}; expected {exc.expected}") from None
    with hl7v2_quirks.use(*quirks):  # the conformance engine decodes through interop.decode
        run_and_report(paths, profile, vendor, report, output)


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.command("validate", help=VALIDATE_HELP)(validate)
