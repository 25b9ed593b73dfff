"""Fixtures shared by several test folders."""

from __future__ import annotations

import json
import os
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


# ---------------------------------------------------------------------------------------------- bdl-7
# Every Bundle any test makes in this process (to_fhir, fhir_json, the CLI run in-process, the servers'
# sinks) is checked for FHIR invariant bdl-7 (fullUrl unique) and, in transaction Bundles, for unique
# conditional-create keys (two identical ifNoneExist POSTs of one type make the server create two
# resources, and from then on every conditional create on that key fails with 412). The check wraps
# `Bundle.__init__` (the one place every mapping's Bundle is made) and costs one pass over the entries.
# A test that makes such a Bundle on purpose says so with `@pytest.mark.allow_duplicate_entries`.

def bundle_findings() -> list[str]:
    """The findings of the check since the last test began (kept on the wrapper: one list per process)."""
    from interop.mappings.fhir import bundle as fhir_bundle

    init = fhir_bundle.Bundle.__init__
    found = getattr(init, "bdl7_findings", None)
    if found is None:  # first use in this process: wrap the constructor
        original = init
        found = []

        def checked_init(self, version, data, issues):  # noqa: ANN001 - the wrapped signature
            original(self, version, data, issues)
            dup = fhir_bundle.entry_duplicates(data)
            if dup:
                found.extend(dup)

        checked_init.bdl7_findings = found  # type: ignore[attr-defined]
        fhir_bundle.Bundle.__init__ = checked_init
    return found


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_duplicate_entries: this test makes a Bundle that breaks bdl-7 on "
                            "purpose (the suite-wide bdl-7 check is off for it)")
    bundle_findings()
    # The processes the tests start (interop translate, serve mllp|x73|dicom ...) check their own Bundles: a
    # breach makes the translation fail with MappingError there (exit 2, a dead letter), which the test sees.
    # In this process the wrapper above does it, so that `allow_duplicate_entries` tests can opt out.
    from interop.mappings.fhir import bundle as fhir_bundle

    fhir_bundle.CHECK_UNIQUE_ENTRIES = False
    os.environ["INTEROP_CHECK_UNIQUE_ENTRIES"] = "1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail the test when any Bundle it made repeats a fullUrl or a conditional create (see above)."""
    findings = bundle_findings()
    findings.clear()
    result = yield
    found = list(findings)
    findings.clear()
    if found and item.get_closest_marker("allow_duplicate_entries") is None:
        raise AssertionError(f"a Bundle made by this test breaks bdl-7: {'; '.join(found[:3])}")
    return result
