"""`interop serve dicom`: the DICOM Storage/Verification/MPPS node (heavy imports inside the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interop.cli.options import BundleType, FhirVersion


def serve_dicom(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 11112,
    ae_title: Annotated[str, typer.Option("--ae-title", help="This node's AE title.")] = "INTEROP",
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="Calling AE title to accept (repeatable); others are rejected. Default: any.")] = None,
    store: Annotated[Path | None, typer.Option(
        help="Directory for the durable store (store.sqlite3) and the FHIR files (fhir/study-<uid>.json). "
             "Without it the store is ./interop-store and Bundles go to --forward or stdout.")] = None,
    forward: Annotated[str | None, typer.Option(help="FHIR server base URL the Bundles are sent to.")] = None,
    fhir_version: Annotated[FhirVersion, typer.Option("--fhir-version", help="FHIR release.")] = FhirVersion.R4,
    bundle: Annotated[BundleType, typer.Option(help="Bundle type.")] = BundleType.transaction,
    quiet_period: Annotated[float, typer.Option(
        "--quiet-period", help="Emit a study after this many seconds without new instances, even if its "
                               "association is still open (0 = only when the association ends).")] = 10.0,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate: serve DICOM over TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for --tls-cert.")] = None,
    tls_ca: Annotated[Path | None, typer.Option(
        "--tls-ca", help="PEM CA bundle: require client certificates signed by it.")] = None,
    max_associations: Annotated[int, typer.Option(
        "--max-associations", help="Concurrent connections accepted. At the limit the connection stalled longest "
                                   "(no A-ASSOCIATE-RQ yet, mid-PDU, then idle) is closed to admit a newcomer; "
                                   "only when all make progress is the newcomer rejected (A-ASSOCIATE-RJ "
                                   "transient, local-limit-exceeded).")] = 256,
    pdu_timeout: Annotated[float, typer.Option(
        "--pdu-timeout", help="Seconds for a PDU to arrive completely once its first byte did (and for the "
                              "A-ASSOCIATE-RQ after connecting).")] = 10.0,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", help="Seconds of silence on an association before it is aborted.")] = 60.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every association and instance.")] = False,
) -> None:
    """Storage SCP (common storage SOP classes and transfer syntaxes), Verification and MPPS SCP.

    Each received instance is written durably, then decoded; each study's FHIR Bundle is emitted when
    its association ends or after --quiet-period seconds.
    """
    import logging
    import signal
    import sys
    import threading

    from interop.errors import InteropError
    from interop.transport.dicom.node import DicomNode, NodeConfig

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("interop.dicom").setLevel(logging.INFO)
    config = NodeConfig(
        host=host, port=port, ae_title=ae_title, allow=list(allow or []),
        store_dir=store or Path("interop-store"), write_fhir=store is not None, forward_url=forward,
        fhir_version=fhir_version.value, bundle_type=bundle.value,  # type: ignore[arg-type]
        quiet_period=quiet_period, tls_cert=tls_cert, tls_key=tls_key, tls_ca=tls_ca,
        max_associations=max_associations, pdu_timeout=pdu_timeout, acse_timeout=pdu_timeout,
        idle_timeout=idle_timeout,
    )
    node = DicomNode(config)
    try:
        bound_host, bound_port = node.start()
    except InteropError:
        node.store.close()
        raise
    sys.stderr.write(f"interop serve dicom: AE {ae_title} listening on {bound_host}:{bound_port}"
                     f"{' (TLS)' if tls_cert else ''}\n")
    sys.stderr.flush()

    def _stop(signum: int, frame: object) -> None:
        threading.Thread(target=node.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    node.serve_forever()
    node.stop()


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    """Add `serve dicom`."""
    serve_app.command("dicom")(serve_dicom)
