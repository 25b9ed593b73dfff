"""The `interop` command (typer). Subcommands live in `cmd_*.py` modules, one per verb family;
each module must import only light modules at top level (heavy libraries inside the command).

`run` is the console-script entry point and the one error path every command shares: bad input,
usage and transport errors become one line on stderr and exit 2, never a traceback (unless
--debug). `interop --version` is answered before typer is imported.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

# Each command module registers its commands on the apps built by `build_app`.
_COMMAND_MODULES = (
    "interop.cli.cmd_translate",
    "interop.cli.cmd_explain",
    "interop.cli.cmd_x73",
    "interop.cli.cmd_dicom",
    "interop.cli.cmd_validate",
    "interop.cli.cmd_conformance",
    "interop.cli.cmd_mllp",
    "interop.cli.cmd_queue",
)

HELP = ("Translate and validate medical device data: HL7 v2, IEEE 11073-20601 / Bluetooth GATT, DICOM "
        "→ canonical model → FHIR R4/R5.")

# errno values of a listening socket that cannot be opened, in the words `cannot listen on` ends with
_LISTEN_ERRORS = {
    errno.EADDRINUSE: "address already in use",
    errno.EADDRNOTAVAIL: "address not available on this machine",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
}


def version_line() -> str:
    from interop import __version__

    return f"interop (iomt-interop) {__version__}, Python {sys.version.split()[0]}"


def build_app() -> Any:
    """The typer application with every command family that is part of this build registered."""
    import typer

    app = typer.Typer(name="interop", help=HELP, no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)
    serve_app = typer.Typer(help="Run a network listener that receives device data and emits FHIR.",
                            no_args_is_help=True)
    simulate_app = typer.Typer(help="Play a device against a peer, for testing.", no_args_is_help=True)
    app.add_typer(serve_app, name="serve")
    app.add_typer(simulate_app, name="simulate")

    def show_version(value: bool) -> None:
        if value:
            sys.stdout.write(version_line() + "\n")
            raise typer.Exit(0)

    @app.callback()
    def main(version: bool = typer.Option(False, "--version", "-V", help="Show the version and exit.",
                                          callback=show_version, is_eager=True)) -> None:
        """Translate and validate medical device data: HL7 v2, IEEE 11073-20601 / Bluetooth GATT, DICOM
        → canonical model → FHIR R4/R5."""

    from importlib import import_module

    for name in _COMMAND_MODULES:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command family is not part of this build
                continue
            raise
        module.register(app, serve_app, simulate_app)
    _reflow_help(app)
    return app


def reflow(text: str) -> str:
    """A help text as paragraphs: the lines of a paragraph joined into one, so that the terminal (rich)
    wraps it at its own width. Blank lines separate paragraphs; indented lines (examples) and list items
    ("- ...", "* ...") keep their own line. typer keeps a docstring's line breaks, which on an 80-column
    terminal left ragged half-lines after every source line."""
    out: list[str] = []
    joinable = False  # whether the last line of `out` is paragraph text the next line continues
    import inspect

    for line in inspect.cleandoc(text).splitlines():
        stripped = line.strip()
        if not stripped:
            out.append("")
            joinable = False
        elif line[:1].isspace() or stripped[:2] in ("- ", "* "):
            out.append(line.rstrip())
            joinable = stripped[:2] in ("- ", "* ")  # a list item's text may run on to the next lines
        elif joinable:
            out[-1] += " " + stripped
        else:
            out.append(stripped)
            joinable = True
    return "\n".join(out)


def _reflow_help(app: Any) -> None:
    """`reflow` the help of every command and command group of `app`, recursively."""
    import inspect

    for info in app.registered_commands:
        text = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if text:
            info.help = reflow(text)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is not None:
            _reflow_help(sub)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: no traceback on bad input unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
        if "--debug" not in sys.argv:
            sys.argv.append("--debug")  # commands look for it to re-raise codec bugs
    if args in (["--version"], ["-V"]):
        sys.stdout.write(version_line() + "\n")
        sys.exit(0)
    try:
        if args and args[0] == "translate":
            from interop.cli.fast import translate_fast

            code = translate_fast(args[1:])  # None: an option the fast path does not read; typer parses it
            if code is not None:
                sys.exit(code)
        app = build_app()
        app(args=args, prog_name="interop")
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (`interop translate big.hl7 | head`): stop quietly
        _quiet_stdout()
        sys.exit(141)  # 128 + SIGPIPE, as a shell reports a command ended by a closed pipe
    except SystemExit:
        if sys.stdout is not None:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                _quiet_stdout()
                sys.exit(141)
        raise
    except Exception as exc:  # last line of defence: one line, exit 2
        if debug:
            raise
        try:
            line = error_line(exc, args)
        except Exception:  # noqa: BLE001 - wording the line must never turn into a traceback
            line = f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for a traceback)"
        sys.stderr.write(line + "\n")
        sys.exit(2)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again on the closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def error_line(exc: BaseException, args: list[str]) -> str:
    """The one line an error that reached the top becomes."""
    from interop.errors import InteropError

    listen = _listen_failure(exc)
    if listen is not None:
        host, port = _listen_address(exc, args)
        return f"cannot listen on {host}:{port}: {listen}"
    if isinstance(exc, InteropError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror.lower()}{where} (re-run with --debug for a traceback)"
    return f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for a traceback)"


def _listen_failure(exc: BaseException) -> str | None:
    """Why a listening socket could not be opened, when that is what `exc` (or what it was raised from) is."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno in _LISTEN_ERRORS:
            return _LISTEN_ERRORS[seen.errno]
        seen = seen.__cause__ or seen.__context__
    return None


def _listen_address(exc: BaseException, args: list[str]) -> tuple[str, str]:
    """(host, port) the command was asked to listen on: its --host/--port as the command line resolves
    them, defaults included (every `serve` command has both)."""
    params = _command_params(args)
    host, port = params.get("host"), params.get("port")
    return str(host if host is not None else "?"), str(port if port is not None else "?")


def _command_params(args: list[str]) -> dict[str, Any]:
    """The parameters (defaults applied) of the subcommand `args` names, parsed by click as it would."""
    import typer.main  # (typer carries its own click)

    try:
        command = typer.main.get_command(build_app())
        ctx = command.make_context("interop", list(args), resilient_parsing=True)
        while hasattr(command, "resolve_command"):  # a group: go down to the subcommand named
            rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
            if not rest:
                break
            name, sub, rest = command.resolve_command(ctx, rest)
            if sub is None:
                break
            command = sub
            ctx = sub.make_context(name or "", rest, parent=ctx, resilient_parsing=True)
        return dict(ctx.params)
    except Exception:  # noqa: BLE001 - only used to word an error line; never hide the original error
        return {}


if __name__ == "__main__":
    run()
