"""HL7 v2 over MLLP protocol assertions (MLLP-NET-*) on a recorded session of `interop conformance listen mllp`.

The session log (`mllp-session.json`, written by conformance/live/mllp.py) lists each connection: the
peer, every message block it sent (file written beside the log, MSH-10, MSH-15/16, whether an
acknowledgement was due, how many acknowledgements were still owed when it arrived, the MSA-1 this
receiver answered), bytes sent outside blocks and blocks left incomplete. These rules judge the
vendor's sender on it; the messages themselves are separate inputs checked by the HL7 v2 and IHE
PCD assertions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .base import JsonLogKind, fatal_check, json_case, rule_registry

Hit = tuple[str, str]
Rule = Callable[["Session"], Iterator[Hit]]
RULES: dict[str, Rule] = {}
rule = rule_registry(RULES)
fatal_check("MLLP-NET-000")
SESSION_KIND = "mllp-session"
CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "mllp-session"
ACCEPTED = ("AA", "CA")


class Session:
    """A parsed session log."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.connections: list[dict[str, Any]] = [c for c in doc.get("connections") or () if isinstance(c, dict)]

    def messages(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, c in enumerate(self.connections, 1):
            for j, m in enumerate(c.get("messages") or (), 1):
                if isinstance(m, dict):
                    yield f"connection {i} message {j} (MSH-10 {m.get('control_id')!r})", m


def from_bytes(data: bytes) -> Session:
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("kind") != SESSION_KIND:
        raise ValueError("not an mllp-session log (kind: mllp-session)")
    return Session(doc)


@rule("MLLP-NET-001")
def accepted(s: Session) -> Iterator[Hit]:
    for where, m in s.messages():
        ack = m.get("ack")
        if ack is not None and ack not in ACCEPTED:
            yield where, f"the receiver answered {ack} ({m.get('ack_text') or 'message not accepted'})"


@rule("MLLP-NET-002")
def no_bytes_outside_blocks(s: Session) -> Iterator[Hit]:
    for i, c in enumerate(s.connections, 1):
        junk = int(c.get("junk_bytes") or 0)
        if junk:
            yield f"connection {i}", f"{junk} byte(s) sent outside MLLP blocks (expected <SB> 0x0B ... <EB> 0x1C <CR>)"


@rule("MLLP-NET-003")
def blocks_complete(s: Session) -> Iterator[Hit]:
    for i, c in enumerate(s.connections, 1):
        dropped = int(c.get("incomplete_blocks") or 0)
        if dropped:
            yield f"connection {i}", (f"{dropped} block(s) left incomplete (a new <SB> or the end of the "
                                      "connection before <EB><CR>): never acknowledged")


@rule("MLLP-NET-004")
def waits_for_ack(s: Session) -> Iterator[Hit]:
    for where, m in s.messages():
        owed = int(m.get("acks_owed") or 0)
        if owed:
            yield where, (f"sent while {owed} acknowledgement(s) were still owed: a sender waits for each "
                          "ACK before the next message")


@rule("MLLP-NET-005")
def control_ids_unique(s: Session) -> Iterator[Hit]:
    seen: dict[tuple[str, str], str] = {}
    for where, m in s.messages():
        key = (str(m.get("sender") or ""), str(m.get("control_id") or ""))
        digest = str(m.get("sha256") or "")
        if not key[1]:
            continue
        first = seen.setdefault(key, digest)
        if first != digest:
            yield where, f"MSH-10 {key[1]!r} reused by the same sender for a different message"


def build_case(spec: Any) -> bytes:
    """A session log of cases/mllp-session/ (`"good.json"`) or `{base, set: {"connections[0].junk_bytes": 3}}`."""
    return json_case(spec, CASES_DIR)


def check(data: bytes) -> list[tuple[str, str, str]]:
    s = from_bytes(data)
    return [(aid, loc, msg) for aid, fn in RULES.items() for loc, msg in fn(s)]


KIND = JsonLogKind(SESSION_KIND, from_bytes, CASES_DIR, "ihe-pcd-01")
