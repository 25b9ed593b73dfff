"""The DICOM node: a pynetdicom AE serving Storage, Verification and MPPS, feeding the FHIR pipeline.

C-STORE: the dataset bytes (with file meta) are written to the DurableStore first; then the
header is decoded; a dataset that cannot be decoded is answered 0xC000 (PS3.4 B.2.3 "Cannot
understand") and the row is marked failed; otherwise 0x0000. Decoded instances are collected per
study and emitted when the association ends or after the quiet period (see `collector`).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from interop.errors import DecodeError, TransportError, UsageError

from .collector import StudyCollector
from .mpps import MppsTable

if TYPE_CHECKING:
    from interop.model import Message
    from interop.transport.sink import Sink
    from interop.transport.store import DurableStore

log = logging.getLogger("interop.dicom")

KIND_INSTANCE = "dicom-instance"
KIND_MPPS = "dicom-mpps"

# C-STORE statuses (PS3.4 Table B.2-1)
STORE_SUCCESS = 0x0000
STORE_CANNOT_UNDERSTAND = 0xC000
STORE_DATASET_MISMATCH = 0xA900  # Data Set does not match SOP Class
STORE_OUT_OF_RESOURCES = 0xA700


@dataclass
class NodeConfig:
    """Settings of `interop serve dicom`."""

    host: str = "127.0.0.1"
    port: int = 11112
    ae_title: str = "INTEROP"
    allow: list[str] = field(default_factory=list)  # calling AE titles accepted; empty = any
    store_dir: Path = Path("interop-store")  # DurableStore location (and FHIR files when `write_fhir`)
    write_fhir: bool = True  # emit FHIR files under store_dir/fhir
    forward_url: str | None = None  # FHIR server base URL
    fhir_version: Literal["R4", "R5"] = "R4"
    bundle_type: Literal["collection", "transaction"] = "transaction"
    quiet_period: float = 10.0  # seconds without new instances before a study is emitted anyway
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None  # when set, peers must present a certificate signed by it


@dataclass(frozen=True)
class Decoded:
    """One C-STORE dataset decoded into the model."""

    message: Message
    study_uid: str
    sop_instance_uid: str


def decode_instance(data: bytes, label: str | None = None) -> Decoded:
    """Decode Part 10 bytes (preamble + file meta + dataset) with the DICOM codec; raises DecodeError."""
    from interop.codecs.dicom.codec import DicomCodec

    try:
        message = DicomCodec().decode(data, strict=False, source=label)
    except DecodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the node answers a status whatever the codec does
        raise DecodeError(f"dataset cannot be decoded ({type(exc).__name__})", standard="dicom",
                          position="dataset", expected="a DICOM dataset in the negotiated transfer syntax",
                          source=label) from None
    study = message.imaging_study
    if study is None or not study.uid:
        raise DecodeError("no Study Instance UID", standard="dicom", position="(0020,000D)",
                          expected="a Study Instance UID", source=label)
    sop_uid = next((i.sop_instance_uid for s in study.series for i in s.instances), None) or message.control_id
    return Decoded(message, study.uid, sop_uid or "")


def merge_study(messages: list[Message]) -> Message:
    """Merge the instances of one study with the DICOM codec."""
    from interop.codecs.dicom.study import merge_messages

    return merge_messages(messages)


def fhir_translator(version: str, bundle_type: str) -> Callable[[Message], bytes]:
    """A function Message → Bundle JSON bytes."""

    def translate(message: Message) -> bytes:
        from interop import to_fhir

        return to_fhir(message, version=version, bundle_type=bundle_type).json()  # type: ignore[arg-type]

    return translate


def tls_context(cert: Path, key: Path, ca: Path | None = None) -> ssl.SSLContext:
    """Server-side TLS context (TLS 1.2+); with `ca`, client certificates are required (mutual TLS)."""
    try:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert), str(key))
        if ca is not None:
            ctx.load_verify_locations(str(ca))
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load TLS certificate/key: {exc}") from None
    return ctx


class DicomNode:
    """Storage + Verification + MPPS SCP writing durably, then translating each study to FHIR."""

    def __init__(
        self,
        config: NodeConfig,
        *,
        store: DurableStore | None = None,
        sink: Sink | None = None,
        translate: Callable[[Message], bytes] | None = None,
        decode: Callable[[bytes, str | None], Decoded] = decode_instance,
        merge: Callable[[list[Message]], Message] = merge_study,
    ) -> None:
        from interop.transport.sink import make_sink
        from interop.transport.store import DurableStore

        if bool(config.tls_cert) != bool(config.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        self.config = config
        self.store = store or DurableStore(config.store_dir)
        self.sink = sink or make_sink(config.store_dir if config.write_fhir else None, config.forward_url)
        self.decode = decode
        self.mpps = MppsTable()
        self.collector = StudyCollector(
            self.store, self.sink, translate or fhir_translator(config.fhir_version, config.bundle_type), merge,
            quiet_period=config.quiet_period, procedure_steps=self.mpps.steps_for_study)
        self._server: Any = None
        self._stopped = threading.Event()

    # -- life cycle

    def start(self) -> tuple[str, int]:
        """Replay pending rows, then listen (non-blocking); returns the bound (host, port)."""
        from pynetdicom import AE, evt

        from .contexts import add_supported_contexts

        logging.getLogger("pynetdicom").setLevel(logging.WARNING)
        self.recover()
        ae = AE(ae_title=self.config.ae_title)
        add_supported_contexts(ae)
        if self.config.allow:
            ae.require_calling_aet = list(self.config.allow)  # A-ASSOCIATE-RJ 1/1/3 (calling AE not recognized)
        handlers = [
            (evt.EVT_CONN_OPEN, self.on_conn_open),
            (evt.EVT_C_ECHO, self.on_c_echo),
            (evt.EVT_C_STORE, self.on_c_store),
            (evt.EVT_N_CREATE, self.on_n_create),
            (evt.EVT_N_SET, self.on_n_set),
            (evt.EVT_CONN_CLOSE, self.on_conn_close),
            (evt.EVT_REJECTED, self.on_rejected),
        ]
        ssl_ctx = None
        if self.config.tls_cert and self.config.tls_key:
            ssl_ctx = tls_context(self.config.tls_cert, self.config.tls_key, self.config.tls_ca)
        try:
            self._server = ae.start_server((self.config.host, self.config.port), block=False,
                                           evt_handlers=handlers, ssl_context=ssl_ctx)
        except OSError as exc:
            raise TransportError(f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror}") from None
        self.collector.start()
        host, port = self._server.server_address[:2]
        log.info("DICOM node %s listening on %s:%d%s", self.config.ae_title, host, port, " (TLS)" if ssl_ctx else "")
        return host, port

    def serve_forever(self) -> None:
        """Block until `stop()` (or a signal handler calling it)."""
        while not self._stopped.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop listening, emit what is left, close the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._server is not None:
            self._server.shutdown()
        self.collector.stop()
        self.store.close()

    def recover(self) -> int:
        """Re-decode and emit instances stored but not yet emitted by an earlier run; returns their count."""
        pending = self.store.pending(KIND_INSTANCE)
        for item in pending:
            try:
                decoded = self.decode(item.data, item.key)
            except DecodeError as exc:
                self.store.mark_failed(item.id, exc.one_line()[:500])
                continue
            self.collector.add(decoded.study_uid, decoded.sop_instance_uid, decoded.message, item.id)
        if pending:
            log.info("replaying %d stored instance(s) from an earlier run", len(pending))
            self.collector.flush_all()
        for item in self.store.pending(KIND_MPPS):
            self.store.mark_done(item.id, "mpps-state-not-replayed")
        return len(pending)

    # -- DIMSE handlers

    def on_c_echo(self, event: Any) -> int:
        """Verification (PS3.4 A.4): always success."""
        return 0x0000

    def on_c_store(self, event: Any) -> Any:
        """Storage (PS3.4 B.2): store durably, then decode; answer 0x0000, 0xC000 or 0xA900."""
        req = event.request
        sop_uid = str(req.AffectedSOPInstanceUID or "")
        assoc = event.assoc
        calling = assoc.requestor.ae_title
        meta = {"calling_ae": calling, "called_ae": assoc.acceptor.ae_title,
                "peer": f"{assoc.requestor.address}:{assoc.requestor.port}",
                "sop_class": str(req.AffectedSOPClassUID or ""), "received": time.time()}
        try:
            data = event.encoded_dataset(include_meta=True)
            meta["transfer_syntax"] = str(event.context.transfer_syntax)
            item_id = self.store.put(KIND_INSTANCE, sop_uid, data, meta)
        except TransportError as exc:
            log.error("C-STORE %s from %s not stored: %s", sop_uid, calling, exc)
            return _status(STORE_OUT_OF_RESOURCES, "cannot store the instance")
        except Exception as exc:  # noqa: BLE001 - encoding the received bytes failed
            log.warning("C-STORE from %s: unreadable dataset (%s)", calling, type(exc).__name__)
            return _status(STORE_CANNOT_UNDERSTAND, "dataset cannot be read")
        try:
            decoded = self.decode(data, sop_uid or None)
        except DecodeError as exc:
            self.store.mark_failed(item_id, exc.one_line()[:500])
            log.warning("C-STORE %s from %s: cannot understand: %s", sop_uid, calling, exc.one_line())
            code = STORE_DATASET_MISMATCH if exc.position == "(0020,000D)" else STORE_CANNOT_UNDERSTAND
            return _status(code, exc.message)
        self.collector.add(decoded.study_uid, decoded.sop_instance_uid or sop_uid, decoded.message, item_id,
                           association=id(assoc))
        return STORE_SUCCESS

    def on_n_create(self, event: Any) -> tuple[Any, Any]:
        """MPPS N-CREATE (PS3.4 F.7.2.1)."""
        req = event.request
        if str(req.AffectedSOPClassUID) != "1.2.840.10008.3.1.2.3.3":
            return 0x0122, None  # SOP class not supported
        uid = str(req.AffectedSOPInstanceUID or "") or None
        attrs = event.attribute_list
        self._store_mpps(uid or "", attrs, "N-CREATE")
        return self.mpps.n_create(uid, attrs)

    def on_n_set(self, event: Any) -> tuple[Any, Any]:
        """MPPS N-SET (PS3.4 F.7.2.2); a step reaching COMPLETED/DISCONTINUED re-emits its studies."""
        req = event.request
        if str(req.RequestedSOPClassUID) != "1.2.840.10008.3.1.2.3.3":
            return 0x0122, None
        uid = str(req.RequestedSOPInstanceUID)
        mods = event.modification_list
        self._store_mpps(uid, mods, "N-SET")
        status, ds = self.mpps.n_set(uid, mods)
        return status, ds

    def on_conn_open(self, event: Any) -> None:
        """Disable Nagle on the accepted socket: small DIMSE responses otherwise wait for delayed ACKs."""
        import socket

        try:
            sock = event.assoc.dul.socket.socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (AttributeError, OSError):
            pass

    def on_conn_close(self, event: Any) -> None:
        """Association over (released, aborted or dropped): emit the studies it completed."""
        self.collector.association_ended(id(event.assoc))

    def on_rejected(self, event: Any) -> None:
        """Log a rejected association (e.g. calling AE title not in the allowlist)."""
        log.warning("association from %s rejected", event.assoc.requestor.ae_title)

    def _store_mpps(self, uid: str, ds: Any, operation: str) -> None:
        from pynetdicom.dsutils import encode

        try:
            data = encode(ds, True, True) or b""
            item = self.store.put(KIND_MPPS, uid, data, {"operation": operation, "received": time.time()})
            self.store.mark_done(item, "mpps-table")
        except Exception as exc:  # noqa: BLE001 - MPPS state is kept in memory regardless
            log.warning("MPPS %s for %s not stored (%s)", operation, uid, type(exc).__name__)


def _status(code: int, comment: str) -> Any:
    """A C-STORE response status dataset with an Error Comment (LO, at most 64 characters)."""
    from pydicom import Dataset

    ds = Dataset()
    ds.Status = code
    ds.ErrorComment = comment[:64]
    return ds
