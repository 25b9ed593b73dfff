"""`interop queue status|retry|purge --store DIR`: the durable store-and-forward queue of a listener."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

queue_app = typer.Typer(help="Show and manage the durable store-and-forward queue of `interop serve ...`.",
                        no_args_is_help=True)

StoreOpt = Annotated[Path, typer.Option("--store", help="The listener's --store directory (or its store.sqlite3).")]


def _open(store: Path):
    from interop.errors import UsageError
    from interop.transport.store import DB_NAME, DurableStore

    db = store if store.suffix in (".sqlite3", ".sqlite", ".db") else store / DB_NAME
    if not db.exists():
        raise UsageError(f"{store}: no queue here (expected {db})")
    return DurableStore(db)


@queue_app.command("status")
def status(
    store: StoreOpt,
    show: Annotated[int, typer.Option("--show", help="List up to this many failed/dead rows with their reason.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rows per status and kind; the oldest pending row; failed (untranslatable) and dead (refused by the
    FHIR server) rows with their reasons."""
    import orjson

    with _open(store) as s:
        stats = s.stats()
        problems = [r for st in ("dead", "failed", "partial") for r in s.rows(st, limit=show)]
        waiting = [r for r in s.rows("pending", limit=2000) if r.attempts][:show]
    counts: dict[str, int] = {}
    for st, _, n in stats["by_status_kind"]:
        counts[st] = counts.get(st, 0) + n
    if as_json:
        doc = {"counts": counts, "by_kind": [{"status": st, "kind": k, "rows": n} for st, k, n in stats["by_status_kind"]],
               "oldest_pending_age_s": stats["oldest_pending_age"], "max_attempts": stats["max_attempts"],
               "problems": [{"id": r.id, "kind": r.kind, "key": r.key, "status": r.status, "reason": r.reason,
                             "attempts": r.attempts} for r in problems],
               "retrying": [{"id": r.id, "key": r.key, "attempts": r.attempts, "next_in_s": max(0.0, r.next_at - time.time()),
                             "reason": r.reason} for r in waiting]}
        sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"queue {store}")
    for col in ("status", "kind", "rows"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for st, k, n in sorted(stats["by_status_kind"]):
        table.add_row(st, k, str(n))
    console.print(table)
    age = stats["oldest_pending_age"]
    console.print(f"pending {counts.get('pending', 0)}, done {counts.get('done', 0)}, failed {counts.get('failed', 0)}, "
                  f"dead {counts.get('dead', 0)}"
                  + (f", partial {counts['partial']}" if counts.get("partial") else "")  # emitted, input lost data
                  + (f"; oldest pending {age:.0f} s old" if age is not None else ""))
    for r in waiting:
        console.print(f"retrying #{r.id} {r.kind} {r.key}: attempt {r.attempts}, next in "
                      f"{max(0.0, r.next_at - time.time()):.0f} s: {r.reason}", markup=False)
    for r in problems:
        console.print(f"{r.status} #{r.id} {r.kind} {r.key}: {r.reason}", markup=False)


@queue_app.command("retry")
def retry(
    store: StoreOpt,
    ids: Annotated[list[int] | None, typer.Argument(help="Row ids (default: every failed and dead row).",
                                                    show_default=False)] = None,
    dead_only: Annotated[bool, typer.Option("--dead-only", help="Only rows the FHIR server refused.")] = False,
) -> None:
    """Put failed/dead rows back in the queue (after fixing the cause); a running listener picks them up
    within a second. Pending rows waiting for a back-off are made due now too."""
    with _open(store) as s:
        n = s.retry(ids or None, statuses=("dead",) if dead_only else ("dead", "failed"))
    sys.stderr.write(f"{n} row(s) queued again\n")


@queue_app.command("purge")
def purge(
    store: StoreOpt,
    status_: Annotated[list[str] | None, typer.Option(
        "--status", help="Statuses to delete (repeatable): done, partial, failed, dead. Default: done.")] = None,
    older_than: Annotated[float, typer.Option("--older-than", help="Only rows last changed this many hours ago.")] = 0.0,
) -> None:
    """Delete finished rows to keep the queue small. Pending rows (acknowledged, not yet forwarded) are never
    purged."""
    from interop.errors import UsageError

    statuses = tuple(status_ or ["done"])
    for st in statuses:
        if st not in ("done", "partial", "failed", "dead"):
            raise UsageError(f"--status {st!r}: expected done, partial, failed or dead (pending rows are never purged)")
    with _open(store) as s:
        n = s.purge(statuses, older_than=older_than * 3600)
    sys.stderr.write(f"{n} row(s) deleted\n")


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    """Add `queue status|retry|purge`."""
    app.add_typer(queue_app, name="queue")
