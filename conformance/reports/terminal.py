"""Terminal summary (rich): one table of inputs, then each finding with its location and reference."""

from __future__ import annotations

import io

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render(report, width: int = 120, color: bool = False) -> str:  # noqa: ANN001
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, color_system="standard" if color else None,
                      highlight=False)
    print_report(report, console)
    return buf.getvalue()


def print_report(report, console) -> None:  # noqa: ANN001
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"conformance: {report.profile}", title_justify="left")
    for col in ("input", "assertions", "errors", "warnings", "info"):
        table.add_column(col, justify="left" if col == "input" else "right")
    for res in report.results:
        info = sum(f.severity == "info" for f in res.findings)
        table.add_row(res.input, str(res.checked), Text(str(res.errors), "bold red" if res.errors else ""),
                      Text(str(res.warnings), "yellow" if res.warnings else ""), str(info))
    console.print(table)
    for res in report.results:
        if not res.findings:
            continue
        console.print(Text(res.input, style="bold"))
        for f in res.findings:
            line = Text("  ")
            line.append(f"{f.severity:<7}", SEVERITY_STYLE.get(f.severity, ""))
            line.append(f" {f.assertion:<14} {f.location}: {f.message}")
            line.append(f"  [{f.reference}]", "dim")
            console.print(line)
    if report.vendor is not None:
        from .vendor_text import print_vendor

        print_vendor(report.vendor, console)
    s = report.summary()
    verdict = Text("FAIL" if s["errors"] else "PASS", "bold red" if s["errors"] else "bold green")
    console.print(Text(f"{s['inputs']} input(s), {s['errors']} error(s), {s['warnings']} warning(s): ") + verdict)
