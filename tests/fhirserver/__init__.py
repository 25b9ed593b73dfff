"""A real FHIR R4 server for end-to-end tests: Medplum's FHIR engine (@medplum/fhir-router, in-memory
repository) behind `server.mjs`, started as a node subprocess on a free loopback port.

    with FhirServer() as fhir:
        fhir.base                       # http://127.0.0.1:<port>/fhir
        fhir.count("Observation")       # FHIR search, _summary=count
        fhir.search("Observation", {"_count": "1000"})   # every matching resource (follows next links)
        fhir.control(status=503)        # answer 503 to everything until control(status=0)

Installed by the README's `npm ci --prefix tests/oracle` (package.json pins @medplum/fhir-router).
A missing node or package FAILS the test with the command to run; it never skips.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "server.mjs"
MODULES = HERE.parent / "oracle" / "node_modules" / "@medplum" / "fhir-router" / "package.json"
INSTALL = "npm ci --prefix tests/oracle"


class FhirServer:
    """The node FHIR server as a context manager."""

    def __init__(self, delay_ms: int = 0, *, validate: bool = True, start_timeout: float = 60.0) -> None:
        from oracle.medplum import node

        if not MODULES.is_file():
            pytest.fail(f"test FHIR server: @medplum/fhir-router is not installed; run `{INSTALL}`", pytrace=False)
        self._node = node()
        self.delay_ms = delay_ms
        self.validate = validate  # False: no validateResource on writes (faster; no 400 for invalid resources)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def __enter__(self) -> FhirServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        """Start on a free port; returns the base URL."""
        self.proc = subprocess.Popen([self._node, str(SCRIPT), "--port", "0", "--delay-ms", str(self.delay_ms),
                                      *([] if self.validate else ["--no-validate"])],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith(b"listening "):
            err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError(f"test FHIR server did not start: {line!r} {err}")
        self.base = line.split()[1].decode()
        return self.base

    def stop(self) -> None:
        """Stop the server (its data is gone: in-memory repository)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    # ------------------------------------------------------------------ FHIR REST
    def get(self, path: str) -> dict[str, Any]:
        """GET base/path as JSON."""
        url = path if path.startswith("http") else f"{self.base}/{path.lstrip('/')}"
        with urllib.request.urlopen(url, timeout=120) as resp:  # noqa: S310 (loopback test server)
            return json.loads(resp.read())

    def count(self, resource_type: str, params: dict[str, str] | None = None) -> int:
        """`total` of a `_summary=count` search."""
        q = urllib.parse.urlencode({**(params or {}), "_summary": "count"})
        return int(self.get(f"{resource_type}?{q}")["total"])

    def search(self, resource_type: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every resource a search matches: pages of `_count` (default 1000) by `_offset` (the router writes
        no `next` link without a configured base URL)."""
        size = int((params or {}).get("_count", "1000"))
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            q = urllib.parse.urlencode({**(params or {}), "_count": str(size), "_offset": str(offset)})
            page = self.get(f"{resource_type}?{q}")
            got = [e["resource"] for e in page.get("entry", []) if "resource" in e]
            out.extend(got)
            if len(got) < size:
                return out
            offset += size

    def control(self, **settings: Any) -> dict[str, Any]:
        """Test controls: status=503 (every FHIR request answers it; 0 = normal), delayMs=N."""
        root = self.base.rsplit("/fhir", 1)[0]
        body = json.dumps({("delayMs" if k == "delay_ms" else k): v for k, v in settings.items()}).encode()
        req = urllib.request.Request(f"{root}/__control", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return json.loads(resp.read())
