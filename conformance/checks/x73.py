"""IEEE 11073-20601 protocol assertions on a captured or live session (profile `x73-20601`).

The input is a trace as `interop translate` reads it (DESIGN.md "CLI contract"): hex text, one APDU
per line or spread over lines, `#` comments, lines starting with `<` are manager → agent APDUs; or
the raw binary concatenation of agent APDUs. Unlike the codec (which decodes the agent side into one
`Message`), the conformance view keeps both directions in the order they were exchanged, because the
rules are about that order: who may send what in which state, which answer belongs to which invoke.

Every APDU is parsed with the codec's own construct declarations (`codecs/ieee11073/apdu.py`,
attribute types in `attributes.py`, configurations in `configurations.py`); nothing is redeclared.
`session_from_bytes(data)` builds a `Session`; each rule is a function `rule(session)` yielding
`(location, message)` pairs, registered under its assertion id in `RULES`.

A capture that holds no AARQ is a fragment (a single APDU cut from a session, as in most published
test vectors): the rules that need the association (state order, configuration, invoke matching)
then stay silent and X73-FSM-001 says so; the APDU-level rules still run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from interop.codecs.ieee11073 import apdu, attributes, configurations, fsm, mder
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.trace import APDU_CHOICES, is_hex_text

from .base import Context, rule_registry

AGENT, MANAGER = "agent", "manager"
Hit = tuple[str, str]  # (location, message)
Rule = Callable[["Session"], Iterator[Hit]]
RULES: dict[str, Rule] = {}
rule = rule_registry(RULES)

_HEX_LINE = re.compile(r"^[0-9A-Fa-f\s]*$")
EVENT_INFO_OFFSET = 22  # APDU header 4, PRST length 2, invoke-id 2, choice 2, length 2, handle 2, time 4, type 2, length 2

# encoded sizes of the fixed-size attribute types (20601 annex A, MDER F.2): what an attribute-value-map may declare
FIXED_SIZES = {"Int16ub": 2, "Int32ub": 4, "TYPE": 4, "AbsoluteTime": 8, "BaseOffsetTime": 8, "HighResTimeStamp": 8,
               "NuObsValue": 10, "MetricStructureSmall": 2, "SaSpec": 6, "ScaleRangeSpec8": 10,
               "ScaleRangeSpec16": 12, "ScaleRangeSpec32": 16}
METRIC_CLASSES = frozenset({nom.MDC_MOC_VMO_METRIC_NU, nom.MDC_MOC_VMO_METRIC_ENUM, nom.MDC_MOC_VMO_METRIC_SA_RT})
KNOWN_CLASSES = METRIC_CLASSES | {nom.MDC_MOC_SCAN_CFG_EPI, nom.MDC_MOC_SCAN_CFG_PERI, nom.MDC_MOC_VMO_PMSTORE,
                                  62}  # PM-segment
METRIC_PARTITIONS = frozenset({nom.MDC_PART_SCADA, nom.MDC_PART_PHD_DM, nom.MDC_PART_PHD_HF, nom.MDC_PART_PHD_AI,
                               nom.MDC_PART_EXT_NOM, nom.MDC_PART_OBJ, nom.MDC_PART_INFRA})
MSMT_STATUS_RESERVED = 0x0200 | 0x0100 | 0x0010 | 0x0008 | 0x0004  # bits 6, 7, 11, 12, 13 of MeasurementStatus
SYS_TYPE_AGENT = 0x00800000
PRIVATE_TERMS = 0xF000  # term codes 0xF000..0xFFFF of every partition are private (11073-10101 clause A.3)
ASSOC_VERSION_1 = 0x80000000
NOMENCLATURE_VERSION_1 = 0x80000000
AARE_RESULTS = range(0, 9)  # accepted .. rejected-unsupported-assoc-version (A.8)
CONFIG_RESULTS = (nom.ACCEPTED_CONFIG, nom.UNSUPPORTED_CONFIG, nom.STANDARD_CONFIG_UNKNOWN)
SFLOAT_RESERVED, FLOAT_RESERVED = 0x0801, 0x00800001
BO_OFFSET_MINUTES = range(-720, 841)  # UTC-12:00 .. UTC+14:00


# ---------------------------------------------------------------------------------------------- the session
@dataclass
class Pdu:
    """One APDU of the session in exchange order."""

    number: int  # 1-based position among all APDUs
    sender: str  # AGENT or MANAGER
    offset: int  # octet offset in that sender's stream
    line: int | None  # hex-text line where it starts
    raw: bytes
    value: Any = None  # parsed Apdu container, None when malformed
    error: str | None = None
    error_offset: int | None = None

    @property
    def where(self) -> str:
        return self.at(self.offset)

    def at(self, offset: int | None) -> str:
        """Location of octet `offset` (of this sender's stream) inside this APDU."""
        side = "" if self.sender == AGENT else " manager"
        line = f" line {self.line}" if self.line else ""
        return f"APDU {self.number}{side}{line} byte {offset}"

    @property
    def choice(self) -> int | None:
        return self.value.choice if self.value is not None else None

    @property
    def data(self) -> Any:
        """The DataApdu of a PRST, else None."""
        return self.value.apdu if self.value is not None and self.value.choice == nom.PRST_CHOSEN else None

    @property
    def name(self) -> str:
        if self.value is None:
            return "malformed APDU"
        text = nom.APDU_NAMES.get(self.value.choice, "APDU")
        if self.data is not None:
            text = nom.DATA_APDU_NAMES.get(self.data.choice, text)
            event = getattr(self.data.message, "event_type", None)
            if event is not None:
                text += " " + nom.NOTI.get(event, f"event {event}")
        return text

    def is_event_report(self) -> bool:
        d = self.data
        return d is not None and d.choice in (nom.ROIV_CMIP_EVENT_REPORT_CHOSEN,
                                              nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN)

    def is_config_report(self) -> bool:
        return self.is_event_report() and self.data.message.event_type == nom.MDC_NOTI_CONFIG


@dataclass
class Transition:
    """The state the session was in when `pdu` arrived, and the manager action 20601 prescribes."""

    pdu: Pdu
    state: str
    event: str
    action: str


@dataclass
class Session:
    """Both directions of one capture, in order, with what the state walk learnt."""

    pdus: list[Pdu]
    framing: list[Hit] = field(default_factory=list)  # framing faults (X73-MDER-001)
    has_manager: bool = False
    aarq: Pdu | None = None
    info: Any = None  # PhdAssociationInformation of the AARQ
    config: configurations.Configuration | None = None
    config_pdu: Pdu | None = None
    config_error: Hit | None = None
    transitions: list[Transition] = field(default_factory=list)
    final_state: str = fsm.UNASSOCIATED

    @property
    def fragment(self) -> bool:
        """True when the capture holds no AARQ: association-level rules cannot be judged."""
        return self.aarq is None

    def agent(self) -> Iterator[Pdu]:
        return (p for p in self.pdus if p.sender == AGENT and p.value is not None)

    def parsed(self) -> Iterator[Pdu]:
        return (p for p in self.pdus if p.value is not None)


def session_from_bytes(data: bytes) -> Session:
    """Split a trace into APDUs of both directions (order kept), parse each, walk the state machine."""
    pdus: list[Pdu] = []
    framing: list[Hit] = []
    if is_hex_text(data):
        _split_hex(data, pdus, framing)
    else:
        _frame(AGENT, data, 0, None, pdus, framing)
    session = Session(pdus, framing, has_manager=any(p.sender == MANAGER for p in pdus))
    for p in pdus:
        try:
            p.value = apdu.parse_apdu(p.raw, base=p.offset)
        except apdu.LayoutError as exc:
            p.error, p.error_offset = str(exc), exc.offset
    _walk(session)
    return session


def _split_hex(data: bytes, pdus: list[Pdu], framing: list[Hit]) -> None:
    """Lines → per-direction buffers; an APDU is taken out as soon as its header's length is complete."""
    buffers = {AGENT: bytearray(), MANAGER: bytearray()}
    consumed = {AGENT: 0, MANAGER: 0}
    start_line: dict[str, int | None] = {AGENT: None, MANAGER: None}
    broken: set[str] = set()
    for number, line in enumerate(data.decode("ascii", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        sender = AGENT
        if text.startswith("<"):
            sender, text = MANAGER, text[1:]
        elif text.startswith(">"):
            text = text[1:]
        digits = "".join(text.split())
        if not _HEX_LINE.match(text) or len(digits) % 2:
            framing.append((f"line {number}", "line is not hex octets (two hex digits per octet, '#' comments, "
                                              "'<' manager lines)"))
            continue
        if sender in broken:
            continue
        buf = buffers[sender]
        if not buf:
            start_line[sender] = number
        buf += bytes.fromhex(digits)
        while len(buf) >= 4:
            if buf[0] not in APDU_CHOICES or buf[1] != 0:
                framing.append((f"line {start_line[sender]} byte {consumed[sender]}",
                                f"unknown APDU choice 0x{buf[0]:02X}{buf[1]:02X} in the {sender} stream; expected "
                                "0xE200..0xE700 (AARQ, AARE, RLRQ, RLRE, ABRT, PRST)"))
                broken.add(sender)
                buf.clear()
                break
            length = int.from_bytes(buf[2:4], "big")
            if len(buf) < 4 + length:
                break
            pdus.append(Pdu(len(pdus) + 1, sender, consumed[sender], start_line[sender], bytes(buf[:4 + length])))
            consumed[sender] += 4 + length
            del buf[:4 + length]
            start_line[sender] = number if buf else None
    for sender, buf in buffers.items():
        if buf and sender not in broken:
            framing.append((f"line {start_line[sender]} byte {consumed[sender]}",
                            f"{sender} APDU truncated: {len(buf)} octets left, the header announces more"))


def _frame(sender: str, stream: bytes, base: int, line: int | None, pdus: list[Pdu], framing: list[Hit]) -> None:
    pos = 0
    while pos < len(stream):
        rest = len(stream) - pos
        if rest < 4:
            framing.append((f"byte {base + pos}", f"truncated APDU header ({rest} octets)"))
            return
        if stream[pos] not in APDU_CHOICES or stream[pos + 1] != 0:
            framing.append((f"byte {base + pos}", f"unknown APDU choice 0x{stream[pos]:02X}{stream[pos + 1]:02X}; "
                                                  "expected 0xE200..0xE700"))
            return
        length = int.from_bytes(stream[pos + 2:pos + 4], "big")
        if pos + 4 + length > len(stream):
            framing.append((f"byte {base + pos + 2}", f"APDU length {length} overruns the {rest - 4} octets left"))
            return
        pdus.append(Pdu(len(pdus) + 1, sender, base + pos, line, stream[pos:pos + 4 + length]))
        pos += 4 + length


# ---------------------------------------------------------------------------------------------- state walk
def _agent_event(p: Pdu) -> str:
    """The manager state table event an agent APDU is (20601 annex E wording, as fsm.py names them)."""
    choice = p.value.choice
    if choice == nom.AARQ_CHOSEN:
        return fsm.RX_AARQ
    simple = {nom.AARE_CHOSEN: fsm.RX_AARE, nom.RLRQ_CHOSEN: fsm.RX_RLRQ, nom.RLRE_CHOSEN: fsm.RX_RLRE,
              nom.ABRT_CHOSEN: fsm.RX_ABRT}
    if choice in simple:
        return simple[choice]
    d = p.data
    if p.is_config_report():
        return fsm.RX_CONFIG_SUPPORTED
    if p.is_event_report():
        return fsm.RX_EVENT_REPORT
    if d.choice >> 8 == 0x01:
        return fsm.RX_ROIV_OTHER
    if d.choice >> 8 == 0x02:
        return fsm.RX_RORS
    return fsm.RX_ROER if d.choice == nom.ROER_CHOSEN else fsm.RX_RORJ


def _walk(s: Session) -> None:
    """Follow the association through the manager state machine (fsm.TRANSITION_TABLE), driven by the agent's
    APDUs and, when the capture has them, the manager's answers (AARE result, configuration result)."""
    state = fsm.UNASSOCIATED
    awaiting_config_result = False
    for p in s.parsed():
        if p.sender == MANAGER:
            if p.choice == nom.AARE_CHOSEN and state == fsm.ASSOCIATING:
                result = p.value.apdu.result
                state = {nom.ACCEPTED: fsm.OPERATING, nom.ACCEPTED_UNKNOWN_CONFIG: fsm.CONFIGURING}.get(
                    result, fsm.UNASSOCIATED)
            elif p.choice == nom.RLRQ_CHOSEN and state in (fsm.CONFIGURING, fsm.OPERATING):
                state = fsm.DISASSOCIATING
            elif p.choice == nom.RLRE_CHOSEN and state == fsm.DISASSOCIATING:
                state = fsm.UNASSOCIATED
            elif p.choice == nom.ABRT_CHOSEN:
                state = fsm.UNASSOCIATED
            elif (awaiting_config_result and p.data is not None
                  and p.data.choice == nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN
                  and p.data.message.event_type == nom.MDC_NOTI_CONFIG):
                awaiting_config_result = False
                if p.data.message.event_reply_info.config_result == nom.ACCEPTED_CONFIG:
                    state = fsm.OPERATING
            continue
        event = _agent_event(p)
        action = fsm.TRANSITION_TABLE.get((event, state), fsm.default_action)
        if event == fsm.RX_AARQ and state == fsm.UNASSOCIATED:
            s.aarq = s.aarq or p
            s.info = next((d.data_proto_info for d in p.value.apdu.data_proto_list
                           if d.data_proto_id == nom.DATA_PROTO_ID_20601), None)
            s.transitions.append(Transition(p, state, event, action.__name__))
            s.config = None
            if s.info is not None:
                s.config = configurations.standard(s.info.dev_config_id)
            if s.has_manager:
                state = fsm.ASSOCIATING  # the manager's AARE decides
            elif s.info is None:
                state = fsm.UNASSOCIATED
            else:
                state = fsm.OPERATING if s.config is not None else fsm.CONFIGURING
            continue
        s.transitions.append(Transition(p, state, event, action.__name__))
        if event == fsm.RX_CONFIG_SUPPORTED and state == fsm.CONFIGURING:
            _learn_config(s, p)
            if s.has_manager:
                awaiting_config_result = True
            elif s.config_error is None:
                state = fsm.OPERATING
        elif event in (fsm.RX_RLRQ, fsm.RX_ABRT) or action is fsm.default_action:
            if state != fsm.UNASSOCIATED or event == fsm.RX_RLRQ:
                state = fsm.UNASSOCIATED
        elif event == fsm.RX_RLRE and state == fsm.DISASSOCIATING:
            state = fsm.UNASSOCIATED
    s.final_state = state


def _learn_config(s: Session, p: Pdu) -> None:
    report = p.data.message.event_info
    s.config_pdu = p
    try:
        s.config = configurations.from_config_report(report, p.offset + EVENT_INFO_OFFSET)
    except apdu.LayoutError as exc:
        s.config_error = (p.at(exc.offset), f"configuration attribute malformed: {exc}")


# ---------------------------------------------------------------------------------------------- observations
@dataclass
class Observed:
    """One observation of a report: the object, its values (attribute id -> (value, offset)) and where."""

    pdu: Pdu
    handle: int
    obj: configurations.ConfigObject | None
    values: dict[int, tuple[Any, int]]


@dataclass
class ReportWalk:
    """Observations of every report, with the layout faults met on the way."""

    observations: list[Observed] = field(default_factory=list)
    unknown_handles: list[Hit] = field(default_factory=list)
    length_faults: list[Hit] = field(default_factory=list)
    group_faults: list[Hit] = field(default_factory=list)
    attribute_faults: list[Hit] = field(default_factory=list)


def _config_for(s: Session, p: Pdu) -> configurations.Configuration | None:
    """The configuration in force for a report: learnt from the session, or the one in the same capture."""
    return s.config


def reports(s: Session) -> ReportWalk:
    """Walk every scan report (agent event reports and data-request answers), cached on the session."""
    cached = getattr(s, "_reports", None)
    if cached is not None:
        return cached
    walk = ReportWalk()
    for p in s.agent():
        d = p.data
        if d is None:
            continue
        msg = d.message
        if p.is_event_report() and msg.event_type in nom.SCAN_REPORTS:
            _scan(s, p, msg.event_type, msg.obj_handle, msg.event_info, p.offset + EVENT_INFO_OFFSET, walk)
        elif (d.choice == nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN and msg.action_type == nom.MDC_ACT_DATA_REQUEST
              and msg.action_info_args.event_type in nom.SCAN_REPORTS):
            info = msg.action_info_args
            _scan(s, p, info.event_type, msg.obj_handle, info.event_info, p.offset + 28, walk)
        elif d.choice in (nom.RORS_CMIP_GET_CHOSEN,) and msg.obj_handle == 0:
            pos = p.offset + 18
            values = {}
            for ava in msg.attribute_list:
                value = _decode(ava.attribute_id, bytes(ava.attribute_value), pos + 4, p, walk)
                if value is not None:
                    values[ava.attribute_id] = (value, pos + 4)
                pos += 4 + len(ava.attribute_value)
            walk.observations.append(Observed(p, 0, None, values))
    s._reports = walk  # type: ignore[attr-defined]
    return walk


def _decode(attr_id: int, raw: bytes, pos: int, p: Pdu, walk: ReportWalk) -> Any:
    size = FIXED_SIZES.get(attributes.ATTRIBUTE_TYPES.get(attr_id, ""))
    if size is not None and len(raw) != size:  # the compiled parser ignores trailing octets: check the size here
        walk.attribute_faults.append((p.at(pos), f"{attributes.name(attr_id)} has {len(raw)} octets; its type has "
                                      f"{size}"))
        return None
    try:
        return attributes.decode(attr_id, raw, pos)
    except apdu.LayoutError as exc:
        walk.attribute_faults.append((p.at(exc.offset),
                                      f"{attributes.name(attr_id)} malformed: {exc}"))
        return None


def _scan(s: Session, p: Pdu, event_type: int, scanner: int, info: Any, base: int, walk: ReportWalk) -> None:
    conf = _config_for(s, p)
    pos = base + 4
    if event_type in nom.SCAN_FIXED:
        _fixed(s, p, conf, info.obs_scan_fixed, pos, walk)
    elif event_type in nom.SCAN_MP_FIXED:
        pos += 4
        for per in info.scan_per_fixed:
            _fixed(s, p, conf, per.obs_scan_fixed, pos + 2, walk)
            pos += 2 + 4 + sum(4 + len(o.obs_val_data) for o in per.obs_scan_fixed)
    elif event_type in nom.SCAN_VAR:
        _var(p, conf, info.obs_scan_var, pos, walk)
    elif event_type in nom.SCAN_MP_VAR:
        pos += 4
        for per in info.scan_per_var:
            _var(p, conf, per.obs_scan_var, pos + 2, walk)
            pos += 2 + 4 + sum(4 + sum(4 + len(a.attribute_value) for a in o.attributes) for o in per.obs_scan_var)
    elif event_type in nom.SCAN_GROUPED:
        pos += 4
        for group in info.obs_scan_grouped:
            _grouped(p, conf, scanner, bytes(group), pos + 2, walk)
            pos += 2 + len(group)
    else:
        pos += 4
        for per in info.scan_per_grouped:
            _grouped(p, conf, scanner, bytes(per.obs_scan_grouped), pos + 4, walk)
            pos += 4 + len(per.obs_scan_grouped)


def _object(p: Pdu, conf: Any, handle: int, pos: int, walk: ReportWalk) -> configurations.ConfigObject | None:
    if conf is None:
        return None
    obj = conf.objects.get(handle)
    if obj is None:
        walk.unknown_handles.append((p.at(pos), f"report for handle {handle}, which configuration "
                                     f"0x{conf.config_id:04X} does not hold"))
    return obj


def _slice(p: Pdu, handle: int, val_map: list[tuple[int, int]], data: bytes, pos: int, walk: ReportWalk,
           faults: list[Hit]) -> dict[int, tuple[Any, int]] | None:
    total = sum(n for _, n in val_map)
    if total != len(data):
        faults.append((p.at(pos), f"observation of handle {handle} has {len(data)} octets; its "
                       f"attribute-value-map declares {total}"))
        return None
    values: dict[int, tuple[Any, int]] = {}
    at = 0
    for attr_id, n in val_map:
        value = _decode(attr_id, data[at:at + n], pos + at, p, walk)
        if value is not None:
            values[attr_id] = (value, pos + at)
        at += n
    return values


def _fixed(s: Session, p: Pdu, conf: Any, observations: Any, pos: int, walk: ReportWalk) -> None:
    pos += 4
    for obs in observations:
        obj = _object(p, conf, obs.obj_handle, pos, walk)
        if obj is not None:
            values = _slice(p, obs.obj_handle, obj.val_map, bytes(obs.obs_val_data), pos + 4, walk, walk.length_faults)
            if values is not None:
                walk.observations.append(Observed(p, obs.obj_handle, obj, values))
        pos += 4 + len(obs.obs_val_data)


def _var(p: Pdu, conf: Any, observations: Any, pos: int, walk: ReportWalk) -> None:
    pos += 4
    for obs in observations:
        obj = _object(p, conf, obs.obj_handle, pos, walk)
        at = pos + 6
        values: dict[int, tuple[Any, int]] = {}
        for ava in obs.attributes:
            value = _decode(ava.attribute_id, bytes(ava.attribute_value), at + 4, p, walk)
            if value is not None:
                values[ava.attribute_id] = (value, at + 4)
            at += 4 + len(ava.attribute_value)
        walk.observations.append(Observed(p, obs.obj_handle, obj, values))
        pos = at


def _grouped(p: Pdu, conf: Any, scanner: int, group: bytes, pos: int, walk: ReportWalk) -> None:
    if conf is None:
        return
    scan_obj = conf.objects.get(scanner)
    maps = scan_obj.attributes.get(nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP) if scan_obj else None
    if maps is None:
        walk.unknown_handles.append((p.at(pos), f"grouped report from handle {scanner}, which holds "
                                     "no MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP"))
        return
    at = 0
    for entry in maps:
        vm = [(e.attribute_id, e.attribute_len) for e in entry.attr_val_map]
        size = sum(n for _, n in vm)
        obj = _object(p, conf, entry.obj_handle, pos + at, walk)
        values = _slice(p, entry.obj_handle, vm, group[at:at + size], pos + at, walk, walk.group_faults)
        if obj is not None and values is not None:
            walk.observations.append(Observed(p, entry.obj_handle, obj, values))
        at += size
    if at != len(group):
        walk.group_faults.append((p.at(pos), f"grouped observation of {len(group)} octets; the "
                                  f"scanner's handle-attribute-value map lays out {at}"))


# ============================================================================================ FSM rules
@rule("X73-FSM-001")
def capture_holds_association(s: Session) -> Iterator[Hit]:
    if s.fragment and s.pdus:
        first = s.pdus[0]
        yield first.where, (f"capture starts with {first.name} and holds no AARQ: a fragment, so state order, "
                            "configuration and invoke matching are not judged")


@rule("X73-FSM-002")
def no_data_before_association(s: Session) -> Iterator[Hit]:
    if s.fragment:
        return
    for t in s.transitions:
        if t.state == fsm.UNASSOCIATED and t.event not in (fsm.RX_AARQ, fsm.RX_ABRT):
            yield t.pdu.where, f"{t.pdu.name} sent while unassociated (20601 answers it with ABRT)"
        elif t.state == fsm.ASSOCIATING and t.event != fsm.RX_ABRT:
            yield t.pdu.where, f"{t.pdu.name} sent before the manager's AARE"


@rule("X73-FSM-003")
def only_config_while_configuring(s: Session) -> Iterator[Hit]:
    for t in s.transitions:
        if t.state == fsm.CONFIGURING and t.event in (fsm.RX_EVENT_REPORT, fsm.RX_ROIV_OTHER):
            yield t.pdu.where, (f"{t.pdu.name} sent in Configuring; only the configuration event report (or a "
                                "release) is allowed before the configuration is accepted")


@rule("X73-FSM-004")
def no_config_while_operating(s: Session) -> Iterator[Hit]:
    for t in s.transitions:
        if t.state == fsm.OPERATING and t.event == fsm.RX_CONFIG_SUPPORTED:
            yield t.pdu.where, "MDC_NOTI_CONFIG sent in Operating (the configuration is already agreed)"


@rule("X73-FSM-005")
def no_aarq_while_associated(s: Session) -> Iterator[Hit]:
    for t in s.transitions:
        if t.event == fsm.RX_AARQ and t.state not in (fsm.UNASSOCIATED,):
            yield t.pdu.where, f"AARQ sent while {t.state}; an agent releases before it associates again"


@rule("X73-FSM-006")
def agent_sends_no_aare(s: Session) -> Iterator[Hit]:
    if s.fragment:
        return
    for p in s.agent():
        if p.choice == nom.AARE_CHOSEN:
            yield p.where, "the agent sent an AARE; only the manager answers an association request"


@rule("X73-FSM-007")
def rlre_only_after_rlrq(s: Session) -> Iterator[Hit]:
    for t in s.transitions:
        if t.event == fsm.RX_RLRE and t.state != fsm.DISASSOCIATING:
            yield t.pdu.where, f"RLRE sent in {t.state} without a release request to answer"


@rule("X73-FSM-008")
def nothing_after_release(s: Session) -> Iterator[Hit]:
    released = False
    for p in s.parsed():
        if p.sender != AGENT:
            continue
        if p.choice == nom.AARQ_CHOSEN:
            released = False
        elif released and p.choice == nom.PRST_CHOSEN:
            yield p.where, f"{p.name} sent after the agent's RLRQ (the association is over)"
        elif p.choice == nom.RLRQ_CHOSEN:
            released = True


@rule("X73-FSM-009")
def association_ends(s: Session) -> Iterator[Hit]:
    if s.fragment or not s.pdus:
        return
    last = [p for p in s.parsed() if p.choice in (nom.RLRQ_CHOSEN, nom.RLRE_CHOSEN, nom.ABRT_CHOSEN)]
    if not last:
        yield s.pdus[-1].where, f"the capture ends in state {s.final_state} without RLRQ/RLRE or ABRT"


@rule("X73-FSM-010")
def aare_result_defined(s: Session) -> Iterator[Hit]:
    for p in s.parsed():
        if p.choice == nom.AARE_CHOSEN and p.value.apdu.result not in AARE_RESULTS:
            yield p.where, f"AARE result {p.value.apdu.result} is not an AssociateResult value (0..8)"


@rule("X73-FSM-011")
def config_result_defined(s: Session) -> Iterator[Hit]:
    for p in s.parsed():
        d = p.data
        if (d is not None and d.choice == nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN
                and d.message.event_type == nom.MDC_NOTI_CONFIG
                and d.message.event_reply_info.config_result not in CONFIG_RESULTS):
            yield p.where, (f"config-result 0x{d.message.event_reply_info.config_result:04X} is not accepted-config, "
                            "unsupported-config or standard-config-unknown")


@rule("X73-FSM-012")
def config_report_confirmed(s: Session) -> Iterator[Hit]:
    for p in s.agent():
        if p.is_config_report() and p.data.choice != nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
            yield p.where, "MDC_NOTI_CONFIG sent as an unconfirmed event report; the agent needs the manager's result"


@rule("X73-FSM-013")
def config_sent_when_asked(s: Session) -> Iterator[Hit]:
    """After accepted-unknown-config the agent's next invoke is its configuration."""
    if not s.has_manager:
        return
    waiting = False
    for p in s.parsed():
        if p.sender == MANAGER and p.choice == nom.AARE_CHOSEN:
            waiting = p.value.apdu.result == nom.ACCEPTED_UNKNOWN_CONFIG
            continue
        if waiting and p.sender == AGENT:
            if p.choice == nom.PRST_CHOSEN and not p.is_config_report():
                yield p.where, f"{p.name} sent after AARE accepted-unknown-config; the configuration report comes first"
            waiting = False


# ============================================================================================ invoke ids
def _answers(s: Session, asker: str) -> Iterator[tuple[Pdu, Pdu | None, int]]:
    """(answer, the invoke it answers or None, invoke id) for answers sent to `asker`'s invokes."""
    outstanding: dict[int, Pdu] = {}
    for p in s.parsed():
        d = p.data
        if d is None:
            continue
        if p.sender == asker and d.choice >> 8 == 0x01:
            if d.choice in (nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, nom.ROIV_CMIP_GET_CHOSEN,
                            nom.ROIV_CMIP_CONFIRMED_SET_CHOSEN, nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN):
                outstanding[d.invoke_id] = p
        elif p.sender != asker and d.choice >> 8 in (0x02, 0x03, 0x04):
            yield p, outstanding.pop(d.invoke_id, None), d.invoke_id


@rule("X73-INV-001")
def manager_answers_agent_invokes(s: Session) -> Iterator[Hit]:
    if not s.has_manager:
        return
    for answer, invoke, invoke_id in _answers(s, AGENT):
        if invoke is None:
            yield answer.where, f"{answer.name} answers invoke-id {invoke_id}, which no outstanding agent invoke used"


@rule("X73-INV-002")
def agent_answers_manager_invokes(s: Session) -> Iterator[Hit]:
    if not s.has_manager:
        return
    for answer, invoke, invoke_id in _answers(s, MANAGER):
        if invoke is None:
            yield answer.where, f"{answer.name} answers invoke-id {invoke_id}, which no outstanding manager invoke used"


@rule("X73-INV-003")
def outstanding_invoke_ids_distinct(s: Session) -> Iterator[Hit]:
    outstanding: dict[tuple[str, int], Pdu] = {}
    for p in s.parsed():
        d = p.data
        if d is None:
            continue
        other = MANAGER if p.sender == AGENT else AGENT
        if d.choice in (nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, nom.ROIV_CMIP_GET_CHOSEN,
                        nom.ROIV_CMIP_CONFIRMED_SET_CHOSEN, nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN):
            key = (p.sender, d.invoke_id)
            if key in outstanding and s.has_manager:
                yield p.where, (f"invoke-id {d.invoke_id} reused while {outstanding[key].where} with the same id "
                                "is still unanswered")
            outstanding[key] = p
        elif d.choice >> 8 in (0x02, 0x03, 0x04):
            outstanding.pop((other, d.invoke_id), None)
    if not s.has_manager:  # without the manager's side, consecutive confirmed reports must still differ
        last: dict[str, int] = {}
        for p in s.agent():
            d = p.data
            if d is not None and d.choice == nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
                if last.get(AGENT) == d.invoke_id:
                    yield p.where, f"invoke-id {d.invoke_id} repeated by consecutive confirmed event reports"
                last[AGENT] = d.invoke_id


_ANSWER_OF = {nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN: nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN,
              nom.ROIV_CMIP_GET_CHOSEN: nom.RORS_CMIP_GET_CHOSEN,
              nom.ROIV_CMIP_CONFIRMED_SET_CHOSEN: nom.RORS_CMIP_CONFIRMED_SET_CHOSEN,
              nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN: nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN}


@rule("X73-INV-004")
def answer_matches_invoke(s: Session) -> Iterator[Hit]:
    for asker in (AGENT, MANAGER):
        for answer, invoke, invoke_id in _answers(s, asker):
            if invoke is None or answer.data.choice in (nom.ROER_CHOSEN, nom.RORJ_CHOSEN):
                continue
            want = _ANSWER_OF.get(invoke.data.choice)
            if answer.data.choice != want:
                yield answer.where, (f"{answer.name} answers {invoke.name} (invoke-id {invoke_id}); expected "
                                     f"{nom.DATA_APDU_NAMES.get(want, '?')}")
                continue
            m_inv, m_ans = invoke.data.message, answer.data.message
            for attr in ("event_type", "action_type"):
                a, b = getattr(m_inv, attr, None), getattr(m_ans, attr, None)
                if a is not None and b is not None and a != b:
                    yield answer.where, f"{attr.replace('_', '-')} {b} answers {attr.replace('_', '-')} {a}"


@rule("X73-INV-005")
def confirmed_reports_answered(s: Session) -> Iterator[Hit]:
    if not s.has_manager:
        return
    outstanding: dict[int, Pdu] = {}
    for p in s.parsed():
        d = p.data
        if d is None:
            continue
        if p.sender == AGENT and d.choice == nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
            outstanding[d.invoke_id] = p
        elif p.sender == MANAGER and d.choice >> 8 in (0x02, 0x03, 0x04):
            outstanding.pop(d.invoke_id, None)
    for p in outstanding.values():
        yield p.where, f"{p.name} (invoke-id {p.data.invoke_id}) never answered by the manager"


# ============================================================================================ configuration
@rule("X73-CFG-001")
def config_id_matches_aarq(s: Session) -> Iterator[Hit]:
    if s.info is None:
        return
    for p in s.agent():
        if p.is_config_report():
            rid = p.data.message.event_info.config_report_id
            if rid != s.info.dev_config_id:
                yield p.where, (f"config-report-id 0x{rid:04X} differs from the AARQ dev-config-id "
                                f"0x{s.info.dev_config_id:04X}")


def _config_reports(s: Session) -> Iterator[Pdu]:
    return (p for p in s.agent() if p.is_config_report())


@rule("X73-CFG-002")
def handles_unique(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        seen: set[int] = set()
        for obj in p.data.message.event_info.config_obj_list:
            if obj.obj_handle == 0:
                yield p.where, f"object of class {obj.obj_class} uses handle 0, which is the MDS"
            elif obj.obj_handle in seen:
                yield p.where, f"handle {obj.obj_handle} declared twice"
            seen.add(obj.obj_handle)


def _config_objects(p: Pdu) -> Iterator[tuple[Any, dict[int, bytes]]]:
    for obj in p.data.message.event_info.config_obj_list:
        yield obj, {a.attribute_id: bytes(a.attribute_value) for a in obj.attributes}


@rule("X73-CFG-003")
def metric_has_type(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        for obj, attrs in _config_objects(p):
            if obj.obj_class in METRIC_CLASSES and nom.MDC_ATTR_ID_TYPE not in attrs:
                yield p.where, f"metric object handle {obj.obj_handle} lacks MDC_ATTR_ID_TYPE (mandatory)"


@rule("X73-CFG-004")
def metric_has_spec_small(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        for obj, attrs in _config_objects(p):
            if obj.obj_class in METRIC_CLASSES and nom.MDC_ATTR_METRIC_SPEC_SMALL not in attrs:
                yield p.where, f"metric object handle {obj.obj_handle} lacks MDC_ATTR_METRIC_SPEC_SMALL (mandatory)"


@rule("X73-CFG-005")
def numeric_has_unit(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        for obj, attrs in _config_objects(p):
            if obj.obj_class == nom.MDC_MOC_VMO_METRIC_NU and nom.MDC_ATTR_UNIT_CODE not in attrs:
                yield p.where, f"numeric object handle {obj.obj_handle} lacks MDC_ATTR_UNIT_CODE (mandatory)"


@rule("X73-CFG-006")
def value_map_sizes(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        for obj, attrs in _config_objects(p):
            raw = attrs.get(nom.MDC_ATTR_ATTRIBUTE_VAL_MAP)
            if raw is None:
                continue
            try:
                entries = attributes.decode(nom.MDC_ATTR_ATTRIBUTE_VAL_MAP, raw)
            except apdu.LayoutError:
                continue  # X73-MDER-003 reports it
            for e in entries:
                size = FIXED_SIZES.get(attributes.ATTRIBUTE_TYPES.get(e.attribute_id, ""))
                if size is not None and e.attribute_len != size:
                    yield p.where, (f"handle {obj.obj_handle}: attribute-value-map gives "
                                    f"{attributes.name(e.attribute_id)} {e.attribute_len} octets; its type is "
                                    f"{size} octets")


@rule("X73-CFG-007")
def fixed_report_lengths(s: Session) -> Iterator[Hit]:
    yield from reports(s).length_faults


@rule("X73-CFG-008")
def reported_handles_configured(s: Session) -> Iterator[Hit]:
    yield from reports(s).unknown_handles


@rule("X73-CFG-009")
def config_id_range(s: Session) -> Iterator[Hit]:
    if s.info is None:
        return
    cid = s.info.dev_config_id
    if cid == 0 or cid > nom.EXTENDED_CONFIG_END:
        yield s.aarq.where, f"dev-config-id 0x{cid:04X} is outside 0x0001..0x7FFF (standard and extended ranges)"


@rule("X73-CFG-010")
def extended_config_reported(s: Session) -> Iterator[Hit]:
    """An extended (or unknown) configuration is sent before the data that needs it."""
    if s.info is None or s.config_pdu is not None:
        return
    if s.has_manager and not any(p.choice == nom.AARE_CHOSEN and p.value.apdu.result == nom.ACCEPTED_UNKNOWN_CONFIG
                                 for p in s.parsed()):
        return
    if configurations.standard(s.info.dev_config_id) is None:
        data = [p for p in s.agent() if p.is_event_report()]
        if data:
            yield data[0].where, (f"scan report for dev-config-id 0x{s.info.dev_config_id:04X}, which is not a "
                                  "standard configuration, and no MDC_NOTI_CONFIG announced it")


@rule("X73-CFG-011")
def compound_sizes(s: Session) -> Iterator[Hit]:
    for o in reports(s).observations:
        if o.obj is None:
            continue
        static = o.obj.attributes
        for attr in (nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP, nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC):
            if attr not in o.values:
                continue
            value, off = o.values[attr]
            ids = static.get(nom.MDC_ATTR_ID_PHYSIO_LIST)
            struct = static.get(nom.MDC_ATTR_METRIC_STRUCT_SMALL)
            want = len(ids) if ids is not None else (struct.ms_comp_no if struct is not None else None)
            if want is not None and len(value) != want:
                yield o.pdu.at(off), (f"compound value of handle {o.handle} has {len(value)} members; "
                                                    f"the configuration declares {want}")


@rule("X73-CFG-012")
def grouped_lengths(s: Session) -> Iterator[Hit]:
    yield from reports(s).group_faults


@rule("X73-CFG-013")
def object_classes_known(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        for obj in p.data.message.event_info.config_obj_list:
            if obj.obj_class not in KNOWN_CLASSES:
                yield p.where, f"handle {obj.obj_handle} has object class {obj.obj_class}, which 20601 does not define"


@rule("X73-CFG-014")
def config_readable(s: Session) -> Iterator[Hit]:
    if s.config_error is not None:
        yield s.config_error


@rule("X73-CFG-015")
def handle_references_resolve(s: Session) -> Iterator[Hit]:
    for p in _config_reports(s):
        handles = {o.obj_handle for o in p.data.message.event_info.config_obj_list}
        for obj, attrs in _config_objects(p):
            refs: list[int] = []
            try:
                if nom.MDC_ATTR_SOURCE_HANDLE_REF in attrs:
                    refs.append(attributes.decode(nom.MDC_ATTR_SOURCE_HANDLE_REF, attrs[nom.MDC_ATTR_SOURCE_HANDLE_REF]))
                if nom.MDC_ATTR_SCAN_HANDLE_LIST in attrs:
                    refs.extend(attributes.decode(nom.MDC_ATTR_SCAN_HANDLE_LIST, attrs[nom.MDC_ATTR_SCAN_HANDLE_LIST]))
                if nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP in attrs:
                    refs.extend(e.obj_handle for e in attributes.decode(nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP,
                                                                         attrs[nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP]))
            except apdu.LayoutError:
                continue
            for ref in refs:
                if ref not in handles:
                    yield p.where, f"handle {obj.obj_handle} refers to handle {ref}, which the configuration lacks"


# ============================================================================================ units and types
def _types(s: Session) -> Iterator[tuple[Pdu, int, Any, int | None]]:
    """(config report, handle, TYPE, unit code) of every typed object of the configuration reports."""
    for p in _config_reports(s):
        for obj, attrs in _config_objects(p):
            try:
                t = attributes.decode(nom.MDC_ATTR_ID_TYPE, attrs[nom.MDC_ATTR_ID_TYPE]) \
                    if nom.MDC_ATTR_ID_TYPE in attrs else None
                unit = attributes.decode(nom.MDC_ATTR_UNIT_CODE, attrs[nom.MDC_ATTR_UNIT_CODE]) \
                    if nom.MDC_ATTR_UNIT_CODE in attrs else None
            except apdu.LayoutError:
                continue
            if t is not None:
                yield p, obj.obj_handle, t, unit


def _mdc():
    from interop.terminology import mdc
    return mdc


@rule("X73-UNIT-001")
def unit_known(s: Session) -> Iterator[Hit]:
    mdc = _mdc()
    for p, handle, _t, unit in _types(s):
        if unit is not None and mdc.unit(nom.mdc_code(nom.MDC_PART_DIM, unit)) is None:
            yield p.where, f"handle {handle}: unit code {unit} is not an MDC_DIM unit of the terminology tables"


@rule("X73-UNIT-002")
def unit_fits_type(s: Session) -> Iterator[Hit]:
    mdc = _mdc()
    for p, handle, t, unit in _types(s):
        if unit is None:
            continue
        term = mdc.term(nom.mdc_code(t.partition, t.code))
        u = mdc.unit(nom.mdc_code(nom.MDC_PART_DIM, unit))
        if term is None or u is None or not term.ucum_units or u.ucum is None:
            continue
        if u.ucum not in term.ucum_units:
            yield p.where, (f"handle {handle}: {term.refid} measured in {u.refid} ({u.ucum}); the term allows "
                            f"{', '.join(term.ucum_units)}")


@rule("X73-UNIT-003")
def type_known(s: Session) -> Iterator[Hit]:
    mdc = _mdc()
    for p, handle, t, _unit in _types(s):
        if t.partition in (nom.MDC_PART_SCADA, nom.MDC_PART_PHD_DM, nom.MDC_PART_PHD_HF, nom.MDC_PART_PHD_AI) \
                and t.code < PRIVATE_TERMS and mdc.term(nom.mdc_code(t.partition, t.code)) is None:
            yield p.where, f"handle {handle}: type {t.partition}::{t.code} is not an MDC term of the terminology tables"


@rule("X73-UNIT-006")
def private_terms(s: Session) -> Iterator[Hit]:
    for p, handle, t, _unit in _types(s):
        if t.code >= PRIVATE_TERMS:
            yield p.where, (f"handle {handle}: type {t.partition}::{t.code} (0x{t.code:04X}) is a private term; "
                            "a receiver cannot interpret it without the vendor's nomenclature")


@rule("X73-UNIT-004")
def type_partition(s: Session) -> Iterator[Hit]:
    for p, handle, t, _unit in _types(s):
        if t.partition not in METRIC_PARTITIONS:
            yield p.where, f"handle {handle}: MDC_ATTR_ID_TYPE partition {t.partition} is not a 11073-10101 partition"


@rule("X73-UNIT-005")
def reported_unit_fits(s: Session) -> Iterator[Hit]:
    """Units carried inside values (NuObsValue unit-code) are MDC_DIM units allowed for the metric-id."""
    mdc = _mdc()
    for o in reports(s).observations:
        entries = []
        if nom.MDC_ATTR_NU_VAL_OBS in o.values:
            entries = [o.values[nom.MDC_ATTR_NU_VAL_OBS]]
        elif nom.MDC_ATTR_NU_CMPD_VAL_OBS in o.values:
            v, off = o.values[nom.MDC_ATTR_NU_CMPD_VAL_OBS]
            entries = [(e, off) for e in v]
        t = o.obj.type if o.obj is not None else None
        for nu, off in entries:
            u = mdc.unit(nom.mdc_code(nom.MDC_PART_DIM, nu.unit_code))
            if u is None:
                yield o.pdu.at(off), f"handle {o.handle}: unit code {nu.unit_code} is not an MDC_DIM unit"
                continue
            part = t[0] if t else nom.MDC_PART_SCADA
            term = mdc.term(nom.mdc_code(part, nu.metric_id or (t[1] if t else 0)))
            if term is not None and term.ucum_units and u.ucum and u.ucum not in term.ucum_units:
                yield o.pdu.at(off), (f"handle {o.handle}: {term.refid} reported in {u.refid}; the term "
                                                    f"allows {', '.join(term.ucum_units)}")


# ============================================================================================ MDER and values
@rule("X73-MDER-001")
def framing(s: Session) -> Iterator[Hit]:
    yield from s.framing


@rule("X73-MDER-002")
def apdu_well_formed(s: Session) -> Iterator[Hit]:
    for p in s.pdus:
        if p.error is not None:
            yield p.at(p.error_offset), f"APDU malformed: {p.error}"


@rule("X73-MDER-003")
def attributes_well_formed(s: Session) -> Iterator[Hit]:
    yield from reports(s).attribute_faults
    for p in _config_reports(s):
        pos = p.offset + EVENT_INFO_OFFSET + 6
        for obj in p.data.message.event_info.config_obj_list:
            pos += 8
            for ava in obj.attributes:
                raw = bytes(ava.attribute_value)
                size = FIXED_SIZES.get(attributes.ATTRIBUTE_TYPES.get(ava.attribute_id, ""))
                if size is not None and len(raw) != size:
                    yield p.at(pos + 4), (f"{attributes.name(ava.attribute_id)} of handle {obj.obj_handle} has "
                                          f"{len(raw)} octets; its type has {size}")
                else:
                    try:
                        attributes.decode(ava.attribute_id, raw, pos + 4)
                    except apdu.LayoutError as exc:
                        yield p.at(exc.offset), f"{attributes.name(ava.attribute_id)} malformed: {exc}"
                pos += 4 + len(ava.attribute_value)


def _aarqs(s: Session) -> Iterator[tuple[Pdu, Any]]:
    for p in s.agent():
        if p.choice == nom.AARQ_CHOSEN:
            info = next((d.data_proto_info for d in p.value.apdu.data_proto_list
                         if d.data_proto_id == nom.DATA_PROTO_ID_20601), None)
            yield p, info


@rule("X73-MDER-004")
def assoc_version(s: Session) -> Iterator[Hit]:
    for p, _info in _aarqs(s):
        if not p.value.apdu.assoc_version & ASSOC_VERSION_1:
            yield p.where, f"assoc-version 0x{p.value.apdu.assoc_version:08X} lacks assoc-version1 (0x80000000)"


@rule("X73-MDER-005")
def data_proto_20601(s: Session) -> Iterator[Hit]:
    for p, info in _aarqs(s):
        if info is None:
            ids = [d.data_proto_id for d in p.value.apdu.data_proto_list]
            yield p.where, f"data-proto-list {ids} holds no data-proto-id-20601 (20601)"


@rule("X73-MDER-006")
def protocol_and_encoding(s: Session) -> Iterator[Hit]:
    for p, info in _aarqs(s):
        if info is None:
            continue
        if not info.protocol_version & 0xE0000000:
            yield p.where, f"protocol-version 0x{info.protocol_version:08X} names no known 20601 version"
        if not info.encoding_rules & nom.MDER_ENCODING:
            yield p.where, f"encoding-rules 0x{info.encoding_rules:04X} lack MDER (0x8000), which every agent supports"


@rule("X73-MDER-007")
def nomenclature_version(s: Session) -> Iterator[Hit]:
    for p, info in _aarqs(s):
        if info is not None and not info.nomenclature_version & NOMENCLATURE_VERSION_1:
            yield p.where, f"nomenclature-version 0x{info.nomenclature_version:08X} lacks nom-version1 (0x80000000)"


@rule("X73-MDER-008")
def system_type_agent(s: Session) -> Iterator[Hit]:
    for p, info in _aarqs(s):
        if info is not None and not info.system_type & SYS_TYPE_AGENT:
            yield p.where, f"system-type 0x{info.system_type:08X} lacks sys-type-agent (0x00800000)"


@rule("X73-MDER-009")
def system_id_eui64(s: Session) -> Iterator[Hit]:
    for p, info in _aarqs(s):
        if info is None:
            continue
        sid = bytes(info.system_id)
        if len(sid) != 8:
            yield p.where, f"system-id has {len(sid)} octets; an EUI-64 has 8"
        elif sid in (b"\x00" * 8, b"\xff" * 8):
            yield p.where, f"system-id {sid.hex().upper()} is not a real EUI-64"


def _numbers(s: Session) -> Iterator[tuple[Observed, int, str, int]]:
    """(observation, offset, 'SFLOAT'|'FLOAT', raw bits) of every numeric value reported."""
    for o in reports(s).observations:
        for attr, (value, off) in o.values.items():
            if attr == nom.MDC_ATTR_NU_VAL_OBS_BASIC:
                yield o, off, "SFLOAT", value
            elif attr == nom.MDC_ATTR_NU_VAL_OBS_SIMP:
                yield o, off, "FLOAT", value
            elif attr == nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC:
                for i, v in enumerate(value):
                    yield o, off + 4 + 2 * i, "SFLOAT", v
            elif attr == nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP:
                for i, v in enumerate(value):
                    yield o, off + 4 + 4 * i, "FLOAT", v
            elif attr == nom.MDC_ATTR_NU_VAL_OBS:
                yield o, off + 6, "FLOAT", value.value
            elif attr == nom.MDC_ATTR_NU_CMPD_VAL_OBS:
                for i, v in enumerate(value):
                    yield o, off + 4 + 10 * i + 6, "FLOAT", v.value


@rule("X73-MDER-010")
def no_reserved_special(s: Session) -> Iterator[Hit]:
    for o, off, kind, bits in _numbers(s):
        if (kind == "SFLOAT" and bits == SFLOAT_RESERVED) or (kind == "FLOAT" and bits == FLOAT_RESERVED):
            yield o.pdu.at(off), (f"handle {o.handle}: {kind} 0x{bits:X} is the value reserved for "
                                                "future use")


@rule("X73-MDER-011")
def special_values(s: Session) -> Iterator[Hit]:
    for o, off, kind, bits in _numbers(s):
        name = mder.SPECIAL_NAMES.get(bits) if bits in (mder.SFLOAT_SPECIAL if kind == "SFLOAT"
                                                         else mder.FLOAT_SPECIAL) else None
        if name and name != "reserved":
            yield o.pdu.at(off), f"handle {o.handle}: {kind} special value {name} (no number reported)"


@rule("X73-MDER-012")
def special_value_flagged(s: Session) -> Iterator[Hit]:
    """A NaN/NRes value comes with a Measurement-Status saying so (invalid or not-available), when reported."""
    for o, off, kind, bits in _numbers(s):
        name = mder.SPECIAL_NAMES.get(bits) if bits in (mder.SFLOAT_SPECIAL if kind == "SFLOAT"
                                                         else mder.FLOAT_SPECIAL) else None
        if name not in ("NaN", "NRes"):
            continue
        status = o.values.get(nom.MDC_ATTR_MSMT_STAT)
        if status is not None and not status[0] & 0xE000:
            yield o.pdu.at(off), (f"handle {o.handle}: {kind} {name} reported with Measurement-Status "
                                                f"0x{status[0]:04X}, which flags neither invalid nor not-available")


@rule("X73-MDER-013")
def msmt_status_reserved_bits(s: Session) -> Iterator[Hit]:
    for o in reports(s).observations:
        status = o.values.get(nom.MDC_ATTR_MSMT_STAT)
        if status is not None and status[0] & MSMT_STATUS_RESERVED:
            yield o.pdu.at(status[1]), (f"handle {o.handle}: Measurement-Status 0x{status[0]:04X} sets "
                                                      "reserved bits")


@rule("X73-MDER-014")
def prst_length_consistent(s: Session) -> Iterator[Hit]:
    for p in s.pdus:
        if p.raw[:2] == b"\xe7\x00" and len(p.raw) >= 6:
            outer = int.from_bytes(p.raw[2:4], "big")
            inner = int.from_bytes(p.raw[4:6], "big")
            if inner != outer - 2:
                yield p.where, f"PRST octet-string length {inner}; the APDU length {outer} requires {outer - 2}"


# ============================================================================================ time
def _times(s: Session) -> Iterator[tuple[Observed, int, int, Any]]:
    for o in reports(s).observations:
        for attr in (nom.MDC_ATTR_TIME_STAMP_ABS, nom.MDC_ATTR_TIME_ABS):
            if attr in o.values:
                t, off = o.values[attr]
                yield o, off, attr, bytes([t.century, t.year, t.month, t.day, t.hour, t.minute, t.second,
                                           t.sec_fractions])


def _absolute(raw: bytes):
    if raw in (b"\xff" * 8, b"\x00" * 8):
        return None
    return mder.absolute_time(raw)[0]


@rule("X73-TIME-001")
def absolute_time_valid(s: Session) -> Iterator[Hit]:
    for o, off, attr, raw in _times(s):
        try:
            _absolute(raw)
        except ValueError as exc:
            yield o.pdu.at(off), f"{attributes.name(attr)} {raw.hex().upper()} is not a BCD date and time ({exc})"


@rule("X73-TIME-002")
def time_stamps_ordered(s: Session) -> Iterator[Hit]:
    last: dict[int, Any] = {}
    for o, off, attr, raw in _times(s):
        if attr != nom.MDC_ATTR_TIME_STAMP_ABS or o.pdu.data is None or o.pdu.is_event_report() is False:
            continue
        msg = o.pdu.data.message
        if getattr(msg, "event_type", None) not in nom.SCAN_REPORTS - {3368, 3369, 3370, 3371, 3372, 3373}:
            continue  # buffered reports may replay older data
        try:
            when = _absolute(raw)
        except ValueError:
            continue
        if when is None:
            continue
        if o.handle in last and when < last[o.handle]:
            yield o.pdu.at(off), (f"handle {o.handle}: time stamp {when.isoformat()} is earlier than the "
                                                f"previous one of the same metric ({last[o.handle].isoformat()})")
        last[o.handle] = when


@rule("X73-TIME-003")
def relative_time_anchored(s: Session) -> Iterator[Hit]:
    mds: set[int] = set()
    for o in reports(s).observations:
        if o.handle == 0 and o.obj is None and o.pdu.data is not None \
                and o.pdu.data.choice == nom.RORS_CMIP_GET_CHOSEN:
            mds |= set(o.values)
            continue
        for attr, anchor in ((nom.MDC_ATTR_TIME_STAMP_REL, nom.MDC_ATTR_TIME_REL),
                             (nom.MDC_ATTR_TIME_STAMP_REL_HI_RES, nom.MDC_ATTR_TIME_REL_HI_RES)):
            if attr in o.values and (anchor not in mds or nom.MDC_ATTR_TIME_ABS not in mds) and not s.fragment:
                yield o.pdu.at(o.values[attr][1]), (
                    f"handle {o.handle}: {attributes.name(attr)} used, but the MDS attributes read hold no "
                    f"{attributes.name(anchor)} with MDC_ATTR_TIME_ABS to place it on a calendar")
                return


@rule("X73-TIME-004")
def bo_offset_range(s: Session) -> Iterator[Hit]:
    for o in reports(s).observations:
        for attr in (nom.MDC_ATTR_TIME_STAMP_BO, nom.MDC_ATTR_TIME_BO):
            if attr in o.values:
                t, off = o.values[attr]
                if t.bo_time_offset not in BO_OFFSET_MINUTES:
                    yield o.pdu.at(off), (f"{attributes.name(attr)} offset {t.bo_time_offset} minutes "
                                                        "is outside UTC-12:00..UTC+14:00")


@rule("X73-TIME-005")
def mds_clock_declared(s: Session) -> Iterator[Hit]:
    """Absolute time stamps need a device clock: when MDS attributes were read, they include Date-and-Time."""
    mds = [o for o in reports(s).observations if o.handle == 0 and o.obj is None]
    if not mds:
        return
    declared = set().union(*(o.values for o in mds))
    if nom.MDC_ATTR_TIME_ABS in declared:
        return
    for o in reports(s).observations:
        if nom.MDC_ATTR_TIME_STAMP_ABS in o.values:
            yield o.pdu.at(o.values[nom.MDC_ATTR_TIME_STAMP_ABS][1]), (
                f"handle {o.handle} carries an absolute time stamp but the MDS attributes read hold no "
                "MDC_ATTR_TIME_ABS (Date-and-Time)")
            return


def check(data: bytes) -> list[tuple[str, str, str]]:
    """(assertion id, location, message) of every rule on one capture (for tests and the live endpoint)."""
    session = session_from_bytes(data)
    out: list[tuple[str, str, str]] = []
    for assertion_id, fn in RULES.items():
        out.extend((assertion_id, loc, msg) for loc, msg in fn(session))
    return out


# ----------------------------------------------------------------------------------------- input kind
CASES_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "cases" / "x73"


class X73Kind:
    """IEEE 11073-20601 traces as an input kind of the runner (catalogue.KINDS contract)."""

    name = "x73"

    def sniff(self, data: bytes) -> bool:
        from interop.codecs.ieee11073.codec import X73Codec

        return X73Codec().sniff(data[:4096]) >= 80

    def contexts(self, data: bytes, label: str, user_profile: Any = None) -> list[Context]:
        text = data.decode("ascii", errors="replace") if is_hex_text(data) else ""
        return [Context("x73", label, session_from_bytes(data), text, facts_of=facts)]

    def build_case(self, spec: Any) -> bytes:
        """A crafted case: a file of cases/x73/ (tests/conformance/x73_cases.py writes them)."""
        return (CASES_DIR / spec).read_bytes()

    def default_profile(self, ctx: Context) -> str:
        return "x73-20601"


def facts(s: Session) -> dict[str, set[str]]:
    """What a session exercised (vendor capability files): configurations, specializations, codes, units."""
    out: dict[str, set[str]] = {"standards": {"IEEE 11073-20601"}}
    if s.info is not None:
        out["configurations"] = {f"0x{s.info.dev_config_id:04X}"}
    codes: set[str] = set()
    units: set[str] = set()
    for _p, _h, t, unit in _types(s):
        codes.add(str(nom.mdc_code(t.partition, t.code)))
        if unit is not None:
            units.add(str(nom.mdc_code(nom.MDC_PART_DIM, unit)))
    conf = s.config
    if conf is not None and not codes:
        for obj in conf.objects.values():
            if obj.type is not None:
                codes.add(str(nom.mdc_code(*obj.type)))
            unit = obj.attributes.get(nom.MDC_ATTR_UNIT_CODE)
            if unit is not None:
                units.add(str(nom.mdc_code(nom.MDC_PART_DIM, unit)))
    if codes:
        out["mdc_codes"] = codes
    if units:
        out["units"] = units
    return out


KIND = X73Kind()
