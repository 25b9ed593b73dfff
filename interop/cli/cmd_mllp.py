"""`interop serve mllp` (HL7 v2 over MLLP into FHIR, store-and-forward) and `interop send` (the MLLP client).
Heavy imports inside the commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from interop.cli.options import BundleType, FhirVersion


def serve_mllp(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port; the address is printed).")] = 2575,
    store: Annotated[Path | None, typer.Option(
        help="Directory for the durable queue (store.sqlite3) and the FHIR files (fhir/<name>.json). Without "
             "it the queue is ./interop-store and Bundles go to --forward or stdout.")] = None,
    forward: Annotated[str | None, typer.Option(
        help="FHIR server base URL: each message's transaction Bundle is POSTed there (retried with back-off "
             "while the server is down; 4xx answers go to the dead-letter queue).")] = None,
    fhir_version: Annotated[FhirVersion, typer.Option("--fhir-version", help="FHIR release.")] = FhirVersion.R4,
    bundle: Annotated[BundleType, typer.Option(help="Bundle type.")] = BundleType.transaction,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate: serve MLLP over TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for --tls-cert.")] = None,
    tls_ca: Annotated[Path | None, typer.Option(
        "--tls-ca", help="PEM CA bundle: require client certificates signed by it (mutual TLS).")] = None,
    allow: Annotated[list[str] | None, typer.Option(
        "--allow", help="Address or CIDR block allowed to connect (repeatable). Default: any.")] = None,
    max_frame: Annotated[int, typer.Option(
        "--max-frame", help="Largest message in bytes; larger ones get AR (code 207).")] = 16 * 1024 * 1024,
    idle_timeout: Annotated[float, typer.Option("--idle-timeout", help="Seconds of silence before a connection "
                                                "is closed.")] = 300.0,
    frame_timeout: Annotated[float, typer.Option(
        "--frame-timeout", help="Seconds a started block may take to end before the connection is closed.")] = 30.0,
    max_connections: Annotated[int, typer.Option("--max-connections", help="Concurrent connections.")] = 512,
    stats_interval: Annotated[float, typer.Option(
        "--stats-interval", help="Seconds between two stats lines on stderr (connections, acknowledgements, "
                                 "commit latency, queue counts; 0 = only at shutdown).")] = 60.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every connection.")] = False,
    ora_r41: Annotated[bool, typer.Option("--ora-r41", help="Answer every ORU^R40 (IHE PCD-04 Report Alert) with "
                                          "ORA^R41^ORA_R41; without it only alerts whose MSH-21 names IHE_PCD_ACM_001 "
                                          "get ORA^R41, others ACK.")] = False,
    quirks: Annotated[list[str] | None, typer.Option("--quirks", help=(
        "HL7 v2 quirk profile every message is decoded with (repeatable): a shipped name (`interop translate "
        "--help` lists them) or a path to a .toml file. Default: detected per message from MSH-3/4/21, else "
        "'default'. Every deviation tolerated is reported with the quirk's name."))] = None,
) -> None:
    """HL7 v2 listener: each message is stored durably, then acknowledged (AA/CA), then translated to FHIR.

    Acknowledgements follow HL7 v2 chapter 2: original mode AA/AE/AR, enhanced mode (MSH-15/16) CA/CE/CR
    as MSH-15 asks, MSA-2 = MSH-10, ERR with the position and the table 0357 code. A message re-sent with
    the same sender (MSH-3/4), control id (MSH-10) and content is acknowledged but stored once. What was
    acknowledged and not yet forwarded is replayed after a restart. `interop queue status --store DIR`
    shows the queue.
    """
    import asyncio
    import logging
    import signal

    from interop.transport.mllp.server import MllpConfig
    from interop.transport.mllp.service import MllpService

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("interop.forward").setLevel(logging.INFO)
    logging.getLogger("interop.mllp.stats").setLevel(logging.INFO)
    config = MllpConfig(host=host, port=port, max_frame=max_frame, idle_timeout=idle_timeout,
                        frame_timeout=frame_timeout, max_connections=max_connections, allow=list(allow or []),
                        tls_cert=tls_cert, tls_key=tls_key, tls_ca=tls_ca, ora_r41=ora_r41,
                        quirks=tuple(quirks or ()))
    service = MllpService(config, store_dir=store or Path("interop-store"), write_fhir=store is not None,
                          forward_url=forward, fhir_version=fhir_version.value,  # type: ignore[arg-type]
                          bundle_type=bundle.value, worker="process")  # type: ignore[arg-type]

    def started(p: int) -> None:
        where = ", ".join(x for x in (
            f"Bundles in {Path(store) / 'fhir'}" if store else None, f"forwarded to {forward}" if forward else None)
            if x) or "Bundles on stdout"
        sys.stderr.write(f"mllp listening on {host}:{p}{' (TLS)' if tls_cert else ''}; queue "
                         f"{service.store.path}; {where}\n")
        sys.stderr.flush()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.request_stop)
        await service.serve(started, stats_interval=stats_interval)

    asyncio.run(main())


def send(
    paths: Annotated[list[Path], typer.Argument(
        help="HL7 v2 files or folders: single messages, batch files (FHS/BHS), MLLP captures.", show_default=False)],
    port: Annotated[int, typer.Option(help="Receiver's TCP port.")] = 2575,
    host: Annotated[str, typer.Option(help="Receiver's address.")] = "127.0.0.1",
    tls: Annotated[bool, typer.Option("--tls", help="Connect with TLS (implied by the --tls-* options).")] = False,
    tls_ca: Annotated[Path | None, typer.Option("--tls-ca", help="PEM CA bundle to verify the server with.")] = None,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM client certificate (mutual TLS).")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key for --tls-cert.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each acknowledgement.")] = 30.0,
    window: Annotated[int, typer.Option(help="Messages sent before their acknowledgements arrive (1 = wait for "
                                              "each, the MLLP norm).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only negative acknowledgements.")] = False,
) -> None:
    """Send HL7 v2 messages over MLLP and print each acknowledgement (MSA-1, MSA-2, ERR).

    Exits 1 when any acknowledgement is not AA/CA, 2 when a file cannot be read or the receiver
    cannot be reached.
    """
    from interop.errors import UsageError
    from interop.transport.mllp.client import MllpClient, client_tls_context

    messages = list(_messages(paths))
    if not messages:
        raise UsageError("no HL7 v2 messages found in " + ", ".join(str(p) for p in paths))
    ctx = client_tls_context(tls_ca, tls_cert, tls_key) if (tls or tls_ca or tls_cert) else None
    bad = 0
    out = sys.stdout
    with MllpClient(host, port, timeout=timeout, tls=ctx) as client:
        for (label, _), result in zip(messages, client.send_all((m for _, m in messages), max(1, window)),
                                      strict=False):
            if not result.ok:
                bad += 1
            if quiet and result.ok:
                continue
            code = result.code or ("(none expected)" if not result.expected else "(none)")
            line = f"{label}: MSH-10 {result.control_id or '(none)'} -> {code}"
            if result.acked_id and result.acked_id != result.control_id:
                line += f" (MSA-2 {result.acked_id})"
            out.write(line + "".join(f"\n  ERR {e}" for e in result.errors) + "\n")
    out.flush()
    sys.stderr.write(f"{len(messages)} message(s) sent to {host}:{port}, {len(messages) - bad} acknowledged "
                     f"AA/CA, {bad} not\n")
    if bad:
        raise typer.Exit(1)


def _messages(paths: list[Path]) -> Iterator[tuple[str, bytes]]:
    """(label, message bytes) for every message of the given files and folders, in order."""
    from interop.codecs.hl7v2.batch import split
    from interop.codecs.hl7v2.tokenizer import strip_framing
    from interop.errors import UsageError

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise UsageError(f"{f}: cannot read ({exc.strerror})") from None
        chunks = split(data)
        for n, (offset, chunk) in enumerate(chunks, 1):
            payload, _ = strip_framing(chunk)
            payload = payload.replace(b"\r\n", b"\r").replace(b"\n", b"\r").rstrip(b"\r \t\x1c\x0b") + b"\r"
            if payload.strip() == b"":
                continue
            label = f"{f}" if len(chunks) == 1 else f"{f}[{n} @ byte {offset}]"
            yield label, payload


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    """Add `serve mllp` and `send`."""
    serve_app.command("mllp")(serve_mllp)
    app.command("send")(send)
