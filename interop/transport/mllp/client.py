"""The MLLP client: sends HL7 v2 messages over one connection and reads each acknowledgement.

Messages are sent one at a time, each after the previous acknowledgement (the MLLP sender's rule),
unless `window` > 1 lets several be outstanding (a receiver answers in order). A message in enhanced
mode that asks for no acknowledgement on success (MSH-15 and MSH-16 NE or ER) is not waited for.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from interop.errors import InteropError, TransportError

from .ack import MessageHeader, reply_code
from .framing import Block, FrameScanner, frame
from .receiver import read_header

POSITIVE = frozenset({"AA", "CA"})


@dataclass(frozen=True)
class AckResult:
    """The acknowledgement of one sent message (or why there is none)."""

    control_id: str  # MSH-10 of the message sent
    code: str | None  # MSA-1 (AA, AE, AR, CA, CE, CR), None when no acknowledgement is expected/received
    acked_id: str  # MSA-2
    errors: tuple[str, ...]  # each ERR segment as 'location code text'
    raw: bytes  # the acknowledgement message, b"" when none
    expected: bool = True  # False: MSH-15 said no acknowledgement (NE)
    seconds: float = 0.0  # from send to acknowledgement

    @property
    def ok(self) -> bool:
        """AA/CA, or no acknowledgement because the message asked for none."""
        return self.code in POSITIVE or (self.code is None and not self.expected)


def client_tls_context(ca: Path | None = None, cert: Path | None = None, key: Path | None = None,
                       verify: bool = True) -> ssl.SSLContext:
    """TLS 1.2+ client context: verify the server against `ca` (or the system store); present `cert`."""
    ctx = ssl.create_default_context(cafile=str(ca) if ca else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        try:
            ctx.load_cert_chain(str(cert), str(key) if key else None)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"cannot load client certificate: {exc}") from None
    return ctx


def parse_ack(raw: bytes) -> tuple[str | None, str, tuple[str, ...]]:
    """(MSA-1, MSA-2, ERR summaries) of an acknowledgement message."""
    text = raw.decode("latin-1")
    fs = text[3:4] or "|"
    code, acked, errors = None, "", []
    for seg in text.replace("\n", "\r").split("\r"):
        f = seg.split(fs)
        if f[0] == "MSA":
            code = f[1] if len(f) > 1 else None
            acked = f[2] if len(f) > 2 else ""
        elif f[0] == "ERR":
            cs = text[4:5] or "^"
            loc = f[2].replace(cs, " ").strip() if len(f) > 2 and f[2] else (f[1] if len(f) > 1 else "")
            err = f[3].split(cs)[0] if len(f) > 3 else ""
            msg = f[8] if len(f) > 8 else ""
            errors.append(" ".join(x for x in (loc, err, msg) if x))
    return code, acked, tuple(errors)


class MllpClient:
    """One MLLP connection (optionally TLS). Use as a context manager."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0, tls: ssl.SSLContext | None = None,
                 server_hostname: str | None = None, max_frame: int = 64 * 1024 * 1024) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            try:
                sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
            except (ssl.SSLError, OSError) as exc:
                sock.close()
                raise TransportError(f"TLS handshake with {host}:{port} failed: {exc}") from None
        self.sock = sock
        self.scanner = FrameScanner(max_frame)
        self._blocks: deque[bytes] = deque()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, message: bytes) -> AckResult:
        """Send one message and wait for its acknowledgement."""
        return next(iter(self.send_all([message])))

    def send_all(self, messages: Iterable[bytes], window: int = 1) -> Iterator[AckResult]:
        """Send messages, at most `window` unacknowledged at a time; yields each result in order."""
        outstanding: deque[tuple[str, bool, float]] = deque()
        for msg in messages:
            header = _header(msg)
            control = header.control_id if header else ""
            expected = _expects_ack(header)
            self._write(frame(msg))
            if not expected:
                yield AckResult(control, None, "", (), b"", expected=False)
                continue
            outstanding.append((control, True, time.perf_counter()))
            while len(outstanding) >= window:
                yield self._result(outstanding.popleft())
        while outstanding:
            yield self._result(outstanding.popleft())

    def _result(self, sent: tuple[str, bool, float]) -> AckResult:
        control, _, t0 = sent
        raw = self.read_block()
        code, acked, errors = parse_ack(raw)
        return AckResult(control, code, acked, errors, raw, seconds=time.perf_counter() - t0)

    def _write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise TransportError(f"connection to {self.host}:{self.port} failed while sending: "
                                 f"{exc.strerror or exc}") from None

    def read_block(self) -> bytes:
        """The next MLLP block from the server."""
        while not self._blocks:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise TransportError(f"no acknowledgement from {self.host}:{self.port} within "
                                     f"{self.timeout:.0f} s") from None
            except OSError as exc:
                raise TransportError(f"connection to {self.host}:{self.port} failed: {exc.strerror or exc}") from None
            if not data:
                raise TransportError(f"{self.host}:{self.port} closed the connection before acknowledging")
            for ev in self.scanner.feed(data):
                if isinstance(ev, Block):
                    self._blocks.append(ev.payload)
        return self._blocks.popleft()


def _header(msg: bytes) -> MessageHeader | None:
    try:
        return read_header(msg)
    except InteropError:
        return None


def _expects_ack(header: MessageHeader | None) -> bool:
    """Whether a receiver following HL7 v2 chapter 2 answers an accepted message (`ack.reply_code`):
    not in enhanced mode when MSH-15 and MSH-16 ask for none on success (NE, ER)."""
    return reply_code(header, "AA") is not None
