"""Where translated FHIR goes: a directory (atomic files), stdout, a FHIR server (HTTP), or several.

A sink's `emit(bundle_json, name)` returns a reference to where the Bundle went, or raises:

- `SinkRejected`: the destination refused this Bundle for good (a FHIR server's 4xx other than
  408/429, with its OperationOutcome text): re-sending it unchanged cannot succeed, so the
  store-and-forward engine dead-letters it;
- `SinkUnavailable` (and any other `TransportError`): the destination could not take it now (down,
  5xx, timeout, disk full): the engine keeps it pending and retries with back-off.

Names never collide for distinct inputs: `safe_name` keeps a name that is already a safe file name
and otherwise adds a hash of the original, so `7.7/1` and `7.7_1` give two files.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import threading
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, runtime_checkable

import orjson

from interop.errors import TransportError, UsageError
from interop.text import is_ascii_digits
from interop.transport import fhirsplit

log = logging.getLogger("interop.sink")

FHIR_JSON = "application/fhir+json"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_SAFE_FULL = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


class SinkUnavailable(TransportError):
    """The destination cannot take the Bundle now (down, 5xx, timeout, disk full): retry later."""


class SinkRejected(TransportError):
    """The destination refused the Bundle for good (e.g. HTTP 4xx): dead-letter it with `reason`."""

    def __init__(self, message: str, *, status: int | None = None, outcome: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome  # the server's OperationOutcome (JSON text), when it sent one


@runtime_checkable
class Sink(Protocol):
    """Receives one Bundle (JSON bytes) under a name; returns a reference to where it went."""

    def emit(self, bundle_json: bytes, name: str) -> str: ...


def safe_name(name: str) -> str:
    """`name` as a file-name-safe token; distinct names give distinct tokens.

    A name that is already safe (letters, digits, '.', '_', '-', not starting with '.', at most 200
    characters) is kept; any other is cleaned and suffixed with '+' and 16 hex digits of its SHA-256
    ('+' never occurs in a kept name, so a cleaned name cannot meet a kept one)."""
    if _SAFE_FULL.fullmatch(name):
        return name
    cleaned = _SAFE_NAME.sub("_", name).strip("._")[:160] or "bundle"
    return f"{cleaned}+{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


class DirectorySink:
    """Writes each Bundle to `<dir>/<safe name>.json` atomically: tmp file, fsync, rename, fsync dir."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkUnavailable(f"cannot create sink directory {self.directory}: {exc.strerror}") from None
        self._pool: ThreadPoolExecutor | None = None

    def path_for(self, name: str) -> Path:
        """Where a Bundle emitted as `name` is written."""
        return self.directory / f"{safe_name(name)}.json"

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Write the file durably; returns its path. A later emit with the same name replaces it."""
        result = self.emit_many([(bundle_json, name)])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def emit_many(self, batch: Sequence[tuple[bytes, str]]) -> list[str | TransportError]:
        """Write many files with one directory fsync; the files' fsyncs run in parallel threads, so the
        filesystem's journal commits them together (one ~5 ms flush for the batch, not one per file)."""
        tmps: list[tuple[Path, Path] | TransportError] = []
        for data, name in batch:
            final = self.path_for(name)
            tmp = self.directory / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                tmps.append((tmp, final))
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                tmps.append(SinkUnavailable(f"cannot write {final}: {exc.strerror}"))
        todo = [t for t in tmps if not isinstance(t, TransportError)]
        if len(todo) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(8, thread_name_prefix="fsync")
            errors = list(self._pool.map(_fsync_path, [t[0] for t in todo]))
        else:
            errors = [_fsync_path(t[0]) for t in todo]
        out: list[str | TransportError] = []
        it = iter(errors)
        for t in tmps:
            if isinstance(t, TransportError):
                out.append(t)
                continue
            tmp, final = t
            err = next(it)
            try:
                if err is not None:
                    raise err
                os.replace(tmp, final)
                out.append(str(final))
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                out.append(SinkUnavailable(f"cannot write {final}: {exc.strerror}"))
        try:
            _fsync_dir(self.directory)
        except OSError as exc:
            return [SinkUnavailable(f"cannot sync {self.directory}: {exc.strerror}")] * len(batch)
        return out


def _fsync_path(path: Path) -> OSError | None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return exc
    return None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FhirServerSink:
    """Sends each Bundle to a FHIR server over one kept-alive HTTP/1.1 connection per thread.

    A `transaction`/`batch` Bundle is POSTed to the base URL (the mappings write transaction entries
    as PUT by deterministic id or conditional create with `ifNoneExist`, so sending one twice never
    duplicates a resource); any other Bundle is PUT as `Bundle/<id>` when it has an id, else POSTed
    to `Bundle`. A `batch` answer whose entries carry a 4xx status is a rejection too.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"FHIR server URL must start with http:// or https:// (got {url!r})")
        self.url = url.rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        self._scheme, self._netloc, self._path = parts.scheme, parts.netloc, parts.path
        self.timeout = timeout
        self.headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **(headers or {})}
        self._local = threading.local()
        self.split = False  # True once the server refused a transaction as too large (see `emit`)

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Send the Bundle; returns the server's Location (or the request URL). Raises SinkRejected
        (4xx except 408/429) or SinkUnavailable (unreachable, timeout, 408/429/5xx).

        A transaction the server refuses as over its size limits (Medplum: more than 8 entries with a
        conditional create/update, or more than 50 updates) is sent again cut into transactions it accepts
        (`fhirsplit`), and so is every later large transaction to this server."""
        method, path = self._target(bundle_json)
        if self.split and method == "POST" and _is_transaction(bundle_json):
            return self._emit_split(bundle_json, path)
        try:
            return self._send(method, path, bundle_json)[0]
        except SinkRejected as exc:
            if exc.status == 400 and fhirsplit.over_limit(exc.outcome or "") and _is_transaction(bundle_json):
                if not self.split:
                    log.warning("FHIR server %s limits transaction size (%s); large transactions are sent in "
                                "pieces from now on", self.url, _outcome_text((exc.outcome or "").encode()))
                self.split = True
                return self._emit_split(bundle_json, path)
            raise

    def _emit_split(self, bundle_json: bytes, path: str) -> str:
        doc = orjson.loads(bundle_json)
        url = f"{self._scheme}://{self._netloc}{path}"

        def send(piece: dict) -> dict:
            body = self._send("POST", path, orjson.dumps(piece))[1]
            try:
                answer = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise SinkUnavailable(f"FHIR server at {url} answered a transaction with no JSON Bundle") from None
            return answer if isinstance(answer, dict) else {}

        n = fhirsplit.split_send(doc, send)
        return f"{url} ({n} transactions)"

    def _send(self, method: str, path: str, bundle_json: bytes) -> tuple[str, bytes]:
        """One request; (reference, response body) on 2xx, else SinkRejected / SinkUnavailable."""
        url = f"{self._scheme}://{self._netloc}{path}"
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: reconnect once
            conn = self._connection()
            try:
                conn.request(method, path, body=bundle_json, headers=self.headers)
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop()
                if attempt == 1:
                    continue
                raise SinkUnavailable(f"FHIR server unreachable at {url}: {exc}") from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise SinkUnavailable(f"FHIR server unreachable at {url}: {exc}") from None
            if resp.getheader("Connection", "").lower() == "close":
                self._drop()
            break
        status = resp.status
        if 200 <= status < 300:
            _check_batch_response(body, url)
            return resp.getheader("Location") or resp.getheader("Content-Location") or url, body
        detail = _outcome_text(body)
        text = f"FHIR server answered {status} to {method} {url}{': ' + detail if detail else ''}"
        if 400 <= status < 500 and status not in (408, 429):
            raise SinkRejected(text, status=status, outcome=body.decode("utf-8", "replace")[:4000] or None)
        raise SinkUnavailable(text)

    def emit_many(self, batch: Sequence[tuple[bytes, str]]) -> list[str | TransportError]:
        """One request per Bundle, in order; after the first `SinkUnavailable` the rest are not sent
        (they get the same error), so a server that is down or timing out is not hammered."""
        out: list[str | TransportError] = []
        down: TransportError | None = None
        for data, name in batch:
            if down is not None:
                out.append(down)
                continue
            try:
                out.append(self.emit(data, name))
            except SinkRejected as exc:
                out.append(exc)
            except TransportError as exc:
                down = exc
                out.append(exc)
        return out

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = cls(self._netloc, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _target(self, bundle_json: bytes) -> tuple[str, str]:
        try:
            head = orjson.loads(bundle_json)
        except orjson.JSONDecodeError:
            raise SinkRejected("sink got a Bundle that is not JSON") from None
        btype = head.get("type") if isinstance(head, dict) else None
        base = self._path or ""
        if btype in ("transaction", "batch"):
            return "POST", base or "/"
        rid = head.get("id") if isinstance(head, dict) else None
        if rid:
            return "PUT", f"{base}/Bundle/{urllib.parse.quote(str(rid), safe='')}"
        return "POST", f"{base}/Bundle"


def _is_transaction(bundle_json: bytes) -> bool:
    head = bundle_json[:200]
    return b'"transaction"' in head or orjson.loads(bundle_json).get("type") == "transaction"


def _check_batch_response(body: bytes, url: str) -> None:
    """A batch-response whose entries failed with 4xx is a rejection (transactions fail as a whole)."""
    if not body or b"batch-response" not in body[:400]:
        return
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    for entry in doc.get("entry", []) if isinstance(doc, dict) else []:
        status = str((entry.get("response") or {}).get("status", ""))
        if status[:1] == "4":
            outcome = (entry.get("response") or {}).get("outcome")
            detail = _outcome_text(orjson.dumps(outcome)) if outcome else ""
            raise SinkRejected(f"FHIR server refused a batch entry at {url} ({status}){': ' + detail if detail else ''}",
                               status=int(status[:3]) if is_ascii_digits(status[:3]) else None)
        if status[:1] == "5":
            raise SinkUnavailable(f"FHIR server failed a batch entry at {url} ({status})")


def _outcome_text(body: bytes) -> str:
    """The diagnostics (or details text) of an OperationOutcome body, at most 300 characters."""
    try:
        doc = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        return ""
    if isinstance(doc, dict) and doc.get("resourceType") == "OperationOutcome":
        texts = []
        for issue in doc.get("issue", []):
            if not isinstance(issue, dict):
                continue
            text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
            if text:
                where = ", ".join(issue.get("expression") or issue.get("location") or [])
                texts.append(f"{text} ({where})" if where else str(text))
        return "; ".join(texts)[:300]
    return ""


class FanOutSink:
    """Emits to every sink in order; the first failure raises (earlier sinks keep their copy, and a
    retry rewrites it under the same name, so a retried Bundle never gives two files)."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        self.sinks = tuple(sinks)

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Emit everywhere; returns the references joined by a space."""
        return " ".join(s.emit(bundle_json, name) for s in self.sinks)

    def emit_many(self, batch: Sequence[tuple[bytes, str]]) -> list[str | TransportError]:
        """Each sink in turn over the whole batch; a Bundle that failed at one sink skips the later ones."""
        refs: list[list[str]] = [[] for _ in batch]
        errors: list[TransportError | None] = [None] * len(batch)
        for sink in self.sinks:
            todo = [i for i, e in enumerate(errors) if e is None]
            if not todo:
                break
            results = emit_many(sink, [batch[i] for i in todo])
            for i, r in zip(todo, results, strict=True):
                if isinstance(r, Exception):
                    errors[i] = r
                else:
                    refs[i].append(r)
        return [e if e is not None else " ".join(r) for e, r in zip(errors, refs, strict=True)]


class StdoutSink:
    """Writes each Bundle as one JSON line to stdout (the default when no store or forward URL is given)."""

    def emit(self, bundle_json: bytes, name: str) -> str:
        """Print the Bundle on one line."""
        import sys

        out = sys.stdout.buffer
        out.write(bundle_json.replace(b"\n", b"") + b"\n")
        out.flush()
        return "stdout"


def emit_many(sink: Sink, batch: Sequence[tuple[bytes, str]]) -> list[str | TransportError]:
    """`sink.emit_many(batch)` when the sink has it, else one `emit` per Bundle; errors are returned."""
    many = getattr(sink, "emit_many", None)
    if many is not None:
        return many(batch)
    out: list[str | TransportError] = []
    for data, name in batch:
        try:
            out.append(sink.emit(data, name))
        except TransportError as exc:
            out.append(exc)
    return out


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
