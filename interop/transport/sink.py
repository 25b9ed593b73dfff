"""Where translated FHIR goes: a directory (atomic files), a FHIR server (HTTP), or both."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import orjson

from interop.errors import TransportError, UsageError

FHIR_JSON = "application/fhir+json"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@runtime_checkable
class Sink(Protocol):
    """Receives one Bundle (JSON bytes) under a name; returns a reference to where it went."""

    def emit(self, bundle_json: bytes, name: str) -> str: ...


def safe_name(name: str) -> str:
    """`name` reduced to a file-name-safe token (no path separators, no leading dots)."""
    cleaned = _SAFE_NAME.sub("_", name).strip("._")
    return cleaned[:200] or "bundle"


class DirectorySink:
    """Writes each Bundle to `<dir>/<name>.json` atomically: tmp file, fsync, rename, fsync dir."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"cannot create sink directory {self.directory}: {exc.strerror}") from None

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Write the file durably; returns its path. A later emit with the same name replaces it."""
        base = safe_name(name)
        final = self.directory / f"{base}.json"
        tmp = self.directory / f".{base}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(bundle_json)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            _fsync_dir(self.directory)
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise TransportError(f"cannot write {final}: {exc.strerror}") from None
        return str(final)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FhirServerSink:
    """Sends each Bundle to a FHIR server.

    A `transaction`/`batch` Bundle is POSTed to the base URL; any other Bundle is PUT as
    `Bundle/<id>` when it has an id, else POSTed to `Bundle`.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"FHIR server URL must start with http:// or https:// (got {url!r})")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **(headers or {})}

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Send the Bundle; returns the server's Location (or the request URL). Raises TransportError."""
        method, url = self._target(bundle_json)
        req = urllib.request.Request(url, data=bundle_json, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (http/https only)
                resp.read()
                location = resp.headers.get("Location") or resp.headers.get("Content-Location")
                return location or url
        except urllib.error.HTTPError as exc:
            detail = _outcome_text(exc)
            raise TransportError(f"FHIR server answered {exc.code} to {method} {url}{detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(f"FHIR server unreachable at {url}: {reason}") from None

    def _target(self, bundle_json: bytes) -> tuple[str, str]:
        try:
            head = orjson.loads(bundle_json)
        except orjson.JSONDecodeError:
            raise TransportError("sink got a Bundle that is not JSON") from None
        btype = head.get("type") if isinstance(head, dict) else None
        if btype in ("transaction", "batch"):
            return "POST", self.url
        rid = head.get("id") if isinstance(head, dict) else None
        if rid:
            return "PUT", f"{self.url}/Bundle/{rid}"
        return "POST", f"{self.url}/Bundle"


def _outcome_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = orjson.loads(exc.read() or b"{}")
    except (orjson.JSONDecodeError, OSError):
        return ""
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = [i.get("diagnostics") for i in body.get("issue", []) if isinstance(i, dict) and i.get("diagnostics")]
        if texts:
            return f": {texts[0][:200]}"
    return ""


class FanOutSink:
    """Emits to every sink in order; the first failure raises (earlier sinks keep their copy)."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = tuple(sinks)

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Emit everywhere; returns the references joined by a space."""
        return " ".join(s.emit(bundle_json, name) for s in self.sinks)


class StdoutSink:
    """Writes each Bundle as one JSON line to stdout (the default when no store or forward URL is given)."""

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Print the Bundle on one line."""
        import sys

        out = sys.stdout.buffer
        out.write(bundle_json.replace(b"\n", b"") + b"\n")
        out.flush()
        return "stdout"


def make_sink(store_dir: Path | str | None, forward_url: str | None) -> Sink:
    """DirectorySink under `store_dir`/fhir, FhirServerSink for `forward_url`, both → fan-out, none → stdout."""
    sinks: list[Sink] = []
    if store_dir is not None:
        sinks.append(DirectorySink(Path(store_dir) / "fhir"))
    if forward_url:
        sinks.append(FhirServerSink(forward_url))
    if not sinks:
        return StdoutSink()
    return sinks[0] if len(sinks) == 1 else FanOutSink(sinks)
