"""`interop translate` without building the typer application: start-up is most of the time of
translating one message, and typer, click and rich (the help, the error formatting, the other
commands) are not needed to read a command line of known options.

`translate_fast` reads exactly the options of `cmd_translate.translate` (a test compares the two
lists); anything else (--help, an unknown option, a bad choice, a missing value) returns None and the
typer command parses the line, with its own messages.
"""

from __future__ import annotations

from pathlib import Path

from interop.cli.translation import BUNDLES, ENGINES, SOURCES, TARGETS, Options, run
from interop.text import is_ascii_digits

# option → (Options field, choices or type); flags have `bool`
OPTIONS: dict[str, tuple[str, object]] = {
    "--from": ("source", SOURCES),
    "--to": ("to", TARGETS),
    "-o": ("output", Path),
    "--output": ("output", Path),
    "--strict": ("strict", bool),
    "--bundle": ("bundle", BUNDLES),
    "--validate": ("validate", bool),
    "--report": ("report", bool),
    "--assume-tz": ("assume_tz", str),
    "--pretty": ("pretty", bool),
    "--patient": ("patient", list),
    "--engine": ("engine", ENGINES),
    "--master": ("master", str),
    "--partitions": ("partitions", int),
    "--quirks": ("quirks", list),
}


def parse(args: list[str]) -> tuple[list[str], Options] | None:
    """(paths, options) of a `translate` command line, or None when typer should read it."""
    opts = Options()
    paths: list[str] = []
    i = 0
    only_paths = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_paths or arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            continue
        if arg == "--":
            only_paths = True
            continue
        name, eq, value = arg.partition("=")
        spec = OPTIONS.get(name)
        if spec is None:
            return None
        field, kind = spec
        if kind is bool:
            if eq:
                return None
            setattr(opts, field, True)
            continue
        if not eq:
            if i >= len(args):
                return None
            value = args[i]
            i += 1
        if isinstance(kind, tuple):
            if value not in kind:
                return None
            setattr(opts, field, value)
        elif kind is list:
            setattr(opts, field, [*(getattr(opts, field) or []), value])
        elif kind is int:
            if not is_ascii_digits(value):
                return None
            setattr(opts, field, int(value))
        else:
            setattr(opts, field, kind(value))  # type: ignore[operator]
    if not paths:
        return None
    return paths, opts


def translate_fast(args: list[str]) -> int | None:
    """Exit status of `interop translate ARGS`, or None when the typer command should handle ARGS."""
    parsed = parse(args)
    if parsed is None:
        return None
    return run(*parsed)
