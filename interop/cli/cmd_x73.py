"""`interop serve x73` (20601 manager over TCP) and `interop simulate x73-*` (20601 agents); heavy imports inside."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from interop.cli.options import BundleType, FhirVersion
from interop.text import is_ascii_digits

PROFILES = ("x73-bp", "x73-scale", "x73-pulseox", "x73-thermo", "x73-glucose")




def serve_x73(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 6024,
    store: Annotated[Path | None, typer.Option(
        help="Directory for the durable store (store.sqlite3), learnt configurations (x73-configs/) and the FHIR "
             "files (fhir/). Without it the store is ./interop-store and Bundles go to --forward or stdout.")] = None,
    forward: Annotated[str | None, typer.Option(help="FHIR server base URL the Bundles are sent to.")] = None,
    fhir_version: Annotated[FhirVersion, typer.Option("--fhir-version", help="FHIR release.")] = FhirVersion.R4,
    bundle: Annotated[BundleType, typer.Option(help="Bundle type.")] = BundleType.transaction,
    idle_timeout: Annotated[float, typer.Option("--idle-timeout", help="Seconds of silence before a connection "
                                                "is closed.")] = 120.0,
    max_connections: Annotated[int, typer.Option(
        "--max-connections", help="Concurrent agent connections. At the limit the connection stalled longest "
                                  "(no AARQ yet, mid-APDU, then idle) is closed to admit a newcomer; only when "
                                  "all make progress is the newcomer refused (AARE rejected-transient).")] = 1024,
    apdu_timeout: Annotated[float, typer.Option(
        "--apdu-timeout", help="Seconds for an APDU to arrive completely once its first byte did (and for the "
                               "AARQ after connecting).")] = 10.0,
    patient: Annotated[list[str] | None, typer.Option(
        "--patient", help="Observation.subject: the logical Patient id the readings belong to (PHD IG 'provided "
                          "logical id'); for multi-user devices repeat as PERSON=ID (20601 person-id → Patient id).")
    ] = None,
    assume_tz: Annotated[str | None, typer.Option(
        "--assume-tz", help="Zone of the agents' local times (20601 absolute times carry none): an IANA name "
                            "(America/New_York) or +HH:MM. Default: this gateway's own zone.")] = None,
    system_id: Annotated[str | None, typer.Option(
        "--system-id", help="This PHG's own EUI-64 (16 hex digits), written as its PhgDevice. Default: one made "
        "on first start and kept in the store (STORE/phg-system-id), so each installation has its own.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every association.")] = False,
) -> None:
    """IEEE 11073-20601 manager: associates agents, learns extended configurations, emits one Bundle per association.

    Every APDU is stored durably before it is answered.
    """
    import logging
    import signal

    from interop.codecs.ieee11073.gateway import parse_system_id, parse_zone
    from interop.transport.x73.manager import ManagerConfig, X73Manager

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = ManagerConfig(host=host, port=port, store_dir=store or Path("interop-store"),
                           write_fhir=store is not None, forward_url=forward, fhir_version=fhir_version.value,
                           bundle_type=bundle.value, idle_timeout=idle_timeout,  # type: ignore[arg-type]
                           apdu_timeout=apdu_timeout, assoc_timeout=apdu_timeout, max_connections=max_connections,
                           assume_tz=parse_zone(assume_tz) if assume_tz else None, patient=_patients(patient),
                           system_id=parse_system_id(system_id) if system_id else None)
    manager = X73Manager(config)

    def _stop(signum: int, frame: object) -> None:
        manager.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    def started(bound_port: int) -> None:
        sys.stderr.write(f"interop serve x73: manager listening on {host}:{bound_port}\n")
        sys.stderr.flush()

    manager.serve_forever(on_started=started)


def _patients(values: list[str] | None) -> str | dict[int, str] | None:
    """`--patient ID` (every reading) or `--patient PERSON=ID ...` (per 20601 person-id)."""
    from interop.errors import UsageError

    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out: dict[int, str] = {}
    for v in values:
        person, sep, pid = v.partition("=")
        if not sep or not is_ascii_digits(person.strip()) or not pid.strip():
            raise UsageError(f"--patient {v!r}: expected ID, or PERSON=ID with a numeric 20601 person-id")
        out[int(person)] = pid.strip()
    return out


def _simulate(profile: str):
    def command(
        host: Annotated[str, typer.Option(help="Manager address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Manager TCP port.")] = 6024,
        reports: Annotated[int, typer.Option(help="Confirmed scan reports to send.")] = 2,
        config: Annotated[str, typer.Option(
            help="'extended': announce 0x4000 and send the configuration report when asked; "
                 "'standard': use the specialization's standard configuration id.")] = "extended",
        timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 10.0,
    ) -> None:
        from interop.errors import UsageError
        from interop.transport.x73.agent import run_agent

        if config not in ("extended", "standard"):
            raise UsageError(f"unknown --config {config!r}; expected extended or standard")
        run = run_agent(profile, host, port, extended=config == "extended", reports=reports, timeout=timeout)
        for direction, name in run.log:
            sys.stderr.write(f"{'→' if direction == 'tx' else '←'} {name}\n")
        sys.stderr.write(f"{profile}: config 0x{run.config_id:04X}, {run.reports_confirmed} report(s) confirmed, "
                         f"{'released' if run.released else 'not released'}\n")

    command.__doc__ = f"Play a {profile[4:]} IEEE 11073-20601 agent against a manager over TCP."
    return command


def register(app: typer.Typer, serve_app: typer.Typer, simulate_app: typer.Typer) -> None:
    """Add `serve x73` and `simulate x73-*`."""
    serve_app.command("x73")(serve_x73)
    for name in PROFILES:
        simulate_app.command(name)(_simulate(name))
