"""Shared rich console on stderr (progress bars, tables); stdout stays for data."""

from __future__ import annotations

from functools import cache


@cache
def stderr_console():
    from rich.console import Console

    return Console(stderr=True)
