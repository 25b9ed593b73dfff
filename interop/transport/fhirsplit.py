"""A transaction Bundle cut into transactions a FHIR server with transaction limits accepts.

Medplum (its server and its FHIR engine @medplum/fhir-router) refuses a transaction that needs strict
isolation (any conditional create, update or delete) and holds more than 8 entries ("Transaction requires
strict isolation but has too many entries"), and any transaction with more than 50 updates ("Transaction
contains more update operations than allowed"). A 20601 association (a Device created with `ifNoneExist`
and tens of Observations) passes both limits; other servers (HAPI, Blaze) have none.

The cut keeps what the transaction means, except atomicity across the pieces:

1. entries whose server id is known in advance (PUT by id) are referenced as `Type/id` instead of their
   `urn:uuid` full URL (FHIR R4 3.1.0.11.2: the server resolves such references the same way);
2. the conditional entries (create with `ifNoneExist`, conditional update/delete) and plain creates go
   first, in transactions of at most `strict_entries`, in an order where an entry comes after the entries it
   refers to; the `Location` each gets in the response replaces its `urn:uuid` in every later reference;
3. the rest (now free of `urn:uuid` references to each other) in transactions of at most `entries`.

Every piece is idempotent (PUT by id, conditional create/update), so a piece that fails is retried with
the whole Bundle by the store-and-forward engine and converges without duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STRICT_ENTRIES = 8  # Medplum: transactions with conditional operations
ENTRIES = 50  # Medplum: updates per transaction

# what a server says when a transaction is over its limits (Medplum's OperationOutcome texts)
LIMIT_MESSAGES = ("requires strict isolation but has too many entries",
                  "contains more update operations than allowed")

Send = Callable[[dict[str, Any]], dict[str, Any]]  # a transaction Bundle -> the transaction-response Bundle


def over_limit(outcome_text: str) -> bool:
    """True when a server's refusal says the transaction is over its size limits."""
    return any(m in outcome_text for m in LIMIT_MESSAGES)


def _conditional(entry: dict[str, Any]) -> bool:
    req = entry.get("request") or {}
    method, url = req.get("method", ""), req.get("url", "")
    return (method == "POST") or (method in ("PUT", "PATCH", "DELETE") and "?" in url)


def _references(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref.startswith("urn:"):
            out.add(ref)
        for v in node.values():
            if isinstance(v, dict | list):
                _references(v, out)
    elif isinstance(node, list):
        for v in node:
            _references(v, out)
    return out


def _rewrite(node: Any, resolved: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v, resolved) if isinstance(v, dict | list) else v for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in resolved:
            out["reference"] = resolved[ref]
        return out
    if isinstance(node, list):
        return [_rewrite(v, resolved) for v in node]
    return node


def _location(entry: dict[str, Any]) -> str | None:
    loc = (entry.get("response") or {}).get("location")
    if not isinstance(loc, str) or not loc:
        return None
    parts = loc.split("/_history/", 1)[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None  # "Device/123" of a relative or absolute URL


def split_send(bundle: dict[str, Any], send: Send, *, strict_entries: int = STRICT_ENTRIES,
               entries: int = ENTRIES) -> int:
    """Send `bundle` (a transaction) as several transactions through `send`; returns how many were sent.
    Errors of `send` propagate (the caller's classification: rejected, unavailable)."""
    all_entries: list[dict[str, Any]] = list(bundle.get("entry") or [])
    resolved: dict[str, str] = {}
    for e in all_entries:
        req, full = e.get("request") or {}, e.get("fullUrl")
        url = req.get("url", "")
        if full and req.get("method") == "PUT" and "?" not in url and "/" in url:
            resolved[full] = url
    first = [e for e in all_entries if _conditional(e)]
    rest = [e for e in all_entries if not _conditional(e)]
    # order the first phase so that an entry follows the first-phase entries it refers to
    by_url = {e.get("fullUrl"): e for e in first if e.get("fullUrl")}
    ordered: list[dict[str, Any]] = []
    placed: set[int] = set()

    def place(e: dict[str, Any], trail: set[int]) -> None:
        if id(e) in placed or id(e) in trail:
            return  # placed, or a reference cycle (left to the server, as in the whole transaction)
        trail.add(id(e))
        for ref in sorted(_references(e.get("resource"), set())):
            dep = by_url.get(ref)
            if dep is not None:
                place(dep, trail)
        placed.add(id(e))
        ordered.append(e)

    for e in first:
        place(e, set())
    sent = 0
    chunk: list[dict[str, Any]] = []
    pending_urls: set[str] = set()

    def flush() -> None:
        nonlocal chunk, sent
        if not chunk:
            return
        response = send({"resourceType": "Bundle", "type": "transaction", "entry": chunk})
        sent += 1
        for e, r in zip(chunk, response.get("entry") or [], strict=False):
            loc = _location(r)
            if loc and e.get("fullUrl"):
                resolved[e["fullUrl"]] = loc
        chunk = []
        pending_urls.clear()

    for e in ordered:
        refs = _references(e.get("resource"), set())
        # a reference to a first-phase entry not sent yet and not in this chunk: send the chunk first
        if len(chunk) >= strict_entries or any(r in by_url and r not in resolved and r not in pending_urls
                                               for r in refs if r not in pending_urls):
            flush()
        chunk.append(_with_resource(e, resolved))
        if e.get("fullUrl"):
            pending_urls.add(e["fullUrl"])
    flush()
    for start in range(0, len(rest), entries):
        piece = [_with_resource(e, resolved) for e in rest[start:start + entries]]
        send({"resourceType": "Bundle", "type": "transaction", "entry": piece})
        sent += 1
    return sent


def _with_resource(entry: dict[str, Any], resolved: dict[str, str]) -> dict[str, Any]:
    out = dict(entry)
    if "resource" in out:
        out["resource"] = _rewrite(out["resource"], resolved)
    return out
