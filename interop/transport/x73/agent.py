"""`interop simulate x73-*`: plays a 20601 agent against a manager over TCP (blocking sockets).

AARQ → AARE; configuration report when the manager does not know the configuration; GET of the MDS
attributes answered whenever the manager asks; confirmed scan reports, each awaited; RLRQ → RLRE.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from interop.codecs.ieee11073 import agent, apdu
from interop.codecs.ieee11073 import nomenclature as nom
from interop.errors import TransportError


@dataclass
class AgentRun:
    """What the simulated agent sent and received, by APDU name."""

    profile: str
    config_id: int
    log: list[tuple[str, str]] = field(default_factory=list)  # ("tx"|"rx", name)
    aare_result: int | None = None
    config_result: int | None = None
    reports_confirmed: int = 0
    released: bool = False


def _name(value: Any) -> str:
    name = nom.APDU_NAMES.get(value.choice, "?")
    if value.choice == nom.PRST_CHOSEN:
        name = nom.DATA_APDU_NAMES.get(value.apdu.choice, name)
    return name


class _Link:
    def __init__(self, sock: socket.socket, run: AgentRun) -> None:
        self.sock = sock
        self.run = run

    def send(self, octets: bytes) -> None:
        self.run.log.append(("tx", _name(apdu.parse_apdu(octets))))
        self.sock.sendall(octets)

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise TransportError("manager closed the connection")
            buf += chunk
        return bytes(buf)

    def recv(self) -> Any:
        header = self._exact(4)
        frame = header + self._exact(int.from_bytes(header[2:4], "big"))
        value = apdu.parse_apdu(frame)
        self.run.log.append(("rx", _name(value)))
        return value


def run_agent(profile_name: str, host: str = "127.0.0.1", port: int = 6024, *, extended: bool = True,
              reports: int = 2, timeout: float = 10.0, now: datetime | None = None) -> AgentRun:
    """Play the agent `profile_name` (a key of `agent.PROFILES`) once; raise TransportError on failure
    (its `run` attribute is the AgentRun so far: how many reports the manager confirmed before it)."""
    profile = agent.PROFILES[profile_name]
    config_id = agent.EXTENDED_CONFIG_ID if extended else profile.config_id
    run = AgentRun(profile_name, config_id)
    now = (now or datetime.now()).replace(microsecond=0)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
    with sock:
        sock.settimeout(timeout)
        link = _Link(sock, run)
        try:
            try:
                _session(link, profile, config_id, extended, reports, now)
            except TimeoutError:
                raise TransportError(f"manager at {host}:{port} did not answer within {timeout} s") from None
            except OSError as exc:
                raise TransportError(f"connection to {host}:{port} failed: {exc}") from None
        except TransportError as exc:
            exc.run = run  # type: ignore[attr-defined] # what was confirmed before the failure
            raise
    return run


def _session(link: _Link, profile: agent.Profile, config_id: int, extended: bool, reports: int,
             now: datetime) -> None:
    run = link.run
    link.send(agent.aarq(profile.system_id, config_id))
    aare = _await(link, profile, config_id, now, lambda v: v.choice == nom.AARE_CHOSEN)
    run.aare_result = aare.apdu.result
    invoke = 1
    if run.aare_result == nom.ACCEPTED_UNKNOWN_CONFIG:
        link.send(agent.config_report(invoke, config_id, profile.config_id))
        rsp = _await(link, profile, config_id, now, lambda v: _rors(v, invoke))
        run.config_result = rsp.apdu.message.event_reply_info.config_result
        if run.config_result != nom.ACCEPTED_CONFIG:
            raise TransportError(f"manager did not accept the configuration (result {run.config_result})")
        invoke += 1
    elif run.aare_result != nom.ACCEPTED:
        raise TransportError(f"association rejected (AARE result {run.aare_result})")
    for n in range(reports):
        readings = profile.readings[n % len(profile.readings)]
        link.send(agent.scan_report_fixed(invoke, config_id, readings, now + timedelta(minutes=n), n,
                                          objects_of=profile.config_id))
        _await(link, profile, config_id, now, lambda v, i=invoke: _rors(v, i))
        run.reports_confirmed += 1
        invoke += 1
    link.send(agent.rlrq())
    _await(link, profile, config_id, now, lambda v: v.choice == nom.RLRE_CHOSEN)
    run.released = True


def _rors(value: Any, invoke: int) -> bool:
    if value.choice != nom.PRST_CHOSEN or value.apdu.invoke_id != invoke:
        return False
    if value.apdu.choice == nom.ROER_CHOSEN:
        raise TransportError(f"manager answered invoke {invoke} with roer {value.apdu.message.error_value}")
    return value.apdu.choice == nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN


def _await(link: _Link, profile: agent.Profile, config_id: int, now: datetime, wanted) -> Any:
    """Read APDUs until `wanted` matches, answering the manager's GET of the MDS attributes meanwhile."""
    for _ in range(64):
        value = link.recv()
        if value.choice == nom.ABRT_CHOSEN:
            raise TransportError(f"manager aborted the association (reason {value.apdu.reason})")
        if wanted(value):
            return value
        if value.choice == nom.PRST_CHOSEN and value.apdu.choice == nom.ROIV_CMIP_GET_CHOSEN:
            link.send(agent.mds_attributes(value.apdu.invoke_id, profile, config_id, now))
    raise TransportError("manager kept sending APDUs without answering")
