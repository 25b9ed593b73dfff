"""Live HL7 v2 over MLLP test endpoint: the project's MLLP server, with every connection recorded.

`MllpListener` runs `interop.transport.mllp.service.MllpService` (what `interop serve mllp` runs:
stores each message durably, then acknowledges it per MSH-15/16, translates it in its worker) with
a session class that records what crosses the wire: each message block the sender completes
(written beside the log as `mllp-NNNN.hl7`, checked with the HL7 v2 / IHE PCD assertions), the
acknowledgement it got, how many acknowledgements were still owed when it arrived, bytes outside
blocks and blocks left incomplete. When the listener stops, the log is written as
`mllp-session.json`, an input of its own (`mllp-session` kind) that the MLLP-NET-* assertions check.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from interop.errors import InteropError
from interop.transport.mllp.ack import reply_code
from interop.transport.mllp.framing import Block
from interop.transport.mllp.receiver import read_header
from interop.transport.mllp.server import MllpConfig, MllpServer, MllpSession
from interop.transport.mllp.service import MllpService

SESSION_KIND = "mllp-session"
SESSION_FILE = "mllp-session.json"


def _msa(ack: bytes) -> tuple[str, str]:
    """(MSA-1, MSA-3 text) of an acknowledgement this server built."""
    text = ack.decode("utf-8", "replace")
    fs = text[3:4] or "|"
    for segment in text.split("\r"):
        if segment.startswith("MSA"):
            fields = segment.split(fs)
            return (fields[1] if len(fields) > 1 else ""), (fields[3] if len(fields) > 3 else "")
    return "", ""


class _Recorder:
    """The session log, shared by the connections (the server's event-loop thread writes it)."""

    def __init__(self, session_dir: Path) -> None:
        self.session_dir = session_dir
        self.connections: list[dict[str, Any]] = []
        self.count = 0
        self.lock = threading.Lock()

    def message(self, rec: dict[str, Any], payload: bytes) -> dict[str, Any]:
        with self.lock:
            self.count += 1
            n = self.count
        name = f"mllp-{n:04d}.hl7"
        (self.session_dir / name).write_bytes(payload)
        entry: dict[str, Any] = {"file": name, "sha256": hashlib.sha256(payload).hexdigest(), "ack": None}
        try:
            h = read_header(payload)
        except InteropError:
            entry.update(sender=None, control_id=None, accept_ack="", application_ack="", ack_due=True)
        else:
            due = h.message_code() != "ACK" and reply_code(h, "AA") is not None  # MSH-15/16 ask for one
            entry.update(sender=h.sender, control_id=h.control_id, accept_ack=h.accept_ack,
                         application_ack=h.application_ack, ack_due=due)
        entry["acks_owed"] = rec["owed"]
        if entry["ack_due"]:
            rec["owed"] += 1
            rec["waiting"].append(entry)
        rec["messages"].append(entry)
        return entry

    def session(self) -> dict[str, Any]:
        conns = [{k: v for k, v in c.items() if k not in ("owed", "waiting", "counted_open")}
                 for c in self.connections]
        return {"kind": SESSION_KIND, "connections": conns}


class RecordingSession(MllpSession):
    """An `MllpSession` that writes each completed block, the acknowledgement it got and framing faults
    into the recorder of its server."""

    def connection_made(self, transport: Any) -> None:
        self.rec: dict[str, Any] = {"peer": None, "junk_bytes": 0, "incomplete_blocks": 0, "ended": None,
                                    "messages": [], "owed": 0, "waiting": []}
        super().connection_made(transport)
        self.rec["peer"] = self.peer
        if not self.closed:  # refused connections (allow-list, limits) are not part of the vendor's session
            self.server.recorder.connections.append(self.rec)

    def deliver(self, block: Block) -> None:
        self.server.recorder.message(self.rec, block.payload)
        super().deliver(block)

    def _queue_ack(self, ack: bytes) -> None:
        code, text = _msa(ack)
        waiting = self.rec["waiting"]
        if waiting:  # acknowledgements go out in the order the messages came
            entry = waiting.pop(0)
            entry["ack"], entry["ack_text"] = code, text
            self.rec["owed"] -= 1
        super()._queue_ack(ack)

    def note_junk(self, size: int) -> None:
        self.rec["junk_bytes"] += size
        super().note_junk(size)

    def note_restart(self) -> None:
        self.rec["incomplete_blocks"] += 1
        super().note_restart()

    def _ending_inside_block(self) -> None:
        """Count the block the connection ends inside (peer closed, partial-block timer), once."""
        if self.scanner.buffered and not self.rec.get("counted_open"):
            self.rec["incomplete_blocks"] += 1
            self.rec["counted_open"] = True

    def close(self, why: str, level: str = "info") -> None:
        self._ending_inside_block()
        super().close(why, level)

    def eof_received(self) -> bool:
        self._ending_inside_block()
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ending_inside_block()
        self.rec["ended"] = "closed by peer" if exc is None else f"lost ({type(exc).__name__})"
        super().connection_lost(exc)


class _RecordingServer(MllpServer):
    session_class = RecordingSession
    recorder: _Recorder


class MllpListener:
    """Listen from `start()` until `stop()`, then write the session log; messages land beside it."""

    def __init__(self, port: int, session_dir: Path, *, host: str = "127.0.0.1",
                 store_dir: Path | None = None) -> None:
        self.session_dir = Path(session_dir)
        self.session_dir.mkdir(parents=True, exist_ok=True)
        self.service = MllpService(MllpConfig(host=host, port=port), store_dir=store_dir or self.session_dir / "store",
                                   write_fhir=True, bundle_type="collection")
        server = self.service.server
        server.__class__ = _RecordingServer  # the service built a plain server; record through it
        self.recorder = _Recorder(self.session_dir)
        server.recorder = self.recorder  # type: ignore[attr-defined]

    def start(self) -> int:
        return self.service.start()

    def stop(self) -> Path:
        self.service.stop()
        path = self.session_dir / SESSION_FILE
        if self.recorder.connections:  # nobody connected: no log (the CLI says nothing was recorded)
            path.write_text(json.dumps(self.recorder.session(), indent=1), encoding="utf-8")
        return path
