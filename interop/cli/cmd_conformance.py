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
                                                "(with the profiles it includes), or a site XML profile "
                                                "file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per assertion.")] = False,
) -> None:
    """List the assertions: id, severity, profiles, what each checks and the spec section it comes from.

    With --profile FILE.xml (a site's NIST IGAMT / Messaging Workbench profile) also its predicates,
    conformance statements and co-constraints, and whether each is evaluated or reported as not evaluated."""
    from interop.conformance.catalogue import catalogue
    from interop.conformance.profiles import assertions_for
    from interop.errors import InteropError

    user = None
    try:
        if profile and profile.lower().endswith(".xml"):
            from interop.conformance.profiles import select

            sel = select(profile)
            rows, user = sel.assertions, sel.user_profile
        else:
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
    console = Console(width=max(160, Console().width))
    console.print(table)
    if user is not None:
        console.print(_profile_rules(user))


def _profile_rules(user) -> object:
    """What a site's XML profile adds beyond usage and cardinality, and whether each rule is evaluated."""
    from rich.table import Table

    from interop.conformance.hl7v2.profile_expr import unsupported

    table = Table(title=f"{user.title} (revision {user.revision or '-'}, HL7 v{user.version or '-'}, "
                  f"{user.msg_type}^{user.event}): predicates, conformance statements, co-constraints",
                  title_justify="left")
    for col in ("rule", "context", "element", "what", "evaluated"):
        table.add_column(col, overflow="fold")

    def verdict(kind: str, el) -> str:
        why = unsupported(el, user.value_sets)
        return "yes" if why is None else f"no: {why} (PRF-NEV-001 info)"

    for p in user.predicates:
        table.add_row(f"predicate {p.id}", f"{p.context_kind} {p.context}", p.target,
                      f"C({p.true_usage}/{p.false_usage}): {p.description}", verdict(p.context_kind, p.condition))
    for st in user.statements:
        table.add_row(f"statement {st.id}", f"{st.context_kind} {st.context}", st.target, st.description,
                      verdict(st.context_kind, st.assertion))
    for c in user.coconstraints:
        what = ", ".join(f"{x.get('Name') or x.get('Path')}={x.get('Value') or x.get('Code') or 'value set'}"
                         for x in c.constraints)
        cells = [x for x in (*c.selectors, *c.constraints) if x.tag != "Code"]  # Code cells are always read
        if c.condition is not None:
            cells.append(c.condition)
        why = next((w for w in (unsupported(x, user.value_sets) for x in cells) if w), None)
        where = f"{c.segment} in each {c.context} {c.context_path}" if c.context else c.segment
        group = f" group {c.group}{' primary' if c.primary else ''}" if c.group else ""
        table.add_row(f"co-constraint ({c.usage}){group}", where, c.label, what,
                      "yes" if why is None else f"no: {why} (PRF-NEV-001 info)")
    return table


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
