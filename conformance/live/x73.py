"""Live IEEE 11073-20601 test endpoint: the project's TCP manager, with every APDU of both directions recorded.

`X73Listener` runs `interop.transport.x73.manager.X73Manager` (the same manager `interop serve x73`
runs: associates, learns extended configurations, answers every invoke, stores durably) with an
`Association` that records each agent APDU and the manager's answers in the order they crossed
the wire. When an association ends, the recording is written as a trace (`<` lines are this
manager's APDUs) into the session folder and checked with the x73-20601 assertions, the same ones
`interop validate` runs on captured traces; the vendor's agent is judged on what it actually did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop.codecs.ieee11073.association import Association

from interop.transport.x73.manager import ManagerConfig, X73Manager


class RecordingAssociation(Association):
    """An `Association` that keeps ("a" | "m", octets) for every APDU in and out, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record: list[tuple[str, bytes]] = []
        self.started = time.time()

    def receive(self, data: bytes, offset: int = 0) -> list[bytes]:
        self.record.append(("a", bytes(data)))
        answers = super().receive(data, offset)
        self.record.extend(("m", bytes(a)) for a in answers)
        return answers

    def invalid_apdu(self) -> list[bytes]:
        answers = super().invalid_apdu()
        self.record.extend(("m", bytes(a)) for a in answers)
        return answers


def trace_text(record: list[tuple[str, bytes]], title: str) -> str:
    """The recording as a hex trace `interop translate` / `interop validate` read ('<' = manager → agent)."""
    lines = [f"# {title}", "# recorded by interop conformance listen x73 ('<' lines: this manager's APDUs)"]
    for who, octets in record:
        lines.append(("< " if who == "m" else "") + " ".join(f"{b:02x}" for b in octets))
    return "\n".join(lines) + "\n"


@dataclass
class RecordedAssociation:
    """One association seen live: where its trace was written and what the manager made of it."""

    label: str
    trace: Path
    group: str  # the engine's unit (store rows) holding the association's APDUs
    manager_issues: list[tuple[str, str, str]] = field(default_factory=list)  # (code, location, message)


class _RecordingManager(X73Manager):
    def __init__(self, config: ManagerConfig, session_dir: Path,
                 on_recorded: Callable[[RecordedAssociation], None]) -> None:
        super().__init__(config)
        self.session_dir = session_dir
        self.on_recorded = on_recorded
        self._n = 0
        self._lock = threading.Lock()

    def _new_association(self) -> Association:
        return RecordingAssociation(mode="manager", store=self.configs, manager_system_id=self.config.system_id)

    def _ended(self, assoc: Association, group: str, count: int) -> None:
        """The association is over (its APDUs are sealed into one unit of the engine): write its
        recording as a trace and hand it to the checker. The translation runs later in the engine's
        worker, so the recording carries the manager's own findings, not the FHIR outcome."""
        super()._ended(assoc, group, count)
        with self._lock:
            self._n += 1
            n = self._n
        sysid = assoc.system_id.hex().upper() if assoc.system_id else "unknown"
        label = f"x73-association-{n:03d}-{sysid}"
        path = self.session_dir / f"{label}.x73"
        record = getattr(assoc, "record", [])
        path.write_text(trace_text(record, f"association {n} from system-id {sysid}, ended: {assoc.ended}"),
                        encoding="utf-8")
        issues = [(i.code, i.location, i.message) for i in assoc.issues if i.severity == "error"]
        self.on_recorded(RecordedAssociation(label, path, group, issues))


class X73Listener:
    """Listen from `start()` until `stop()`; record and check every association."""

    def __init__(self, port: int, session_dir: Path, *, host: str = "127.0.0.1", idle_timeout: float = 30.0,
                 store_dir: Path | None = None) -> None:
        self.session_dir = Path(session_dir)
        self.session_dir.mkdir(parents=True, exist_ok=True)
        self.recorded: list[RecordedAssociation] = []
        config = ManagerConfig(host=host, port=port, store_dir=store_dir or self.session_dir / "store", write_fhir=True,
                               bundle_type="collection", idle_timeout=idle_timeout)
        self.manager = _RecordingManager(config, self.session_dir, self.recorded.append)
        self.port: int | None = None

    def start(self) -> int:
        self.port = self.manager.start()
        return self.port

    def stop(self) -> None:
        self.manager.stop()
