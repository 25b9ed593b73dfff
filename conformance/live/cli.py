"""`interop conformance listen mllp|x73|dicom`: a live test endpoint that records the session and reports on it."""

from __future__ import annotations

import signal
import sys
import tempfile
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Endpoint(StrEnum):
    mllp = "mllp"
    x73 = "x73"
    dicom = "dicom"


DEFAULT_PORTS = {"mllp": 2575, "x73": 6024, "dicom": 11112}
PROFILES = {"x73": "x73-20601", "dicom": "dicom", "mllp": "ihe-pcd-01"}


def listen(
    endpoint: Annotated[Endpoint, typer.Argument(help="mllp (HL7 v2 over MLLP), x73 (IEEE 11073-20601 manager "
                                                 "over TCP) or dicom (Storage / Verification / MPPS SCP).")],
    port: Annotated[int | None, typer.Option(help="TCP port (default 2575 mllp, 6024 x73, 11112 dicom; 0 = any "
                                             "free port, printed on stderr).")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C "
                                                   "or SIGTERM).")] = None,
    vendor: Annotated[Path | None, typer.Option("--vendor", help="Vendor capability file (YAML): claims checked "
                                                "against what the session exercised.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Profile for the recorded messages "
                                                "(default: x73-20601, dicom, ihe-pcd-01).")] = None,
    session_dir: Annotated[Path | None, typer.Option("--session-dir", help="Keep the recording here (traces, "
                                                     "instances, session log); default: a temporary folder.")]
    = None,
    ae_title: Annotated[str, typer.Option("--ae-title", help="dicom: the called AE title to answer to.")] = "INTEROP",
    report: Annotated[str, typer.Option("--report", "-r", help="terminal, json, junit or html")] = "terminal",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
) -> None:
    """Stand up a live test endpoint, let the vendor's device talk to it, then report on what it did.

    The endpoint is the project's own listener (20601 manager, DICOM SCP, MLLP server): it answers
    as the standard says and records the session. When it stops (--duration, Ctrl-C) every recorded
    association / instance / message is checked with the profile's assertions: message-level
    findings and protocol-level ones (20601 state order and invoke ids, DIMSE statuses, A-RELEASE,
    ACK behaviour). Exit code 1 when any error is found, 0 otherwise, 2 when nothing was recorded.

    Example: interop conformance listen x73 --port 6024 --duration 120 --report html -o session.html"""
    from interop.cli.cmd_validate import fail_usage, run_and_report

    kind = endpoint.value
    folder = session_dir or Path(tempfile.mkdtemp(prefix=f"interop-listen-{kind}-"))
    recorded = folder / "recorded"
    recorded.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    chosen = DEFAULT_PORTS[kind] if port is None else port
    try:
        listener = _listener(kind, chosen, host, recorded, folder, ae_title)
    except ModuleNotFoundError as exc:
        raise fail_usage(f"conformance listen {kind}: the {kind} listener is not part of this build ({exc.name})") \
            from None
    try:
        bound = listener.start()
    except Exception as exc:  # noqa: BLE001 - a port in use or refused: one line, exit 2
        raise fail_usage(f"conformance listen {kind}: cannot listen on {host}:{chosen}: {exc}") from None
    sys.stderr.write(f"conformance listen {kind}: listening on {host}:{bound}; recording into {recorded}\n")
    sys.stderr.flush()
    try:
        stop.wait(duration) if duration is not None else _wait(stop)
    finally:
        listener.stop()
    if not any(recorded.iterdir()):
        raise fail_usage(f"conformance listen {kind}: nothing was recorded on {host}:{bound}"
                         + (f" in {duration:g} s" if duration is not None else ""))
    run_and_report([str(recorded)], profile or PROFILES[kind], vendor, report, output)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


class _X73:
    def __init__(self, port: int, host: str, recorded: Path, folder: Path) -> None:
        from .x73 import X73Listener

        self.listener = X73Listener(port, recorded, host=host, store_dir=folder / "store")

    def start(self) -> int:
        return self.listener.start()

    def stop(self) -> None:
        self.listener.stop()


class _Dicom:
    def __init__(self, port: int, host: str, recorded: Path, folder: Path, ae_title: str) -> None:
        from .dicom import DicomListener

        self.listener = DicomListener(port, recorded, host=host, ae_title=ae_title, store_dir=folder / "store")

    def start(self) -> int:
        return self.listener.start()

    def stop(self) -> None:
        self.listener.stop()


def _listener(kind: str, port: int, host: str, recorded: Path, folder: Path, ae_title: str):
    if kind == "x73":
        return _X73(port, host, recorded, folder)
    if kind == "dicom":
        return _Dicom(port, host, recorded, folder, ae_title)
    from .mllp import MllpListener  # needs the project's MLLP transport (interop.transport.mllp)

    return MllpListener(port, recorded, host=host, store_dir=folder / "store")


def register(conformance_app: typer.Typer) -> None:
    """Called by interop/cli/cmd_conformance.py."""
    conformance_app.command("listen")(listen)
