"""The DICOM node: a pynetdicom AE serving Storage, Verification and MPPS, feeding the FHIR pipeline.

C-STORE: the dataset's element stream is walked (tags, VRs, lengths: `part10.walk_study_uid`, a tenth
of a millisecond) for its Study Instance UID, the bytes (with file meta) are handed to the
store-and-forward engine (`interop.transport.forward`), which group-commits them with the other
associations' instances, and the response is sent once they are durable. The dataset is decoded into
the model when its study is translated (decoding takes several times as long as the rest of a
C-STORE; an instance that passed the walk but cannot be decoded is left out of its study's Bundle and
its rows are marked `partial` with the reason). A dataset the walk cannot vouch for (malformed,
deflated, a private transfer syntax) is decoded before the response: one that cannot be decoded is
answered 0xC000 (PS3.4 B.2.3 "Cannot understand"), 0xA900 without a Study Instance UID, and its row
marked failed; otherwise 0x0000. Instances are grouped per study
(see `studies`): a study is emitted when its associations ended or after the quiet period, with
retries and back-off while the sink is unavailable, and replayed after a restart.
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
from interop.transport.limits import ConnectionTable

from .mpps import MppsTable
from .part10 import part10, walk_study_uid
from .studies import DecodedCache, StudyTracker, StudyTranslator, study_group

if TYPE_CHECKING:
    from interop.model import Message
    from interop.transport.sink import Sink
    from interop.transport.store import DurableStore

log = logging.getLogger("interop.dicom")

KIND_INSTANCE = "dicom-instance"
KIND_MPPS = "dicom-mpps"
MPPS_STATE = "mpps"  # namespace of the MPPS steps in the store's state table

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
    max_associations: int = 256  # concurrent connections; stalled ones are evicted to admit a newcomer
    pdu_timeout: float = 10.0  # seconds for a PDU to arrive completely once its first byte did
    acse_timeout: float = 10.0  # seconds from connecting to the A-ASSOCIATE-RQ (pynetdicom's ARTIM)
    idle_timeout: float = 60.0  # seconds of silence on an association before it is aborted
    dimse_timeout: float = 30.0
    stall_grace: float = 2.0  # a connection stalled this long may be evicted when the limit is reached
    max_pdu_size: int = 1 << 20  # Maximum Length advertised in A-ASSOCIATE-AC (bytes of one P-DATA PDU)


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
        retry: Any = None,
    ) -> None:
        from interop.transport.forward import ForwardEngine, RetryPolicy
        from interop.transport.sink import make_sink
        from interop.transport.store import DurableStore

        if bool(config.tls_cert) != bool(config.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        self.config = config
        self.store = store or DurableStore(config.store_dir)
        self.sink = sink or make_sink(config.store_dir if config.write_fhir else None, config.forward_url)
        self.decode = decode
        self.mpps = MppsTable(persist=self._persist_mpps)
        self.cache = DecodedCache()
        self.translator = StudyTranslator(
            self.store, decode, merge, translate or fhir_translator(config.fhir_version, config.bundle_type),
            procedure_steps=self.mpps.steps_for_study, cache=self.cache)
        self.engine = ForwardEngine(self.store, self.sink, {KIND_INSTANCE: self.translator, KIND_MPPS: _nothing},
                                    retry=retry or RetryPolicy())
        self.tracker = StudyTracker(self.engine.seal, quiet_period=config.quiet_period)
        self._server: Any = None
        self._stopped = threading.Event()
        self.table = ConnectionTable(config.max_associations, grace=config.stall_grace,
                                     name=f"DICOM node {config.ae_title}", logger=log)

    # -- life cycle

    def start(self) -> tuple[str, int]:
        """Replay pending rows, then listen (non-blocking); returns the bound (host, port)."""
        from pynetdicom import AE, evt

        from . import reactor
        from .contexts import add_supported_contexts
        from .guard import make_server_class

        cfg = self.config
        if not logging.getLogger("pynetdicom").isEnabledFor(logging.DEBUG):
            # pynetdicom logs a traceback for every connection closed mid-PDU; the guard logs one line instead
            logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
            # and its standard handlers, bound to every association, format each PDU and DIMSE message for
            # those logs (a tenth of a C-STORE's CPU): pynetdicom's documented switch turns them off
            from pynetdicom import _config

            _config.LOG_HANDLER_LEVEL = "none"
        self._restore_mpps()  # before the first N-SET can arrive, and before replayed studies are translated
        self.store.preallocate_wal()  # C-STORE commits overwrite allocated WAL blocks: faster fsyncs
        replayed = self.engine.start()  # seals what a crash left open, replays what is pending
        if replayed:
            log.warning("replaying %d stored row(s) from an earlier run", replayed)
        changed = reactor.compatible()
        if changed:
            log.warning("pynetdicom's reactors are not as expected (%s): associations keep its 1 ms polling, "
                        "C-STORE round trips are slower", changed)
        ae = AE(ae_title=cfg.ae_title)
        add_supported_contexts(ae)
        if cfg.allow:
            ae.require_calling_aet = list(cfg.allow)  # A-ASSOCIATE-RJ 1/1/3 (calling AE not recognized)
        # the ConnectionTable is the limit; pynetdicom's own check (after the A-ASSOCIATE-RQ) is a backstop
        # with room for evicted associations whose threads are still winding down
        ae.maximum_associations = cfg.max_associations * 2
        ae.acse_timeout = cfg.acse_timeout
        ae.network_timeout = cfg.idle_timeout
        ae.dimse_timeout = cfg.dimse_timeout
        ae.maximum_pdu_size = cfg.max_pdu_size
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
        if cfg.tls_cert and cfg.tls_key:
            ssl_ctx = tls_context(cfg.tls_cert, cfg.tls_key, cfg.tls_ca)
        server_class = make_server_class(self.table, cfg.pdu_timeout, max(cfg.max_pdu_size, 1 << 20) + 1024)
        try:
            self._server = ae.make_server((cfg.host, cfg.port), evt_handlers=handlers, ssl_context=ssl_ctx,
                                          server_class=server_class)
        except OSError as exc:
            raise TransportError(f"cannot listen on {cfg.host}:{cfg.port}: {exc.strerror}") from None
        threading.Thread(target=self._server.serve_forever, name="interop-dicom-accept", daemon=True).start()
        ae._servers.append(self._server)  # noqa: SLF001 - as AE.start_server(block=False) does, for shutdown
        self.tracker.start()
        host, port = self._server.server_address[:2]
        self.address = (host, port)
        log.info("DICOM node %s listening on %s:%d%s", cfg.ae_title, host, port, " (TLS)" if ssl_ctx else "")
        return host, port

    def serve_forever(self) -> None:
        """Block until `stop()` (or a signal handler calling it)."""
        while not self._stopped.wait(0.5):
            pass

    def stop(self) -> None:
        """Stop listening, hand the open studies to the engine, stop it, close the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._server is not None:
            self._server.shutdown()
            for assoc in list(self._server.active_associations):
                if assoc.is_established:
                    assoc.abort()  # A-ABORT to peers still associated
            self.table.close_all()  # and the connections that never got that far (pynetdicom's DUL
            # threads are not daemons: a stalled one would keep the process alive until its deadline)
        self.tracker.stop()
        self.tracker.seal_all()
        self.engine.drain(timeout=5.0)  # emit what is ready; anything left stays pending for the next start
        self.engine.stop()
        self.store.close()

    # -- DIMSE handlers

    def on_c_echo(self, event: Any) -> int:
        """Verification (PS3.4 A.4): always success."""
        return 0x0000

    def on_c_store(self, event: Any) -> Any:
        """Storage (PS3.4 B.2): store durably, then decode; answer 0x0000, 0xC000 or 0xA900."""
        conn = self._server.connection(event.assoc) if self._server is not None else None
        if conn is None:
            return self._c_store(event)
        conn.busy += 1  # never evicted while its instance is being stored
        try:
            return self._c_store(event)
        finally:
            conn.busy -= 1

    def _c_store(self, event: Any) -> Any:
        from interop.transport.store import NewItem

        req = event.request
        sop_uid = str(req.AffectedSOPInstanceUID or "")
        assoc = event.assoc
        calling = assoc.requestor.ae_title
        meta = {"calling_ae": calling, "called_ae": assoc.acceptor.ae_title,
                "peer": f"{assoc.requestor.address}:{assoc.requestor.port}",
                "sop_class": str(req.AffectedSOPClassUID or ""), "received": time.time()}
        try:
            tsyntax = str(event.context.transfer_syntax)
            data = part10(event.request.DataSet.getvalue(), str(req.AffectedSOPClassUID or ""), sop_uid, tsyntax)
            meta["transfer_syntax"] = tsyntax
        except Exception as exc:  # noqa: BLE001 - the received bytes cannot be framed as a file
            log.warning("C-STORE from %s: unreadable dataset (%s)", calling, type(exc).__name__)
            return _status(STORE_CANNOT_UNDERSTAND, "dataset cannot be read")
        study = walk_study_uid(data)
        if study is not None:  # a well-formed element stream: durable, then acknowledged; decoded when translated
            try:
                self.engine.submit(NewItem(KIND_INSTANCE, sop_uid, data, meta, group=study_group(study),
                                           sealed=False)).result(60.0)
            except (TransportError, TimeoutError) as exc:
                log.error("C-STORE %s from %s not stored: %s", sop_uid, calling, exc)
                return _status(STORE_OUT_OF_RESOURCES, "cannot store the instance")
            self.tracker.add(study, id(assoc))
            return STORE_SUCCESS
        # not walkable (deflated, a private transfer syntax) or not well-formed: the codec decides
        try:
            decoded: Decoded | DecodeError = self.decode(data, sop_uid or None)
        except DecodeError as exc:
            decoded = exc
        group = study_group(decoded.study_uid) if isinstance(decoded, Decoded) else None
        future = self.engine.submit(NewItem(KIND_INSTANCE, sop_uid, data, meta, group=group, sealed=group is None))
        try:
            receipt = future.result(60.0)
        except (TransportError, TimeoutError) as exc:
            log.error("C-STORE %s from %s not stored: %s", sop_uid, calling, exc)
            return _status(STORE_OUT_OF_RESOURCES, "cannot store the instance")
        if isinstance(decoded, DecodeError):
            try:
                self.store.mark_failed(receipt.id, decoded.one_line()[:500])
            except TransportError:
                pass
            log.warning("C-STORE %s from %s: cannot understand: %s", sop_uid, calling, decoded.one_line())
            code = STORE_DATASET_MISMATCH if decoded.position == "(0020,000D)" else STORE_CANNOT_UNDERSTAND
            return _status(code, decoded.message)
        self.cache.put(receipt.id, decoded)
        self.tracker.add(decoded.study_uid, id(assoc))
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
        before = self.mpps.state(uid)
        status, ds = self.mpps.n_set(uid, mods)
        if status == 0x0000 and before != self.mpps.state(uid):
            self._reemit(uid)
        return status, ds

    def on_conn_open(self, event: Any) -> None:
        """Put the connection under the guard (PDU deadline, table) and disable Nagle on its socket."""
        import socket

        if self._server is not None:
            self._server.attach(event.assoc)
        try:
            sock = event.assoc.dul.socket.socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small DIMSE responses, no delayed ACK
        except (AttributeError, OSError):
            pass

    def on_conn_close(self, event: Any) -> None:
        """Association over (released, aborted or dropped): free its slot, emit the studies it completed."""
        assoc = event.assoc
        artim = assoc.dul.artim_timer
        if assoc.requestor.primitive is None and artim._start_time is not None and artim.remaining <= 0:  # noqa: SLF001
            conn = self._server.connection(assoc) if self._server is not None else None
            if conn is None or conn.evicted is None:
                log.warning("DICOM peer %s: no A-ASSOCIATE-RQ within %.0f s of connecting (ARTIM); connection closed",
                            conn.peer if conn is not None else "?", artim.timeout)
        if self._server is not None:
            self._server.detach(event.assoc)
        self.tracker.association_ended(id(event.assoc))

    def on_rejected(self, event: Any) -> None:
        """Log why an association was rejected, naming the reason rather than blaming the peer."""
        assoc = event.assoc
        calling = assoc.requestor.ae_title
        peer = f"{assoc.requestor.address}:{assoc.requestor.port}"
        if self.config.allow and calling not in self.config.allow:
            log.warning("association from %s rejected: calling AE title %r is not in --allow", peer, calling)
        else:
            active = sum(1 for a in assoc.ae.active_associations if a.is_acceptor)
            log.warning("association from %s (calling AE %r) rejected by pynetdicom (%d associations active, "
                        "limit %d)", peer, calling, active, assoc.ae.maximum_associations)

    def _persist_mpps(self, uid: str, ds: Any) -> None:
        """The step's current attribute list into the store's state table (durable before the N-CREATE/N-SET
        response): an N-SET after a restart finds its step."""
        from pynetdicom.dsutils import encode

        data = encode(ds, True, True)
        if data is None:
            raise TransportError(f"MPPS {uid}: attribute list cannot be encoded")
        self.store.put_state(MPPS_STATE, uid, data)

    def _restore_mpps(self) -> None:
        from io import BytesIO

        from pynetdicom.dsutils import decode

        n = 0
        for uid, data in self.store.states(MPPS_STATE):
            try:
                self.mpps.restore(uid, decode(BytesIO(data), True, True))
                n += 1
            except Exception as exc:  # noqa: BLE001 - one unreadable step must not stop the node
                log.error("MPPS step %s kept from an earlier run cannot be read (%s)", uid, type(exc).__name__)
        if n:
            log.info("%d MPPS step(s) restored from the store", n)

    def _reemit(self, uid: str) -> None:
        """A step changed status (COMPLETED, DISCONTINUED): translate its studies again, so their Procedure
        (PUT by the same id) says so. A study still being filled picks the step up when it is emitted."""
        for study in self.mpps.studies(uid):
            try:
                done = self.store.rows("done", group=study_group(study))
                if done and self.store.reemit(done[-1].id):  # the whole study is translated with it
                    self.engine.wake()
            except TransportError as exc:
                log.error("study %s not re-emitted after MPPS %s (%s)", study, uid, exc)

    def _store_mpps(self, uid: str, ds: Any, operation: str) -> None:
        from pynetdicom.dsutils import encode

        from interop.transport.store import NewItem

        try:
            data = encode(ds, True, True) or b""
            self.engine.accept(NewItem(KIND_MPPS, uid, data, {"operation": operation, "received": time.time()}))
        except Exception as exc:  # noqa: BLE001 - MPPS state is kept in memory regardless
            log.warning("MPPS %s for %s not stored (%s)", operation, uid, type(exc).__name__)


def _nothing(items: Any) -> list[tuple[str, bytes]]:
    """MPPS rows are kept as the record of what arrived; the MPPS table holds their state."""
    return []


def _status(code: int, comment: str) -> Any:
    """A C-STORE response status dataset with an Error Comment (LO, at most 64 characters)."""
    from pydicom import Dataset

    ds = Dataset()
    ds.Status = code
    ds.ErrorComment = comment[:64]
    return ds
