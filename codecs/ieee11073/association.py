"""One 20601 association seen from the manager: agent APDUs in, manager APDUs out, canonical model at the end.

`Association.receive(apdu_bytes, offset)` parses one APDU, turns it into a state-machine event
(fsm.py) and returns the manager's answers. `Association.message()` gives the `Message` with the MDS
`Device` and one `Metric` per observed value. In "trace" mode (decoding a file) a protocol violation
raises `DecodeError`; in "manager" mode (serving TCP) it is answered as 20601 says and recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from interop.errors import DecodeError
from interop.memo import Memo
from interop.model import (
    EUI64_SYSTEM,
    MDC_SYSTEM,
    BitsValue,
    CodeableConcept,
    CodedValue,
    Coding,
    Component,
    CompoundValue,
    Device,
    Endpoint,
    Identifier,
    Issue,
    Message,
    Metric,
    NumericValue,
    ProductionSpec,
    Quantity,
    SampleArrayValue,
    SourceRef,
    StringValue,
    TimeInfo,
    Timestamp,
)

from . import apdu, attributes, configurations, fsm, layouts, mder
from . import nomenclature as nom

STANDARD = "ieee11073-20601"
DEFAULT_MANAGER_SYSTEM_ID = bytes.fromhex("0011223344556677")
EVENT_INFO_OFFSET = 22  # APDU header, PRST length, invoke-id, choice, length, obj-handle, event-time, type, length
DATA_RESPONSE_INFO_OFFSET = 28  # ... obj-handle, action-type, length, rel-time-stamp, result, event-type, length
MDS_DEVICE_KEY = "1"
LOSSY_ISSUES = frozenset({  # findings that mean a reading the agent sent is not in the result
    "x73.malformed-apdu", "x73.invalid-apdu", "x73.unknown-handle", "x73.unknown-scanner", "x73.observation-length",
    "x73.attribute", "x73.segment-unplaced", "x73.segment-length", "x73.group-length", "x73.absolute-time",
    "x73.untyped-object"})
PLACED_MDS = frozenset({  # MDS attributes that become Device fields
    nom.MDC_ATTR_SYS_ID, nom.MDC_ATTR_ID_MODEL, nom.MDC_ATTR_ID_PROD_SPECN, nom.MDC_ATTR_SYS_TYPE_SPEC_LIST,
    nom.MDC_ATTR_DEV_CONFIG_ID, nom.MDC_ATTR_TIME_ABS, nom.MDC_ATTR_TIME_REL, nom.MDC_ATTR_TIME_REL_HI_RES,
    nom.MDC_ATTR_MDS_TIME_INFO, nom.MDC_ATTR_REG_CERT_DATA_LIST})
PLACED_OBSERVED = frozenset({  # observation attributes that become Metric fields
    nom.MDC_ATTR_ID_TYPE, nom.MDC_ATTR_UNIT_CODE, nom.MDC_ATTR_MSMT_STAT, nom.MDC_ATTR_NU_VAL_OBS_SIMP,
    nom.MDC_ATTR_NU_VAL_OBS_BASIC, nom.MDC_ATTR_NU_VAL_OBS, nom.MDC_ATTR_NU_CMPD_VAL_OBS,
    nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP, nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC, nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_OID,
    nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_STR, nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR,
    nom.MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR, nom.MDC_ATTR_ENUM_OBS_VAL_PART, nom.MDC_ATTR_VAL_ENUM_OBS,
    nom.MDC_ATTR_SIMP_SA_OBS_VAL, nom.MDC_ATTR_SA_SPECN, nom.MDC_ATTR_SCALE_SPECN_I8, nom.MDC_ATTR_SCALE_SPECN_I16,
    nom.MDC_ATTR_SCALE_SPECN_I32, nom.MDC_ATTR_TIME_PD_SAMP, nom.MDC_ATTR_ID_PHYSIO_LIST,
    nom.MDC_ATTR_TIME_STAMP_ABS, nom.MDC_ATTR_TIME_STAMP_BO, nom.MDC_ATTR_TIME_STAMP_REL,
    nom.MDC_ATTR_TIME_STAMP_REL_HI_RES, -1})


@dataclass
class Received:
    """One parsed agent APDU with where it started in the input."""

    value: Any  # parsed Apdu container
    offset: int  # absolute offset of the APDU's first octet
    number: int  # 1-based position in the association
    info: Any = None  # AARQ: PhdAssociationInformation; config report: Configuration


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace").strip()


class Association:
    """The manager side of one association (20601 clause 8)."""

    def __init__(
        self,
        *,
        mode: Literal["trace", "manager"] = "trace",
        strict: bool = False,
        store: configurations.ConfigStore | None = None,
        manager_system_id: bytes = DEFAULT_MANAGER_SYSTEM_ID,
        request_mds: bool | None = None,
        local_tz: tzinfo | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`local_tz`: the gateway's zone, in which device-local times (20601 AbsoluteTime and PM-segment
        absolute times carry no zone) are placed (PHD IG: onto the PHG's timeline); None leaves them naive.
        `clock`: the gateway's clock (aware datetimes), read when APDUs arrive; manager mode only."""
        self.mode = mode
        self.local_tz = local_tz
        self.clock = clock or (lambda: datetime.now(UTC).astimezone(local_tz) if local_tz else datetime.now(UTC))
        self.received_at: datetime | None = None  # gateway time of the AARQ (manager mode)
        self.mds_received_at: datetime | None = None  # gateway time the MDS attributes (device clock) were read
        self._seen: dict[tuple[Any, ...], list[Any]] = {}  # timed readings already emitted (duplicates)
        self.strict = strict
        self.store = store or configurations.ConfigStore()
        self.manager_system_id = manager_system_id
        self.request_mds = (mode == "manager") if request_mds is None else request_mds
        self.fsm = fsm.StateMachine(self)
        self.outbox: list[bytes] = []
        self.issues: list[Issue] = []
        self.metrics: list[Metric] = []
        self.system_id: bytes | None = None
        self.system_id_offset: int | None = None
        self.config_id: int | None = None
        self.protocol_version: int | None = None
        self.config: configurations.Configuration | None = None
        self.mds: dict[int, Any] = {}
        self.apdu_count = 0
        self.ended: str | None = None  # "released" / "aborted" once over
        self.associated = False
        self._invoke = 0
        self._current: Received | None = None
        self.results: list[tuple[str, int]] = []  # (what, result code) of AARE / config responses sent
        self.segment_maps: dict[tuple[int, int], Any] = {}  # (PM-store handle, segment) -> PmSegmentEntryMap
        self._device_memo: tuple[Any, Device, tuple[tuple[str, str, str, int | None], ...]] | None = None
        self._recording: list[tuple[str, str, str, int | None]] | None = None  # findings of `device()` being made

    # ------------------------------------------------------------------ input
    @property
    def state(self) -> str:
        """The current state of the manager state machine."""
        return self.fsm.current_state

    def receive(self, data: bytes, offset: int = 0) -> list[bytes]:
        """Process one agent APDU (header included) that starts at `offset`; return the manager's answers."""
        self.outbox = []
        self.apdu_count += 1
        padding: list[tuple[int, int, int]] | None = None if self.strict else []
        if self.mode == "manager" and self.received_at is None:
            self.received_at = self.clock()
        value = _scan_report(data)
        if value is None:
            try:
                value = apdu.parse_apdu(data, base=offset, padding=padding)
            except apdu.LayoutError as exc:
                if self._reject_malformed(data, offset, exc):
                    return self.outbox
                raise DecodeError(str(exc), standard=STANDARD, position=f"APDU {self.apdu_count} byte {exc.offset}",
                                  expected=exc.expected or "a well-formed APDU", offset=exc.offset) from None
        for at, octets, declared in padding or ():
            self.issue("warning", "x73.event-info-padding",
                       f"event-info declares {declared} octets but its content ends {octets} octet(s) earlier; "
                       f"the surplus octets were ignored (20601 defines no padding; Antidote's glucometer sends it)",
                       at)
        rx = Received(value, offset, self.apdu_count)
        self._current = rx
        if value.choice == nom.AARQ_CHOSEN:
            self.fsm.do_action(fsm.RX_AARQ, rx)
            if self.state != fsm.ASSOCIATING:
                return self.outbox
        self.fsm.do_action(self._event(rx), rx)
        return self.outbox

    def _reject_malformed(self, data: bytes, offset: int, exc: apdu.LayoutError) -> bool:
        """A PRST whose invoke-id is readable but whose content is malformed, while Operating (manager mode):
        20601 answers it with rorj (badly-structured-apdu) and the association goes on; recorded as lost data."""
        if self.mode != "manager" or self.state != fsm.OPERATING or len(data) < 8 or data[0:2] != b"\xe7\x00":
            return False
        invoke_id = int.from_bytes(data[6:8], "big")
        self.issue("error", "x73.malformed-apdu", f"PRST invoke {invoke_id} malformed ({exc}); answered with rorj "
                   f"badly-structured-apdu, its content is lost", exc.offset)
        self.fsm.do_action(fsm.RX_MALFORMED_PRST, invoke_id)
        return True

    def send_rorj(self, invoke_id: int, problem: int) -> None:
        """Tx rorj (20601 A.10.5) to the invoke `invoke_id`."""
        self._prst(invoke_id, nom.RORJ_CHOSEN, {"problem": problem})

    @property
    def lost_data(self) -> list[str]:
        """Why some of what the agent sent is not in the result (empty when nothing was lost)."""
        return [f"{i.location}: {i.message}" for i in self.issues if i.code in LOSSY_ISSUES]

    def invalid_apdu(self) -> list[bytes]:
        """An APDU that could not be decoded arrived (manager mode): answer as 20601 says."""
        self.outbox = []
        self.fsm.do_action(fsm.RX_INVALID, None)
        return self.outbox

    def release(self) -> list[bytes]:
        """The manager application asks to release the association."""
        self.outbox = []
        self.fsm.do_action(fsm.REQ_ASSOC_REL, None)
        return self.outbox

    def disconnect(self) -> None:
        """The transport went away."""
        self.fsm.do_action(fsm.TRANSPORT_DISCONNECT, None)

    def _event(self, rx: Received) -> str:
        choice = rx.value.choice
        body = rx.value.apdu
        if choice == nom.AARQ_CHOSEN:
            info = next((p.data_proto_info for p in body.data_proto_list
                         if p.data_proto_id == nom.DATA_PROTO_ID_20601), None)
            rx.info = info
            if info is None or not (info.encoding_rules & nom.MDER_ENCODING) or not (info.protocol_version & 0xE0000000):
                return fsm.RX_AARQ_UNACCEPTABLE
            known = self.store.get(bytes(info.system_id).hex().upper(), info.dev_config_id)
            return fsm.RX_AARQ_KNOWN if known is not None else fsm.RX_AARQ_UNKNOWN
        if choice == nom.AARE_CHOSEN:
            return fsm.RX_AARE
        if choice == nom.RLRQ_CHOSEN:
            return fsm.RX_RLRQ
        if choice == nom.RLRE_CHOSEN:
            return fsm.RX_RLRE
        if choice == nom.ABRT_CHOSEN:
            return fsm.RX_ABRT
        msg_choice = body.choice
        if msg_choice in (nom.ROIV_CMIP_EVENT_REPORT_CHOSEN, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN):
            if body.message.event_type == nom.MDC_NOTI_CONFIG:
                return self._check_config(rx)
            return fsm.RX_EVENT_REPORT
        if msg_choice >> 8 == 0x01:
            return fsm.RX_ROIV_OTHER
        if msg_choice >> 8 == 0x02:
            return fsm.RX_RORS
        return fsm.RX_ROER if msg_choice == nom.ROER_CHOSEN else fsm.RX_RORJ

    def _check_config(self, rx: Received) -> str:
        report = rx.value.apdu.message.event_info
        if self.state != fsm.CONFIGURING:
            return fsm.RX_CONFIG_SUPPORTED
        try:
            conf = configurations.from_config_report(report, rx.offset + EVENT_INFO_OFFSET)
        except apdu.LayoutError as exc:
            self.problem("x73.config-attribute", f"configuration attribute malformed: {exc}", exc.offset,
                         expected=exc.expected)
            return fsm.RX_CONFIG_UNSUPPORTED
        unsupported = [o.obj_handle for o in conf.objects.values()
                       if o.obj_class in (nom.MDC_MOC_VMO_METRIC_NU, nom.MDC_MOC_VMO_METRIC_ENUM,
                                          nom.MDC_MOC_VMO_METRIC_SA_RT) and o.type is None]
        if unsupported or conf.config_id != self.config_id:
            why = (f"metric object(s) {unsupported} lack MDC_ATTR_ID_TYPE" if unsupported else
                   f"config-report-id 0x{conf.config_id:04X} differs from dev-config-id 0x{self.config_id or 0:04X}")
            self.issue("warning", "x73.config-unsupported" if unsupported else "x73.config-id-mismatch", why, rx.offset)
            if unsupported:
                return fsm.RX_CONFIG_UNSUPPORTED
        rx.info = conf
        return fsm.RX_CONFIG_SUPPORTED

    # ------------------------------------------------------------------ findings
    def issue(self, severity: str, code: str, message: str, offset: int | None) -> None:
        """Record a finding (never patient data)."""
        if self._recording is not None:
            self._recording.append((severity, code, message, offset))
        if severity == "info" and any(i.code == code and i.message == message for i in self.issues):
            return  # one note per kind is enough (e.g. every relative time stamp of a PM-segment)
        location = f"APDU {self.apdu_count}" + (f" byte {offset}" if offset is not None else "")
        self.issues.append(Issue(severity=severity, code=code, location=location, message=message, offset=offset))

    def problem(self, code: str, message: str, offset: int | None, *, expected: str = "") -> None:
        """A violation: raise in strict mode, record an error issue otherwise."""
        if self.strict:
            raise DecodeError(message, standard=STANDARD, position=f"APDU {self.apdu_count}",
                              expected=expected, offset=offset)
        self.issue("error", code, message + (f"; expected {expected}" if expected else ""), offset)

    def violation(self, code: str, message: str, offset: int | None, *, expected: str = "") -> None:
        """A report the configuration cannot place: DecodeError in a trace (strict or not); the manager
        records it and answers roer (no-such-object-instance), the association goes on."""
        if self.mode == "trace":
            raise DecodeError(message, standard=STANDARD, position=f"APDU {self.apdu_count}",
                              expected=expected, offset=offset)
        self.issue("error", code, message + (f"; expected {expected}" if expected else ""), offset)

    # ------------------------------------------------------------------ output APDUs
    def _send(self, value: dict[str, Any]) -> None:
        self.outbox.append(apdu.build_apdu(value))

    def _next_invoke(self) -> int:
        self._invoke = (self._invoke + 1) & 0xFFFF
        return self._invoke

    def _prst(self, invoke_id: int, choice: int, message: dict[str, Any]) -> None:
        self._send({"choice": nom.PRST_CHOSEN, "apdu": {"invoke_id": invoke_id, "choice": choice, "message": message}})

    def send_aare(self, result: int) -> None:
        """Tx AARE with `result` and the manager's PhdAssociationInformation (20601 A.8)."""
        self.results.append(("aare", result))
        info = {"protocol_version": 0x80000000, "encoding_rules": nom.MDER_ENCODING,
                "nomenclature_version": 0x80000000, "functional_units": 0, "system_type": 0x80000000,
                "system_id": self.manager_system_id, "dev_config_id": 0,
                "data_req_mode_capab": {"data_req_mode_flags": 0, "data_req_init_agent_count": 0,
                                        "data_req_init_manager_count": 0},
                "option_list": []}
        self._send({"choice": nom.AARE_CHOSEN, "apdu": {"result": result, "selected_data_proto": {
            "data_proto_id": nom.DATA_PROTO_ID_20601, "data_proto_info": info}}})

    def send_rlre(self) -> None:
        """Tx RLRE (normal)."""
        self._send({"choice": nom.RLRE_CHOSEN, "apdu": {"reason": nom.RELEASE_RESPONSE_REASON_NORMAL}})

    def send_rlrq(self) -> None:
        """Tx RLRQ (normal)."""
        self._send({"choice": nom.RLRQ_CHOSEN, "apdu": {"reason": nom.RELEASE_REQUEST_REASON_NORMAL}})

    def send_abrt(self, reason: int) -> None:
        """Tx ABRT; in trace mode the violation that causes it is a DecodeError."""
        rx = self._current
        if self.mode == "trace" and rx is not None:
            what = nom.APDU_NAMES.get(rx.value.choice, "APDU")
            if rx.value.choice == nom.PRST_CHOSEN:
                what = nom.DATA_APDU_NAMES.get(rx.value.apdu.choice, what)
            where = "before association" if self.state == fsm.UNASSOCIATED else f"in state {self.state}"
            raise DecodeError(f"{what} {where}", standard=STANDARD, position=f"APDU {rx.number}",
                              expected="AARQ first, then configuration, reports and release", offset=rx.offset)
        self._send({"choice": nom.ABRT_CHOSEN, "apdu": {"reason": reason}})

    def send_roer(self, rx: Received | None, error_value: int) -> None:
        """Tx roer to a confirmed invoke (unconfirmed invokes get no answer)."""
        if rx is None or rx.value.choice != nom.PRST_CHOSEN:
            return
        data = rx.value.apdu
        what = nom.DATA_APDU_NAMES.get(data.choice, "invoke")
        self.issue("warning", "x73.roer", f"{what} answered with roer error-value {error_value}", rx.offset)
        if data.choice in (nom.ROIV_CMIP_EVENT_REPORT_CHOSEN, nom.ROIV_CMIP_SET_CHOSEN, nom.ROIV_CMIP_ACTION_CHOSEN):
            return
        self._prst(data.invoke_id, nom.ROER_CHOSEN, {"error_value": error_value, "parameter": b""})

    # ------------------------------------------------------------------ actions' work
    def start_association(self, rx: Received) -> None:
        """Keep what the AARQ says about the agent."""
        info = rx.info
        self.associated = True
        self.system_id = bytes(info.system_id)
        self.system_id_offset = rx.offset + 4 + 4 + 4 + 4 + 4 + 2 + 4 + 4 + 4 + 2  # to the octets of system-id
        self.config_id = info.dev_config_id
        self.protocol_version = info.protocol_version
        self.config = self.store.get(self.system_id.hex().upper(), info.dev_config_id)

    def rejection_reason(self, rx: Received) -> int:
        """AARE result for an unacceptable AARQ."""
        info = rx.info
        if info is None:
            return nom.REJECTED_NO_COMMON_PROTOCOL
        return nom.REJECTED_NO_COMMON_PARAMETER

    def enter_operating(self) -> None:
        """On entering Operating: ask for the MDS attributes (GET, handle 0, all attributes) when serving."""
        if self.request_mds:
            self._prst(self._next_invoke(), nom.ROIV_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_id_list": []})

    def accept_configuration(self, rx: Received) -> None:
        """Adopt the agent's configuration, remember it per system id, Tx config response (accepted-config)."""
        data = rx.value.apdu
        report = data.message.event_info
        if isinstance(rx.info, configurations.Configuration):
            self.config = rx.info
            if self.system_id is not None and not self.config.is_standard:
                self.store.remember(self.system_id.hex().upper(), apdu.ConfigReport.build(report),
                                    report.config_report_id)
        self._config_response(data, report.config_report_id, nom.ACCEPTED_CONFIG)

    def reject_configuration(self, rx: Received) -> None:
        """Tx config response (unsupported-config)."""
        data = rx.value.apdu
        self._config_response(data, data.message.event_info.config_report_id, nom.UNSUPPORTED_CONFIG)

    def _config_response(self, data: Any, report_id: int, result: int) -> None:
        self.results.append(("config", result))
        self._prst(data.invoke_id, nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
            "obj_handle": data.message.obj_handle, "currentTime": data.message.event_time,
            "event_type": nom.MDC_NOTI_CONFIG,
            "event_reply_info": {"config_report_id": report_id, "config_result": result}})

    def end_association(self, how: str) -> None:
        """The association is over (released or aborted)."""
        if self.associated and self.ended is None:
            self.ended = how

    def process_event_report(self, rx: Received) -> None:
        """Turn a scan report or segment data into metrics; answer a confirmed report."""
        data = rx.value.apdu
        msg = data.message
        reply: Any = b""
        ok = True
        if msg.event_type in nom.SCAN_REPORTS:
            ok = self._scan_report(msg.event_type, msg.obj_handle, msg.event_info, rx.offset + EVENT_INFO_OFFSET)
        elif msg.event_type == nom.MDC_NOTI_SEGMENT_DATA:
            self._segment_data(msg.obj_handle, msg.event_info, rx.offset + EVENT_INFO_OFFSET)
            descr = dict(msg.event_info.segm_data_event_descr)
            descr.pop("_io", None)
            descr["segm_evt_status"] = descr["segm_evt_status"] | 0x0080  # sevtsta-manager-confirm
            reply = {"segm_data_event_descr": descr}
        else:
            self.issue("warning", "x73.unknown-event", f"event type {msg.event_type} not decoded", rx.offset)
        if data.choice != nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
            return
        if not ok:
            self.send_roer(rx, nom.NO_SUCH_OBJECT_INSTANCE)
            return
        if reply == b"" and msg.event_type not in apdu.EVENT_REPLY_INFO:  # a scan report: the declared template
            self.outbox.append(apdu.SCAN_REPORT_CONFIRMATION.build(
                invoke_id=data.invoke_id, obj_handle=msg.obj_handle, event_time=msg.event_time,
                event_type=msg.event_type))
            return
        self._prst(data.invoke_id, nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
            "obj_handle": msg.obj_handle, "currentTime": msg.event_time, "event_type": msg.event_type,
            "event_reply_info": reply})

    def process_response(self, rx: Received) -> None:
        """A rors: MDS attributes from GET, data carried by an action response."""
        data = rx.value.apdu
        msg = data.message
        if data.choice in (nom.RORS_CMIP_GET_CHOSEN, nom.RORS_CMIP_CONFIRMED_SET_CHOSEN) and msg.obj_handle == 0:
            if self.mode == "manager":
                self.mds_received_at = self.clock()
            pos = rx.offset + 18  # header 4, PRST 2, invoke 2, choice 2, length 2, handle 2, count 2, length 2
            for ava in msg.attribute_list:
                try:
                    self.mds[ava.attribute_id] = (attributes.decode(ava.attribute_id, ava.attribute_value, pos + 4),
                                                  pos + 4)
                except apdu.LayoutError as exc:
                    self.problem("x73.mds-attribute", f"{attributes.name(ava.attribute_id)} malformed", exc.offset,
                                 expected=exc.expected)
                pos += 4 + len(ava.attribute_value)
        elif data.choice == nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN and msg.action_type == nom.MDC_ACT_SEG_GET_INFO:
            for seg in msg.action_info_args:
                for ava in seg.seg_info:
                    if ava.attribute_id == nom.MDC_ATTR_PM_SEG_MAP:
                        value = self._attr(ava.attribute_id, bytes(ava.attribute_value), rx.offset)
                        if value is not None:
                            self.segment_maps[(msg.obj_handle, seg.seg_inst_no)] = value
        elif data.choice == nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN and msg.action_type == nom.MDC_ACT_DATA_REQUEST:
            resp = msg.action_info_args
            if resp.event_type in nom.SCAN_REPORTS:
                self._scan_report(resp.event_type, msg.obj_handle, resp.event_info,
                                  rx.offset + DATA_RESPONSE_INFO_OFFSET)

    def process_error(self, rx: Received) -> None:
        """A roer/rorj from the agent: the manager's invoke failed."""
        data = rx.value.apdu
        code = data.message.error_value if data.choice == nom.ROER_CHOSEN else data.message.problem
        self.issue("warning", "x73.agent-error", f"{nom.DATA_APDU_NAMES[data.choice]} {code} "
                   f"for invoke {data.invoke_id}", rx.offset)

    # ------------------------------------------------------------------ scan reports
    def _scan_report(self, event_type: int, scanner: int, info: Any, base: int) -> bool:
        pos = base + 4  # data-req-id, scan-report-no
        ok = True
        if event_type in nom.SCAN_FIXED:
            ok = self._fixed_list(info.obs_scan_fixed, None, pos)
        elif event_type in nom.SCAN_MP_FIXED:
            pos += 4
            for per in info.scan_per_fixed:
                ok &= self._fixed_list(per.obs_scan_fixed, per.person_id, pos + 2)
                pos += 2 + 4 + sum(4 + len(o.obs_val_data) for o in per.obs_scan_fixed)
        elif event_type in nom.SCAN_VAR:
            ok = self._var_list(info.obs_scan_var, None, pos)
        elif event_type in nom.SCAN_MP_VAR:
            pos += 4
            for per in info.scan_per_var:
                ok &= self._var_list(per.obs_scan_var, per.person_id, pos + 2)
                pos += 2 + 4 + sum(4 + sum(4 + len(a.attribute_value) for a in o.attributes) for o in per.obs_scan_var)
        elif event_type in nom.SCAN_GROUPED:
            pos += 4
            for group in info.obs_scan_grouped:
                ok &= self._grouped(scanner, group, None, pos + 2)
                pos += 2 + len(group)
        else:  # MP grouped
            pos += 4
            for per in info.scan_per_grouped:
                ok &= self._grouped(scanner, per.obs_scan_grouped, per.person_id, pos + 4)
                pos += 4 + len(per.obs_scan_grouped)
        return ok

    def _object(self, handle: int, offset: int) -> configurations.ConfigObject | None:
        obj = self.config.objects.get(handle) if self.config else None
        if obj is None:
            self.violation("x73.unknown-handle", f"scan report for handle {handle}, which the configuration "
                           f"0x{(self.config_id or 0):04X} does not hold", offset,
                           expected="a handle of the agent's configuration")
        return obj

    def _fixed_list(self, observations: Any, person_id: int | None, pos: int) -> bool:
        pos += 4  # count, length
        ok = True
        for obs in observations:
            obj = self._object(obs.obj_handle, pos)
            if obj is None:
                ok = False
            else:
                values = self._slice_fixed(_plan(obj), bytes(obs.obs_val_data), pos + 4)
                if values is not None:
                    self._emit(obj, values, person_id, pos)
            pos += 4 + len(obs.obs_val_data)
        return ok

    def _var_list(self, observations: Any, person_id: int | None, pos: int) -> bool:
        pos += 4
        ok = True
        for obs in observations:
            obj = self._object(obs.obj_handle, pos)
            start = pos
            pos += 6
            values: dict[int, tuple[Any, int]] = {}
            for ava in obs.attributes:
                value = self._attr(ava.attribute_id, bytes(ava.attribute_value), pos + 4)
                if value is not None:
                    values[ava.attribute_id] = (value, pos + 4)
                pos += 4 + len(ava.attribute_value)
            if obj is None:
                ok = False
            else:
                self._emit(obj, values, person_id, start)
        return ok

    def _grouped(self, scanner: int, group: bytes, person_id: int | None, pos: int) -> bool:
        scan_obj = self.config.objects.get(scanner) if self.config else None
        maps = scan_obj.attributes.get(nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP) if scan_obj else None
        if maps is None:
            self.violation("x73.unknown-scanner", f"grouped scan report from handle {scanner}, which has no "
                           "MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP", pos, expected="a configured scanner")
            return False
        at = 0
        group = bytes(group)
        for entry in maps:
            vm = [(e.attribute_id, e.attribute_len) for e in entry.attr_val_map]
            size = sum(n for _, n in vm)
            obj = self._object(entry.obj_handle, pos + at)
            values = self._slice(entry.obj_handle, vm, group[at:at + size], pos + at)
            if obj is not None and values is not None:
                self._emit(obj, values, person_id, pos + at)
            at += size
        if at != len(group):
            self.problem("x73.group-length", f"grouped observation of {len(group)} octets", pos,
                         expected=f"{at} octets per the scanner's handle-attribute-value map")
        return True

    def _slice(self, handle: int, val_map: list[tuple[int, int]], data: bytes, pos: int) -> dict | None:
        total = sum(n for _, n in val_map)
        if total != len(data):
            self.problem("x73.observation-length", f"observation of handle {handle} has {len(data)} octets", pos,
                         expected=f"{total} octets per its attribute-value map")
            return None
        values: dict[int, tuple[Any, int]] = {}
        at = 0
        for attr_id, n in val_map:
            value = self._attr(attr_id, data[at:at + n], pos + at)
            if value is not None:
                values[attr_id] = (value, pos + at)
            at += n
        return values

    def _slice_fixed(self, plan: _Plan, data: bytes, pos: int) -> dict | None:
        """`_slice` with the object's attribute-value map read once (its parsers looked up once per object)."""
        if plan.total != len(data):
            return self._slice(plan.obj.obj_handle, plan.val_map, data, pos)
        values: dict[int, tuple[Any, int]] = {}
        at = 0
        for attr_id, n, parser, whole in plan.slicers:
            chunk = data[at:at + n]
            if parser is None:
                value = chunk
            elif whole is not None:  # an integer of n octets, or an AbsoluteTime kept as its 8 octets
                value = chunk if whole else int.from_bytes(chunk, "big")
            else:
                try:
                    value = layouts.parse_whole(parser, chunk)
                except layouts.Short:  # construct reads it (or names the fault): `attributes.decode`
                    value = self._attr(attr_id, chunk, pos + at)
            if value is not None:
                values[attr_id] = (value, pos + at)
            at += n
        return values

    def _attr(self, attr_id: int, raw: bytes, pos: int) -> Any:
        try:
            return attributes.decode(attr_id, raw, pos)
        except apdu.LayoutError as exc:
            self.problem("x73.attribute", f"{attributes.name(attr_id)} malformed: {exc}", exc.offset,
                         expected=exc.expected)
            return None

    def _segment_data(self, store_handle: int, event: Any, base: int) -> None:
        """PM-segment entries (20601 A.11.3): header fields per segm-entry-header, then each element's values."""
        seg_map = self._segment_map(store_handle, event.segm_data_event_descr.segm_instance)
        if seg_map is None:
            self.issue("warning", "x73.segment-unplaced", "segment data for a segment whose PM-segment-entry-map "
                       "is unknown (no MDC_ACT_SEG_GET_INFO answer seen)", base)
            return
        header_size = sum(size for mask, _, size in nom.SEG_ENTRY_HEADER if seg_map.segm_entry_header & mask)
        entries = bytes(event.segm_data_event_entries)
        pos = base + 12 + 2
        at = 0
        count = event.segm_data_event_descr.segm_evt_entry_count
        for _ in range(count):
            header = entries[at:at + header_size]
            when = self._entry_time(seg_map.segm_entry_header, header)
            at += header_size
            for elem in seg_map.segm_entry_elem_list:
                vm = [(e.attribute_id, e.attribute_len) for e in elem.attr_val_map]
                size = sum(n for _, n in vm)
                values = self._slice(elem.handle, vm, entries[at:at + size], pos + at)
                obj = self.config.objects.get(elem.handle) if self.config else None
                if values is not None and obj is not None:
                    if when is not None:
                        values[-1] = (when, pos + at - header_size)
                    self._emit(obj, values, None, pos + at)
                at += size
        if at != len(entries):
            self.problem("x73.segment-length", f"segment entries hold {len(entries)} octets", pos,
                         expected=f"{at} octets for {count} entries")

    def _segment_map(self, store_handle: int, instance: int) -> Any:
        return self.segment_maps.get((store_handle, instance))

    def _entry_time(self, header_bits: int, header: bytes) -> Any:
        if header_bits & 0x8000 and len(header) >= 8:
            return ("abs", header[:8])
        if header_bits & 0x4000 and len(header) >= 4:
            return ("rel", int.from_bytes(header[:4], "big"))
        return None

    # ------------------------------------------------------------------ metrics
    def _emit(self, obj: configurations.ConfigObject, values: dict[int, tuple[Any, int]],
              person_id: int | None, pos: int) -> None:
        static = obj.attributes
        plan = _plan(obj)
        t = values[nom.MDC_ATTR_ID_TYPE][0] if nom.MDC_ATTR_ID_TYPE in values else plan.type
        if t is None:
            self.issue("warning", "x73.untyped-object", f"handle {obj.obj_handle} has no MDC_ATTR_ID_TYPE", pos)
            return
        partition = t.partition
        code = _concept(partition, t.code)
        unit = values[nom.MDC_ATTR_UNIT_CODE][0] if nom.MDC_ATTR_UNIT_CODE in values else plan.unit
        value: Any = None
        dar: str | None = None
        status = values[nom.MDC_ATTR_MSMT_STAT][0] if nom.MDC_ATTR_MSMT_STAT in values else None
        source_attr = None
        if nom.MDC_ATTR_NU_VAL_OBS_SIMP in values:
            source_attr = nom.MDC_ATTR_NU_VAL_OBS_SIMP
            value, dar = _numeric(mder.float32, values[source_attr][0], unit)
        elif nom.MDC_ATTR_NU_VAL_OBS_BASIC in values:
            source_attr = nom.MDC_ATTR_NU_VAL_OBS_BASIC
            value, dar = _numeric(mder.sfloat, values[source_attr][0], unit)
        elif nom.MDC_ATTR_NU_VAL_OBS in values:
            source_attr = nom.MDC_ATTR_NU_VAL_OBS
            nu = values[source_attr][0]
            number, dar = mder.float32(nu.value)
            code = _concept(partition, nu.metric_id) if nu.metric_id else code
            status = nu.state if status is None else status
            value = NumericValue(quantity=_quantity(number, nu.unit_code)) if number is not None else None
        elif (nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP in values or nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC in values
              or nom.MDC_ATTR_NU_CMPD_VAL_OBS in values):
            source_attr, value = self._compound(partition, static, values, unit, pos)
        elif nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_OID in values:
            source_attr = nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_OID
            part = values.get(nom.MDC_ATTR_ENUM_OBS_VAL_PART, (static.get(nom.MDC_ATTR_ENUM_OBS_VAL_PART), 0))[0]
            value = CodedValue(concept=_concept(part if part is not None else partition, values[source_attr][0]))
        elif nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_STR in values:
            source_attr = nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_STR
            value = StringValue(text=_text(bytes(values[source_attr][0])))
        elif nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR in values or nom.MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR in values:
            source_attr = (nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR if nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR in values
                           else nom.MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR)
            width = 32 if source_attr == nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR else 16
            value = BitsValue(value=values[source_attr][0], width=width)
        elif nom.MDC_ATTR_VAL_ENUM_OBS in values:
            source_attr = nom.MDC_ATTR_VAL_ENUM_OBS
            enum = values[source_attr][0]
            code = _concept(partition, enum.metric_id) if enum.metric_id else code
            status = enum.state if status is None else status
            v = enum.value
            if v.choice == 0x0001:
                value = CodedValue(concept=_concept(partition, v.value))
            elif v.choice == 0x0002:
                value = StringValue(text=_text(bytes(v.value)))
            else:
                value = BitsValue(value=v.value, width=32)
        elif nom.MDC_ATTR_SIMP_SA_OBS_VAL in values:
            source_attr = nom.MDC_ATTR_SIMP_SA_OBS_VAL
            value = self._sample_array(static, values, unit, pos)
        if source_attr is None:
            self.issue("info", "x73.no-value", f"observation of handle {obj.obj_handle} carries no value attribute",
                       pos)
            return
        for attr_id in () if PLACED_OBSERVED.issuperset(values) else values.keys() - PLACED_OBSERVED:
            self.issue("info", "x73.unplaced-attribute", f"{attributes.name(attr_id)} of handle {obj.obj_handle} "
                       "is not placed in the model", values[attr_id][1])
        offset = values[source_attr][1]
        categories = plan.categories
        effective = self._effective(values)
        if effective is not None:  # the same timed reading twice in one association is one reading
            seen = self._seen.setdefault((obj.obj_handle, person_id, effective.value), [])
            if any(v == value and d == dar for v, d in seen):
                self.issue("warning", "x73.duplicate-observation", f"handle {obj.obj_handle} reported the same "
                           f"value at the same time again; kept once", offset)
                return
            seen.append((value, dar))
        supplemental = plan.supplemental  # PHD IG: a Supplemental-Types component
        accuracy = plan.accuracy  # PHD IG: the Accuracy extension (FLOAT-Type)
        if accuracy is not None:
            accuracy = _numeric(mder.float32, accuracy, unit)[0]
            accuracy = accuracy.quantity if accuracy is not None else None
        self.metrics.append(Metric(
            accuracy=accuracy,
            method=(_concept(supplemental[0].partition, supplemental[0].code) if supplemental
                    else _method(categories[0]) if categories else None),
            code=code, value=value, data_absent_reason=dar,
            measurement_status=_measurement_status(status) if status else (),
            effective=effective, device_key=MDS_DEVICE_KEY, handle=obj.obj_handle,
            person_id=person_id,
            source=SourceRef(location=f"APDU {self.apdu_count}{_where(obj.obj_handle, source_attr)}", offset=offset),
        ))

    def _compound(self, partition: int, static: dict, values: dict, unit: int | None, pos: int):
        if nom.MDC_ATTR_NU_CMPD_VAL_OBS in values:
            attr = nom.MDC_ATTR_NU_CMPD_VAL_OBS
            comps = []
            for nu in values[attr][0]:
                number, dar = mder.float32(nu.value)
                comps.append(Component(code=_concept(partition, nu.metric_id),
                                       quantity=_quantity(number, nu.unit_code) if number is not None else None,
                                       data_absent_reason=dar))
            return attr, CompoundValue(components=tuple(comps))
        attr = (nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP if nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP in values
                else nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC)
        decode = mder.float32 if attr == nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP else mder.sfloat
        ids = tuple(values.get(nom.MDC_ATTR_ID_PHYSIO_LIST, (static.get(nom.MDC_ATTR_ID_PHYSIO_LIST) or [], 0))[0])
        raw = tuple(values[attr][0])
        key = (decode, partition, ids, raw, unit)  # a compound recurs (a cuff's readings): one object per value
        hit = _VALUES.get(key) or _VALUES.recall(key)
        if hit is not None:
            return attr, hit
        if len(ids) != len(raw):
            self.problem("x73.compound-length", f"compound value has {len(raw)} members", values[attr][1],
                         expected=f"{len(ids)} members per MDC_ATTR_ID_PHYSIO_LIST")
        comps = []
        for i, bits in enumerate(raw):
            number, dar = decode(bits)
            term = ids[i] if i < len(ids) else 0
            comps.append(Component(code=_concept(partition, term),
                                                   quantity=_quantity(number, unit) if number is not None else None,
                                                   data_absent_reason=dar))
        value = CompoundValue(components=tuple(comps))
        if len(ids) == len(raw):
            _VALUES.put(key, value)
        return attr, value

    def _sample_array(self, static: dict, values: dict, unit: int | None, pos: int) -> SampleArrayValue:
        raw = bytes(values[nom.MDC_ATTR_SIMP_SA_OBS_VAL][0])
        spec = values.get(nom.MDC_ATTR_SA_SPECN, (static.get(nom.MDC_ATTR_SA_SPECN), 0))[0]
        size = max(1, (spec.sample_type.sample_size if spec else 8) // 8)
        samples = tuple(Decimal(int.from_bytes(raw[i:i + size], "big")) for i in range(0, len(raw) - size + 1, size))
        factor = origin = lower = upper = None
        for attr in (nom.MDC_ATTR_SCALE_SPECN_I8, nom.MDC_ATTR_SCALE_SPECN_I16, nom.MDC_ATTR_SCALE_SPECN_I32):
            scale = values.get(attr, (static.get(attr), 0))[0]
            if scale is not None:
                lo, _ = mder.float32(scale.lower_absolute_value)
                hi, _ = mder.float32(scale.upper_absolute_value)
                span = scale.upper_scaled_value - scale.lower_scaled_value
                if lo is not None and hi is not None and span:
                    factor = (hi - lo) / span
                    origin = _quantity(lo - factor * scale.lower_scaled_value, unit)
                    lower, upper = lo, hi
        period = values.get(nom.MDC_ATTR_TIME_PD_SAMP, (static.get(nom.MDC_ATTR_TIME_PD_SAMP), 0))[0]
        return SampleArrayValue(samples=samples, factor=factor, origin=origin, lower_limit=lower, upper_limit=upper,
                                period_ms=Decimal(period) / 8 if period is not None else None)

    def _effective(self, values: dict) -> Timestamp | None:
        if nom.MDC_ATTR_TIME_STAMP_ABS in values:
            t, off = values[nom.MDC_ATTR_TIME_STAMP_ABS]
            if type(t) is bytes:  # its 8 octets (`_slice_fixed`)
                return self._absolute(t, off)
            return self._absolute(bytes([t.century, t.year, t.month, t.day, t.hour, t.minute, t.second,
                                         t.sec_fractions]), off)
        if nom.MDC_ATTR_TIME_STAMP_BO in values:
            t, _ = values[nom.MDC_ATTR_TIME_STAMP_BO]
            dt, precision = mder.base_offset_time(t.bo_seconds, t.bo_fraction, t.bo_time_offset)
            return Timestamp(value=dt, precision=precision,
                             raw=f"{t.bo_seconds:08X}{t.bo_fraction:04X}{t.bo_time_offset & 0xFFFF:04X}")
        if -1 in values:  # PM-segment entry header time
            (kind, v), off = values[-1]
            if kind == "abs":
                return self._absolute(v, off)
            return self._relative(v, off)
        for attr in (nom.MDC_ATTR_TIME_STAMP_REL, nom.MDC_ATTR_TIME_STAMP_REL_HI_RES):
            if attr in values:
                ticks, off = values[attr]
                if attr == nom.MDC_ATTR_TIME_STAMP_REL_HI_RES:
                    return self._relative(ticks, off, nom.MDC_ATTR_TIME_REL_HI_RES, 1)
                return self._relative(ticks, off)
        return None

    def _absolute(self, raw: bytes, off: int) -> Timestamp | None:
        if raw == b"\xff" * 8 or raw == b"\x00" * 8:
            return None
        key = (raw, self.local_tz)  # converted once per distinct time and zone (bounded memo)
        hit = _TIMES.get(key) or _TIMES.recall(key)
        if hit is None:
            try:
                dt, precision = mder.absolute_time(raw)
            except ValueError as exc:
                self.problem("x73.absolute-time", f"AbsoluteTime {raw.hex().upper()} invalid ({exc})", off,
                             expected="BCD date and time")
                return None
            note = None
            if self.local_tz is not None:  # device-local time placed on the gateway's timeline (PHD IG)
                dt = dt.replace(tzinfo=self.local_tz)
                note = f"device-local absolute times placed in the gateway's zone ({dt.tzname() or dt.strftime('%z')})"
            hit = _TIMES.put(key, (Timestamp(value=dt, precision=precision, raw=raw.hex().upper()), note))
        if hit[1] is not None:
            self.issue("info", "x73.local-time", hit[1], None)
        return hit[0]

    def _relative(self, ticks: int, off: int, mds_attr: int = nom.MDC_ATTR_TIME_REL,
                  tick_us: int = mder.RELATIVE_TIME_US) -> Timestamp | None:
        """Relative time (1/8 ms ticks; high-resolution: 1 µs) placed on the calendar through the MDS
        Date-and-Time and the matching Relative-Time attribute, when both were read."""
        abs_t = self.mds.get(nom.MDC_ATTR_TIME_ABS)
        rel_t = self.mds.get(mds_attr)
        if abs_t is None or rel_t is None:
            self.issue("info", "x73.relative-time", "relative time stamp not placed on a calendar (no MDS "
                       "Date-and-Time with Relative-Time read)", off)
            return None
        a = abs_t[0]
        anchor = self._absolute(bytes([a.century, a.year, a.month, a.day, a.hour, a.minute, a.second,
                                       a.sec_fractions]), abs_t[1])
        if anchor is None:
            return None
        dt = anchor.value + timedelta(microseconds=(ticks - rel_t[0]) * tick_us)
        return Timestamp(value=dt, precision="millisecond" if tick_us > 1 else "microsecond",
                                         raw=f"{ticks:X}")

    # ------------------------------------------------------------------ result
    def device(self) -> Device:
        """The MDS as a `Device` (identifiers, model, production specs, specializations, time, reg-cert).

        Made once per state of what it is made from (AARQ system-id, configuration, MDS attributes, zone) and
        then handed out again, with the findings its making recorded, recorded again in the same order."""
        state = (self.system_id, self.system_id_offset, self.config_id, self.config, self.local_tz,
                 tuple(self.mds.items()))
        cached = self._device_memo
        if cached is not None and cached[0] == state:  # the same objects: compared by identity first
            for finding in cached[2]:
                self.issue(*finding)
            return cached[1]
        notes: list[tuple[str, str, str, int | None]] = []
        self._recording = notes
        try:
            device = self._make_device()
        finally:
            self._recording = None
        self._device_memo = (state, device, tuple(notes))
        return device

    def _make_device(self) -> Device:
        mds = {k: v[0] for k, v in self.mds.items()}
        identifiers: list[Identifier] = []
        if self.system_id is not None:
            identifiers.append(Identifier(value=self.system_id.hex().upper(), system=EUI64_SYSTEM, type="EUI-64"))
        mds_sysid = mds.get(nom.MDC_ATTR_SYS_ID)
        if mds_sysid is not None and self.system_id is not None and bytes(mds_sysid) != self.system_id:
            self.issue("warning", "x73.system-id-mismatch", "MDS System-Id differs from the AARQ system-id",
                       self.mds[nom.MDC_ATTR_SYS_ID][1])
        for attr_id in self.mds.keys() - PLACED_MDS:
            self.issue("info", "x73.unplaced-attribute", f"MDS {attributes.name(attr_id)} is not placed in the model",
                       self.mds[attr_id][1])
        model = mds.get(nom.MDC_ATTR_ID_MODEL)
        specs = tuple(ProductionSpec(kind=nom.PROD_SPEC_TYPES.get(e.spec_type, "unspecified"),
                                     value=_text(bytes(e.prod_spec)), component_id=e.component_id)
                      for e in mds.get(nom.MDC_ATTR_ID_PROD_SPECN, ()))
        versions: tuple[str | None, ...] = ()
        if nom.MDC_ATTR_SYS_TYPE_SPEC_LIST in mds:
            specializations = tuple(_concept(nom.MDC_PART_INFRA, tv.type)
                                    for tv in mds[nom.MDC_ATTR_SYS_TYPE_SPEC_LIST])
            versions = tuple(str(tv.version) for tv in mds[nom.MDC_ATTR_SYS_TYPE_SPEC_LIST])
        elif self.config is not None and self.config.specialization:
            specializations = (_concept(*self.config.specialization),)
        else:
            specializations = ()
        return Device(
            key=MDS_DEVICE_KEY, level="mds", type=_concept(nom.MDC_PART_OBJ, nom.MDC_MOC_VMS_MDS_SIMP),
            identifiers=tuple(identifiers),
            manufacturer=_text(bytes(model.manufacturer)) if model else None,
            model=_text(bytes(model.model_number)) if model else None,
            production_specs=specs, specializations=specializations, specialization_versions=versions,
            config_id=self.config_id,
            time=self._time_info(mds), reg_cert=_reg_cert(mds.get(nom.MDC_ATTR_REG_CERT_DATA_LIST, ())),
            source=SourceRef(location="AARQ system-id", offset=self.system_id_offset),
        )

    def _incomplete(self) -> tuple[Issue, ...]:
        """One `x73.input-incomplete` finding when the association lost data (reports refused, unknown
        handles, malformed or aborted mid-transfer): the Provenance of its Bundle says so."""
        lost = self.lost_data
        if not lost and self.ended != "aborted":
            return ()
        if not lost:
            lost = ["the association was aborted, not released: what the agent had not sent yet is missing"]
        return (Issue(severity="error", code="x73.input-incomplete", location="association",
                      message=_summary(lost)),)

    def _time_info(self, mds: dict) -> TimeInfo | None:
        info = mds.get(nom.MDC_ATTR_MDS_TIME_INFO)
        abs_t = mds.get(nom.MDC_ATTR_TIME_ABS)
        device_time = None
        if abs_t is not None:
            device_time = self._absolute(bytes([abs_t.century, abs_t.year, abs_t.month, abs_t.day, abs_t.hour,
                                                abs_t.minute, abs_t.second, abs_t.sec_fractions]),
                                         self.mds[nom.MDC_ATTR_TIME_ABS][1])
        if info is None and device_time is None:
            return None
        if info is None:
            return TimeInfo(device_time=device_time)
        sync = _concept(nom.MDC_PART_INFRA, info.time_sync_protocol).codings[0]
        accuracy = None if info.time_sync_accuracy == 0xFFFFFFFF else mder.relative_time_us(info.time_sync_accuracy)
        return TimeInfo(device_time=device_time, sync_protocol=sync.display or sync.code, accuracy_us=accuracy,
                        capabilities=nom.bit_names(info.mds_time_cap_state, nom.MDS_TIME_CAP_STATE))

    def message(self, source: str | None = None, *, gateway: Device | None = None,
                association_id: str | None = None) -> Message:
        """The association as one canonical `Message`.

        A manager passes its own `gateway` Device (the PHG) and a unique `association_id` (the Message's
        control id: a live association has no file digest; Provenance and Bundle ids come from it); the
        reception time (`Message.sent`) is when the MDS attributes (device clock) were read, else the AARQ."""
        if self.system_id is None:
            raise DecodeError("no association: the input holds no accepted AARQ", standard=STANDARD,
                              position="APDU 1", expected="an AARQ APDU (0xE2) first", offset=0, source=source)
        device = self.device()
        if self.ended is None:
            self.issue("info", "x73.not-released", f"association not released (ends in state {self.state})", None)
        sysid = self.system_id.hex().upper()
        received = self.mds_received_at or self.received_at
        sent = (Timestamp(value=received.replace(microsecond=received.microsecond // 1000 * 1000),
                          precision="millisecond") if received is not None else None)
        return Message(
            standard=STANDARD,
            version=nom.PROTOCOL_VERSIONS.get(self.protocol_version & 0xE0000000 if self.protocol_version else 0,
                                              "20601"),
            message_type="association", control_id=association_id, sending=Endpoint(identifier=sysid),
            sent=sent, devices=(device,), gateway=gateway,
            metrics=tuple(self.metrics), issues=tuple(self.issues) + self._incomplete(),
        )


_EVENT_REPORT_CHOICES = frozenset({nom.ROIV_CMIP_EVENT_REPORT_CHOSEN, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN})


def _scan_report(data: bytes) -> Any:
    """A PRST carrying a scan report (the APDU a manager receives most), read by the parser derived from
    the APDU declaration (layouts.py); None for any other APDU, or when the octets do not fit exactly
    (then construct's parse reads it, tolerates an event-info's padding or names the fault)."""
    if (len(data) < 22 or data[0] != 0xE7 or data[1] != 0 or (data[8] << 8 | data[9]) not in _EVENT_REPORT_CHOICES
            or (data[18] << 8 | data[19]) not in nom.SCAN_REPORTS):
        return None
    try:
        return layouts.parse_whole(attributes.layout("Apdu"), data)
    except layouts.Short:
        return None


def _summary(lost: list[str]) -> str:
    return f"{len(lost)} finding(s) of lost data, first: {lost[0]}"


def _reg_cert(entries: Any) -> tuple[str, ...]:
    out: list[str] = []
    for e in entries:
        body = e.auth_body_and_struc_type.auth_body
        kind = e.auth_body_and_struc_type.auth_body_struc_type
        data = bytes(e.auth_body_data)
        try:
            if body == 2 and kind == nom.CONTINUA_VERSION_STRUCT:
                v = apdu.ContinuaStructVersion.parse(data)
                out.append(f"continua-version {v.major_ig_version}.{v.minor_ig_version}")
                out.extend(f"continua-certified-device-class {c}" for c in v.cert_device_list)
                continue
            if body == 2 and kind == nom.CONTINUA_REG_STRUCT:
                bits = apdu.ContinuaRegStruct.parse(data).regulation_bit_field
                out.append("continua-unregulated-device" if bits & 0x8000 else "continua-regulated-device")
                continue
        except Exception:  # noqa: BLE001 - an unreadable entry is kept as hex below
            pass
        out.append(f"{nom.AUTH_BODY.get(body, f'auth-body {body}')} type {kind}: {data.hex().upper()}")
    return tuple(out)


def _terms():
    try:
        from interop.terminology import mdc
    except ImportError:  # pragma: no cover - terminology ships with the package
        return None
    return mdc


@lru_cache(maxsize=4096)
def _concept(partition: int, term: int) -> CodeableConcept:
    """MDC CodeableConcept: code = partition × 65536 + term, display = reference id (one shared frozen object)."""
    code = nom.mdc_code(partition, term)
    refid = nom.FALLBACK_TERMS.get(code)
    mdc = _terms()
    if mdc is not None:
        found = mdc.term(code)
        if found is not None:
            refid = found.refid
    return CodeableConcept(codings=(Coding(system=MDC_SYSTEM, code=str(code), display=refid),))


@lru_cache(maxsize=8)
def _method(category: str) -> CodeableConcept:
    """How the value was obtained, from the metric-spec-small category bits (manual, setting, calculation)."""
    return CodeableConcept(text=category.removeprefix("mss-cat-"))


@lru_cache(maxsize=1024)
def _unit(unit: int) -> tuple[str | None, Coding]:
    """(UCUM, MDC unit Coding) of an MDC_DIM term code."""
    refid, ucum = nom.FALLBACK_UNITS.get(unit, (None, None))
    mdc = _terms()
    if mdc is not None:
        found = mdc.unit(nom.mdc_code(nom.MDC_PART_DIM, unit))
        if found is not None:
            refid, ucum = found.refid, found.ucum or ucum
    return ucum, Coding(system=MDC_SYSTEM, code=str(nom.mdc_code(nom.MDC_PART_DIM, unit)), display=refid)


def _quantity(value: Decimal, unit: int | None) -> Quantity:
    """Quantity with UCUM and the MDC unit (partition DIM); built without re-validation (hot path)."""
    if unit is None:
        return Quantity(value=value)
    ucum, coding = _unit(unit)
    return Quantity(value=value, unit=ucum, unit_mdc=coding)


# What recurs from report to report, converted once (bounded, least recently used out: interop.memo.Memo).
# Keys hold everything the value is made from; the values are frozen model objects, safe to share.
_TIMES = Memo(4096)  # (AbsoluteTime octets, zone) -> (Timestamp, local-time note or None)
_VALUES = Memo(8192)  # (decoder, raw bits, unit) / (decoder, partition, ids, raw bits, unit) -> value objects


def _numeric(decode: Callable[[int], tuple[Decimal | None, str | None]], raw: int,
             unit: int | None) -> tuple[NumericValue | None, str | None]:
    """(NumericValue, None) or (None, data-absent reason) of a FLOAT/SFLOAT with its unit (memoised)."""
    key = (decode, raw, unit)
    hit = _VALUES.get(key) or _VALUES.recall(key)
    if hit is None:
        number, dar = decode(raw)
        hit = _VALUES.put(key, (NumericValue(quantity=_quantity(number, unit)) if number is not None else None, dar))
    return hit


def forget() -> None:
    """Empty the memos of converted times and values (each refills on use): a cold start, for tests."""
    _TIMES.forget()
    _VALUES.forget()
    _PLANS.forget()
    _where.cache_clear()
    _categories.cache_clear()
    _measurement_status.cache_clear()


@lru_cache(maxsize=256)
def _categories(spec_small: int) -> tuple[str, ...]:
    """The metric-spec-small category bits set (mss-cat-manual, -setting, -calculation)."""
    return nom.bit_names(spec_small, nom.METRIC_SPEC_SMALL[-3:])


@lru_cache(maxsize=1024)
def _measurement_status(bits: int) -> tuple[str, ...]:
    return nom.bit_names(bits, nom.MEASUREMENT_STATUS)


class _Plan:
    """What `_emit` reads from a configuration object's static attributes, read once per object."""

    __slots__ = ("obj", "val_map", "total", "slicers", "type", "unit", "categories", "supplemental", "accuracy")

    def __init__(self, obj: configurations.ConfigObject) -> None:
        static = obj.attributes
        self.obj = obj  # kept: the memo is keyed by id(obj), which cannot be reused while this lives
        self.val_map = obj.val_map
        self.total = sum(n for _, n in self.val_map)
        # (attribute id, octets, parser derived from its type's declaration (None: kept as octets), and
        # where that parse is a big-endian integer of exactly these octets False (int.from_bytes reads it),
        # for an AbsoluteTime of 8 octets True (kept as its octets: `_effective` converts those), else None)
        self.slicers = tuple((a, n, attributes.layout(attributes.ATTRIBUTE_TYPES[a]) if a in attributes.ATTRIBUTE_TYPES
                              else None, _whole(a, n)) for a, n in self.val_map)
        self.type = static.get(nom.MDC_ATTR_ID_TYPE)
        self.unit = static.get(nom.MDC_ATTR_UNIT_CODE)
        self.categories = _categories(static.get(nom.MDC_ATTR_METRIC_SPEC_SMALL) or 0)
        self.supplemental = static.get(nom.MDC_ATTR_SUPPLEMENTAL_TYPES)
        self.accuracy = static.get(nom.MDC_ATTR_NU_ACCUR_MSMT)


_INTEGERS = {"Int8ub": 1, "Int16ub": 2, "Int32ub": 4}  # declarations that are one unsigned integer: octets


def _whole(attr_id: int, n: int) -> bool | None:
    """How `_slice_fixed` reads an attribute of `n` octets without its parser (see `_Plan.slicers`)."""
    kind = attributes.ATTRIBUTE_TYPES.get(attr_id)
    if kind is not None and _INTEGERS.get(kind) == n:
        return False
    if attr_id == nom.MDC_ATTR_TIME_STAMP_ABS and n == 8:
        return True
    return None


_PLANS = Memo(1024)  # id(ConfigObject) -> _Plan (standard configurations are shared by every association)


def _plan(obj: configurations.ConfigObject) -> _Plan:
    plan = _PLANS.get(id(obj))
    if plan is None or plan.obj is not obj:
        plan = _PLANS.put(id(obj), _Plan(obj))
    return plan


@lru_cache(maxsize=4096)
def _where(handle: int, attr_id: int) -> str:
    """The part of a metric's source location after the APDU number."""
    return f" handle {handle} attr 0x{attr_id:04X} {attributes.name(attr_id)}"
