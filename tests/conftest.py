"""Fixtures shared by several test folders."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _FhirRecorder(BaseHTTPRequestHandler):
    """A real HTTP server on 127.0.0.1 that records each request and answers like a FHIR server:
    200 with a transaction-response Bundle and a Location, or 422 with an OperationOutcome for /fail."""

    requests: list[tuple[str, str, str, bytes]] = []

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.requests.append((self.command, self.path, self.headers.get("Content-Type", ""), body))
        if self.path.startswith("/fail"):
            out = json.dumps({"resourceType": "OperationOutcome",
                              "issue": [{"severity": "error", "code": "invalid", "diagnostics": "bad bundle"}]})
            self.send_response(422)
        else:
            out = json.dumps({"resourceType": "Bundle", "type": "transaction-response"})
            self.send_response(200)
            self.send_header("Location", f"{self.path}/_history/1")
        data = out.encode()
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_PUT = _handle

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fhir_server() -> Iterator[tuple[str, list[tuple[str, str, str, bytes]]]]:
    """(base URL, recorded requests as (method, path, content type, body)) of a recording HTTP server."""
    _FhirRecorder.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FhirRecorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _FhirRecorder.requests
    finally:
        httpd.shutdown()
        httpd.server_close()
