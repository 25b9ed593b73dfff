"""Live DICOM test endpoint: the project's Storage / Verification / MPPS SCP, with every association recorded.

`DicomListener` runs `interop.transport.dicom.node.DicomNode` (what `interop serve dicom` runs:
stores durably, decodes, answers with the DIMSE status the standard prescribes) and records per
association who called, whether it was accepted, each DIMSE request with the status answered,
and how it ended (A-RELEASE or A-ABORT). Each received instance is written to the session folder
(checked with the `dicom` assertions) and the association log to `dicom-session.json`, an input
of its own (`dicom-session` kind) that the DCM-NET-* assertions check.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from interop.transport.dicom.node import DicomNode, NodeConfig

SESSION_KIND = "dicom-session"
SESSION_FILE = "dicom-session.json"


class _RecordingNode(DicomNode):
    """A DicomNode whose DIMSE handlers also write what happened into the session log."""

    def __init__(self, config: NodeConfig, session_dir: Path) -> None:
        super().__init__(config)
        self.session_dir = session_dir
        self.associations: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self.rejected: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._instances = 0

    def _assoc(self, assoc: Any) -> dict[str, Any]:
        key = id(assoc)
        with self._lock:
            rec = self.associations.get(key)
            if rec is None:
                rec = {"calling_ae": str(assoc.requestor.ae_title).strip(),
                       "called_ae": str(assoc.acceptor.ae_title).strip(),
                       "peer": f"{assoc.requestor.address}:{assoc.requestor.port}", "accepted": True,
                       "started": time.time(), "operations": [], "ended": None}
                self.associations[key] = rec
                self.order.append(key)
        return rec

    def on_conn_open(self, event: Any) -> None:
        super().on_conn_open(event)

    def on_c_echo(self, event: Any) -> int:
        status = super().on_c_echo(event)
        self._assoc(event.assoc)["operations"].append({"dimse": "C-ECHO", "status": status})
        return status

    def on_c_store(self, event: Any) -> Any:
        status = super().on_c_store(event)
        code = int(getattr(status, "Status", status))
        req = event.request
        op: dict[str, Any] = {"dimse": "C-STORE", "status": code,
                              "affected_sop_class": str(req.AffectedSOPClassUID or ""),
                              "affected_sop_instance": str(req.AffectedSOPInstanceUID or "")}
        try:
            data = event.encoded_dataset(include_meta=True)
        except Exception:  # noqa: BLE001 - the node already answered; the log says the bytes were unreadable
            op["dataset_file"] = None
        else:
            with self._lock:
                self._instances += 1
                n = self._instances
            name = f"instance-{n:04d}.dcm"
            (self.session_dir / name).write_bytes(data)
            op["dataset_file"] = name
            ds = event.dataset if status == 0 else None
            if ds is not None:
                op["dataset_sop_class"] = str(ds.get("SOPClassUID", "") or "")
                op["dataset_sop_instance"] = str(ds.get("SOPInstanceUID", "") or "")
        self._assoc(event.assoc)["operations"].append(op)
        return status

    def on_n_create(self, event: Any) -> tuple[Any, Any]:
        status, ds = super().on_n_create(event)
        self._assoc(event.assoc)["operations"].append({"dimse": "N-CREATE", "status": int(status)})
        return status, ds

    def on_n_set(self, event: Any) -> tuple[Any, Any]:
        status, ds = super().on_n_set(event)
        self._assoc(event.assoc)["operations"].append({"dimse": "N-SET", "status": int(status)})
        return status, ds

    def on_conn_close(self, event: Any) -> None:
        super().on_conn_close(event)
        assoc = event.assoc
        if id(assoc) not in self.associations and not getattr(assoc, "is_established", False) \
                and not getattr(assoc, "is_rejected", False):
            return  # a connection that never asked for an association
        rec = self._assoc(assoc)
        if getattr(assoc, "is_rejected", False):
            rec["accepted"] = False
        rec["ended"] = ("released" if getattr(assoc, "is_released", False) else
                        "aborted" if getattr(assoc, "is_aborted", False) else
                        "rejected" if getattr(assoc, "is_rejected", False) else "dropped")

    def on_rejected(self, event: Any) -> None:
        super().on_rejected(event)
        rec = self._assoc(event.assoc)
        rec["accepted"] = False

    def session(self) -> dict[str, Any]:
        with self._lock:
            return {"kind": SESSION_KIND, "ae_title": self.config.ae_title,
                    "associations": [self.associations[k] for k in self.order]}


class DicomListener:
    """Listen from `start()` until `stop()`, then write the session log; instances land beside it."""

    def __init__(self, port: int, session_dir: Path, *, host: str = "127.0.0.1", ae_title: str = "INTEROP",
                 store_dir: Path | None = None) -> None:
        self.session_dir = Path(session_dir)
        self.session_dir.mkdir(parents=True, exist_ok=True)
        config = NodeConfig(host=host, port=port, ae_title=ae_title, store_dir=store_dir or self.session_dir / "store",
                            write_fhir=True, bundle_type="collection", quiet_period=1.0)
        self.node = _RecordingNode(config, self.session_dir)
        self.port: int | None = None

    def start(self) -> int:
        _, self.port = self.node.start()
        return self.port

    def stop(self) -> Path:
        self.node.stop()
        if not self.node.associations:
            return self.session_dir / SESSION_FILE  # nobody called: no log (the CLI says nothing was recorded)
        path = self.session_dir / SESSION_FILE
        path.write_text(json.dumps(self.node.session(), indent=1), encoding="utf-8")
        return path
