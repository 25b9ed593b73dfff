"""The JSON report of DESIGN.md: {"summary": {...}, "results": [{"input", "findings"}]}."""

from __future__ import annotations

import orjson


def render(report) -> str:  # noqa: ANN001
    return orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
