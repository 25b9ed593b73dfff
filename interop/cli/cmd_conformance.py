"""`interop conformance`: the assertion catalogue, and runs of a vendor's test directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

conformance_app = typer.Typer(help="The conformance suite: list assertions, run a vendor's test inputs, "
                              "stand up live test endpoints.", no_args_is_help=True)


@conformance_app.command("assertions")
def assertions(
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Only this profile's assertions "
                                                "(with the profiles it includes).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per assertion.")] = False,
) -> None:
    """List the assertions: id, severity, profiles, what each checks and the spec section it comes from."""
    from interop.conformance.catalogue import catalogue
    from interop.conformance.profiles import assertions_for
    from interop.errors import InteropError

    try:
        rows = assertions_for(profile) if profile else list(catalogue())
    except InteropError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2) from None
    if as_json:
        import orjson

        for a in rows:
            sys.stdout.buffer.write(orjson.dumps({"id": a.id, "standard": a.standard, "severity": a.severity,
                                                  "profiles": list(a.profiles), "summary": a.summary,
                                                  "reference": a.reference}) + b"\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} assertions" + (f" in profile {profile}" if profile else ""),
                  title_justify="left")
    for col in ("id", "severity", "profiles", "checks", "reference"):
        table.add_column(col, overflow="fold")
    for a in rows:
        table.add_row(a.id, a.severity, ", ".join(a.profiles), a.summary, a.reference)
    Console(width=max(160, Console().width)).print(table)


@conformance_app.command("profiles")
def profiles() -> None:
    """List the profile names and how many assertions each runs."""
    from interop.conformance.profiles import PROFILES, XML_PROFILE, assertions_for

    for name, p in PROFILES.items():
        n = len(assertions_for(name))
        inc = f" (includes {', '.join(p.includes)})" if p.includes else ""
        note = "" if name != XML_PROFILE else " [--profile FILE.xml]"
        sys.stdout.write(f"{name:<12} {n:>4} assertions  {p.title}{inc}{note}\n")


@conformance_app.command("run")
def run_dir(
    directory: Annotated[str, typer.Argument(help="Directory of the vendor's test inputs (every file under it).")],
    vendor: Annotated[Path | None, typer.Option("--vendor", help="Vendor capability file (YAML).")] = None,
    profile: Annotated[str, typer.Option("--profile", "-p", help="Profile name, XML profile file or 'auto'.")]
    = "auto",
    report: Annotated[str, typer.Option("--report", "-r", help="terminal, json, junit or html")] = "terminal",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
) -> None:
    """Run the suite on a vendor's test directory and hold the results to its capability file.

    The report lists what was claimed and not exercised, what was exercised and not claimed, and
    each non-conformance. Exit code 1 when any error is found, 0 otherwise, 2 for unusable input."""
    from .cmd_validate import fail_usage, run_and_report

    if not Path(directory).is_dir():
        raise fail_usage(f"{directory}: not a directory")
    run_and_report([directory], profile, vendor, report, output)


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.add_typer(conformance_app, name="conformance")
    try:  # live test endpoints (`conformance listen`), when that part is installed
        from interop.conformance.live.cli import register as register_live
    except ModuleNotFoundError as exc:
        if exc.name not in ("interop.conformance.live", "interop.conformance.live.cli"):
            raise
    else:
        register_live(conformance_app)
