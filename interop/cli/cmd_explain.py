"""`interop explain`: which source position became which output element (field-level lineage)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def explain(
    path: Annotated[str, typer.Argument(help="One input file ('-' for standard input).")],
    to: Annotated[str, typer.Option("--to", help="fhir-r4 or fhir-r5")] = "fhir-r4",
) -> None:
    """Show which source position (segment/field, APDU handle, DICOM tag) became which FHIR element.

    Lists every metric with its position and the Observation element it became, then everything
    the decoder tolerated or could not place."""
    from interop.errors import InteropError
    from interop.pipeline import decode, translate

    try:
        message = decode(sys.stdin.buffer.read() if path == "-" else path, label="<stdin>" if path == "-" else None)
        bundle = translate(message, to)
    except InteropError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2) from None
    from rich.table import Table

    from interop.cli.console import stderr_console

    observations = [r for r in bundle.resources if r["resourceType"] == "Observation"]
    table = Table(title=f"lineage: {path} → {to}")
    table.add_column("source position")
    table.add_column("code")
    table.add_column("FHIR")
    table.add_column("element")
    for metric, obs in zip(message.metrics, observations, strict=False):
        value_key = next((k for k in obs if k.startswith("value") or k in ("component", "dataAbsentReason")), "-")
        code = metric.code.codings[0].display or metric.code.codings[0].code if metric.code.codings else "-"
        where = metric.source.location if metric.source else "-"
        if metric.source and metric.source.offset is not None:
            where += f" @byte {metric.source.offset}"
        table.add_row(where, code, f"Observation/{obs['id'][:12]}…", value_key)
    stderr_console().print(table)
    for issue in list(message.issues) + list(bundle.issues):
        sys.stderr.write(f"{issue.severity}: {issue.location}: {issue.message} [{issue.code}]\n")


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.command("explain")(explain)
