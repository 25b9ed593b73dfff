"""Reporters: one module per format, each a function `render(report) -> str` (terminal prints)."""

from __future__ import annotations

FORMATS = ("terminal", "json", "junit", "html")


def render(report, fmt: str) -> str:  # noqa: ANN001 - runner.Report, imported lazily
    """The report in one of FORMATS (terminal: plain text of the rich summary)."""
    if fmt == "json":
        from .json_report import render as r
    elif fmt == "junit":
        from .junit import render as r
    elif fmt == "html":
        from .html import render as r
    elif fmt == "terminal":
        from .terminal import render as r
    else:
        raise ValueError(f"unknown report format {fmt!r}; one of {', '.join(FORMATS)}")
    return r(report)
