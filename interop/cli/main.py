"""The `interop` command (typer). Subcommands live in `cmd_*.py` modules, one per verb family;
each module must import only light modules at top level (heavy libraries inside the command)."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="interop",
    help="Translate and validate medical device data: HL7 v2, IEEE 11073-20601 / Bluetooth GATT, DICOM "
    "→ canonical model → FHIR R4/R5.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
serve_app = typer.Typer(help="Run a network listener that receives device data and emits FHIR.", no_args_is_help=True)
simulate_app = typer.Typer(help="Play a device against a peer, for testing.", no_args_is_help=True)
app.add_typer(serve_app, name="serve")
app.add_typer(simulate_app, name="simulate")

# Each command module registers its commands on the apps above.
_COMMAND_MODULES = (
    "interop.cli.cmd_translate",
    "interop.cli.cmd_explain",
    "interop.cli.cmd_x73",
    "interop.cli.cmd_dicom",
    "interop.cli.cmd_validate",
    "interop.cli.cmd_conformance",
)


def _register() -> None:
    from importlib import import_module

    for name in _COMMAND_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command family is not part of this build
                continue
            raise
        module.register(app, serve_app, simulate_app)


def run() -> None:
    """Console-script entry point: no traceback on bad input unless --debug."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    _register()
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # last line of defence: one line, exit 2
        if debug:
            raise
        from interop.errors import InteropError

        if isinstance(exc, InteropError):
            sys.stderr.write(f"{exc}\n")
        else:
            sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for a traceback)\n")
        sys.exit(2)


if __name__ == "__main__":
    run()
