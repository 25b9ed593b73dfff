"""`interop explain`: which source position became which output element (field-level lineage)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def explain(
    path: Annotated[str, typer.Argument(help="One input file ('-' for standard input).")],
    to: Annotated[str, typer.Option("--to", help="fhir-r4 or fhir-r5")] = "fhir-r4",
    as_json: Annotated[bool, typer.Option("--json", help="Print the links as JSON lines instead of a table.")]
    = False,
) -> None:
    """Show which source position (segment/field, APDU handle, DICOM tag) became which FHIR element.

    Prints one line per link (source position, byte offset, resource, element) on stdout, then on
    stderr everything the decoder tolerated or could not place and what FHIR could not express."""
    from interop.errors import InteropError
    from interop.lineage import lineage
    from interop.pipeline import decode, translate

    try:
        message = decode(sys.stdin.buffer.read() if path == "-" else path, label="<stdin>" if path == "-" else None)
        bundle = translate(message, to)
    except InteropError as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(2) from None
    links = lineage(message, bundle.resources)
    if as_json:
        import orjson

        for link in links:
            sys.stdout.buffer.write(orjson.dumps(link.__dict__) + b"\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"lineage: {path} → {to}")
        for column in ("source", "byte", "resource", "element"):
            table.add_column(column)
        for link in links:
            table.add_row(link.source, "" if link.offset is None else str(link.offset), link.resource,
                          link.element)
        Console(width=max(120, Console().width)).print(table)
    for issue in list(message.issues) + list(bundle.issues):
        sys.stderr.write(f"{issue.severity}: {issue.location}: {issue.message} [{issue.code}]\n")


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    app.command("explain")(explain)
