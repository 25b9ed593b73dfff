"""A real `interop serve dicom` process on 127.0.0.1 and test data derived from packaged DICOM files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def interop_command() -> list[str]:
    """The installed `interop` console script, else `python -m interop.cli.main`."""
    script = Path(sys.executable).parent / "interop"
    return [str(script)] if script.exists() else [sys.executable, "-m", "interop.cli.main"]


class Server:
    """`interop serve dicom` as a subprocess; stderr collected for assertions."""

    def __init__(self, store: Path, *args: str) -> None:
        self.port = free_port()
        self.store = store
        cmd = [*interop_command(), "serve", "dicom", "--host", "127.0.0.1", "--port", str(self.port),
               "--store", str(store), *args]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=store.parent, env=env)
        self.lines: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise AssertionError("server did not start:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if "listening on" in line:
                self._ready.set()
        self._ready.set()  # process ended

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def bundle_path(self, study_uid: str) -> Path:
        from interop.transport.sink import safe_name  # distinct UIDs never share a file (7.7/1 vs 7.7_1)

        return self.store / "fhir" / f"{safe_name('study-' + study_uid)}.json"

    def wait_bundle(self, study_uid: str, timeout: float = 20.0, min_mtime: float = 0.0) -> bytes:
        """The study's Bundle once the sink has written it."""
        path = self.bundle_path(study_uid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_mtime >= min_mtime:
                return path.read_bytes()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no Bundle for study {study_uid}; server log:\n{self.log}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers with extra CLI args; all are stopped at the end of the test."""
    servers: list[Server] = []

    def start(*args: str, store: Path | None = None) -> Server:
        server = Server(store or tmp_path / "store", *args)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def dcmtk() -> dict[str, str]:
    """Paths of dcmtk's storescu/echoscu (Debian package `dcmtk`). Missing, the peer tests fail with what
    to install (as `.ci/run` does), never skip silently; INTEROP_SKIP_DCMTK=1 skips them knowingly."""
    tools = {name: _dcmtk_tool(name) for name in ("storescu", "echoscu")}
    missing = [n for n, p in tools.items() if p is None]
    if missing:
        reason = (f"dcmtk is not installed ({', '.join(missing)} not found outside virtual environments): the "
                  "DICOM peer tests need it: apt-get install -y dcmtk (.ci/run does), or set INTEROP_SKIP_DCMTK=1 "
                  "to skip them knowingly")
        if os.environ.get("INTEROP_SKIP_DCMTK") == "1" and not os.environ.get("CI"):
            pytest.skip(reason)
        pytest.fail(reason, pytrace=False)
    return tools  # type: ignore[return-value]


def _dcmtk_tool(name: str) -> str | None:
    """dcmtk's own binary: pynetdicom installs Python apps with the same names (storescu, echoscu) into
    the bin folder of every virtual environment it is installed in (this one first on PATH, others too
    when one was activated before), so the bin folders of virtual environments are left out."""
    venv_bin = os.path.dirname(sys.executable)

    def is_venv_bin(folder: str) -> bool:
        folder = os.path.abspath(folder)
        return folder == os.path.abspath(venv_bin) or os.path.exists(os.path.join(folder, "..", "pyvenv.cfg"))

    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not is_venv_bin(p))
    return shutil.which(name, path=path)
