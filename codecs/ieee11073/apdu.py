"""IEEE 11073-20601 APDUs and attribute types as construct declarations (20601 annex A), named as in the ASN.1.

Each declaration is used to parse and to build. `parse_apdu` runs the compiled form of the same
declarations (construct's compiler) and, when the bytes are malformed, re-runs the declarative form
to report the byte offset of the fault. INT-U16 counts and lengths of SEQUENCE OF are rebuilt from
the content, so a parsed value builds back to the identical bytes.
"""

from __future__ import annotations

import io
import struct
from contextvars import ContextVar
from functools import cache
from typing import Any

from construct import (
    Array,
    Construct,
    ConstructError,
    Container,
    FocusedSeq,
    GreedyBytes,
    Int8ub,
    Int16sb,
    Int16ub,
    Int32ub,
    Int64ub,
    Prefixed,
    Rebuild,
    Struct,
    Switch,
    len_,
    this,
)

from . import nomenclature as nom


class LayoutError(ConstructError):
    """Bytes that do not fit a declaration, with the absolute byte offset of the fault."""

    def __init__(self, message: str, offset: int, expected: str = "") -> None:
        super().__init__(message)
        self.offset = offset
        self.expected = expected


_HELPERS = '''
class X73Short(Exception):
    pass
def x73_sized(io, n, f):
    data = io.read(n)
    if len(data) != n:
        raise X73Short("short")
    sub = BytesIO(data)
    value = f(sub)
    if sub.read(1):
        raise X73Short("trailing")
    return value
def x73_unknown(kind, value):
    raise X73Short("unknown " + kind)
'''


# Octets left over after the content of an event-info whose declared length is longer than its content
# (Antidote's glucometer declares 24 and sends 22 plus 2 padding octets). 20601 defines no padding, but
# the content itself is complete and self-delimiting (counts and lengths agree), so a tolerant decoder
# may read it and report the surplus: `parse_apdu(..., tolerate_padding=True)` collects each surplus
# here as (offset of the first surplus octet, number of octets, declared length) instead of failing.
PADDING: ContextVar[list[tuple[int, int, int]] | None] = ContextVar("x73_padding", default=None)


class Sized(Prefixed):
    """An INT-U16 length followed by exactly that many octets holding `subcon` (Any / octet string / list body)."""

    def __init__(self, subcon: Construct, what: str = "value", padding_ok: bool = False) -> None:
        super().__init__(Int16ub, subcon)
        self.what = what
        self.padding_ok = padding_ok  # surplus octets after the content may be tolerated (see PADDING)

    def _parse(self, stream, context, path):
        start = stream.tell()
        length = self.lengthfield._parsereport(stream, context, path)
        here = stream.tell()
        data = stream.read(length)
        if len(data) != length:
            raise LayoutError(f"{self.what} length {length} overruns the {len(data)} octets left", start,
                              f"at most {len(data)} octets")
        sub = _Sub(data, here)
        try:
            value = self.subcon._parsereport(sub, context, path)
        except LayoutError:
            raise
        except ConstructError as exc:
            raise LayoutError(f"{self.what} is truncated ({type(exc).__name__})", sub.tell(),
                              f"{length} octets of {self.what}") from None
        left = len(data) - (sub.tell() - here)
        found = PADDING.get() if self.padding_ok and left else None
        if found is not None:
            found.append((sub.tell(), left, length))
        elif left:
            raise LayoutError(f"{left} octets left over inside {self.what} of length {length}", sub.tell(),
                              "count and length that agree")
        return value

    def _emitparse(self, code):
        code.append(_HELPERS)
        return f"x73_sized(io, {self.lengthfield._compileparse(code)}, lambda io: ({self.subcon._compileparse(code)}))"


class _Sub(io.BytesIO):
    """A sub-stream that reports absolute offsets."""

    def __init__(self, data: bytes, base: int) -> None:
        super().__init__(data)
        self.base = base

    def tell(self) -> int:
        return super().tell() + self.base


class UnknownChoice(Construct):
    """The default branch of a CHOICE: an unknown tag is an error (with the offset of the content)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.flagbuildnone = True

    def _parse(self, stream, context, path):
        # every CHOICE of 20601 is encoded choice (INT-U16), length (INT-U16), content: point at the choice
        raise LayoutError(f"unknown {self.kind}", stream.tell() - 4, f"a known {self.kind}")

    def _build(self, obj, stream, context, path):
        raise LayoutError(f"unknown {self.kind}", 0)

    def _emitparse(self, code):
        code.append(_HELPERS)
        return f"x73_unknown({self.kind!r}, None)"


def SeqOf(item: Construct, what: str = "list") -> Construct:  # noqa: N802 (construct style)
    """SEQUENCE OF: INT-U16 count, INT-U16 length, items (20601 F.2.4)."""
    seq = FocusedSeq("value", "count" / Rebuild(Int16ub, len_(this.value)),
                     "value" / Sized(Array(this.count, item), what))
    seq.x73_item = item  # the item declaration, for the layouts derived from these declarations (layouts.py)
    return seq


OctetString = Sized(GreedyBytes, "octet string")
Any_ = Sized(GreedyBytes, "Any")

# ---------------------------------------------------------------- attribute types (20601 A.4, A.5)
TYPE = Struct("partition" / Int16ub, "code" / Int16ub)
AVA_Type = Struct("attribute_id" / Int16ub, "attribute_value" / Any_)
AttributeList = SeqOf(AVA_Type, "AttributeList")
AttributeIdList = SeqOf(Int16ub, "AttributeIdList")
AttrValMapEntry = Struct("attribute_id" / Int16ub, "attribute_len" / Int16ub)
AttrValMap = SeqOf(AttrValMapEntry, "AttrValMap")
HandleAttrValMapEntry = Struct("obj_handle" / Int16ub, "attr_val_map" / AttrValMap)
HandleAttrValMap = SeqOf(HandleAttrValMapEntry, "HandleAttrValMap")
MetricIdList = SeqOf(Int16ub, "MetricIdList")
SupplementalTypeList = SeqOf(TYPE, "SupplementalTypeList")
SystemModel = Struct("manufacturer" / OctetString, "model_number" / OctetString)
ProdSpecEntry = Struct("spec_type" / Int16ub, "component_id" / Int16ub, "prod_spec" / OctetString)
ProductionSpec = SeqOf(ProdSpecEntry, "ProductionSpec")
TypeVer = Struct("type" / Int16ub, "version" / Int16ub)
TypeVerList = SeqOf(TypeVer, "TypeVerList")
AbsoluteTime = Struct("century" / Int8ub, "year" / Int8ub, "month" / Int8ub, "day" / Int8ub,
                      "hour" / Int8ub, "minute" / Int8ub, "second" / Int8ub, "sec_fractions" / Int8ub)
BaseOffsetTime = Struct("bo_seconds" / Int32ub, "bo_fraction" / Int16ub, "bo_time_offset" / Int16sb)
MdsTimeInfo = Struct("mds_time_cap_state" / Int16ub, "time_sync_protocol" / Int16ub,
                     "time_sync_accuracy" / Int32ub, "time_resolution_abs_time" / Int16ub,
                     "time_resolution_rel_time" / Int16ub, "time_resolution_high_res_time" / Int32ub)
AuthBodyAndStrucType = Struct("auth_body" / Int8ub, "auth_body_struc_type" / Int8ub)
RegCertData = Struct("auth_body_and_struc_type" / AuthBodyAndStrucType, "auth_body_data" / Any_)
RegCertDataList = SeqOf(RegCertData, "RegCertDataList")
ContinuaStructVersion = Struct("major_ig_version" / Int8ub, "minor_ig_version" / Int8ub,
                               "cert_device_list" / SeqOf(Int16ub, "CertifiedDeviceClassList"))
ContinuaRegStruct = Struct("regulation_bit_field" / Int16ub)
NuObsValue = Struct("metric_id" / Int16ub, "state" / Int16ub, "unit_code" / Int16ub, "value" / Int32ub)
NuObsValueCmp = SeqOf(NuObsValue, "NuObsValueCmp")
SimpleNuObsValueCmp = SeqOf(Int32ub, "SimpleNuObsValueCmp")
BasicNuObsValueCmp = SeqOf(Int16ub, "BasicNuObsValueCmp")
EnumVal = Struct("choice" / Int16ub, "value" / Sized(Switch(this.choice, {
    0x0001: Int16ub,  # enum-obj-id OID-Type
    0x0002: GreedyBytes,  # enum-text-string
    0x0010: Int32ub,  # enum-bit-str BITS-32
}, default=UnknownChoice("EnumVal choice")), "EnumVal"))
EnumObsValue = Struct("metric_id" / Int16ub, "state" / Int16ub, "value" / EnumVal)
SampleType = Struct("sample_size" / Int8ub, "significant_bits" / Int8ub)
SaSpec = Struct("array_size" / Int16ub, "sample_type" / SampleType, "flags" / Int16ub)
ScaleRangeSpec8 = Struct("lower_absolute_value" / Int32ub, "upper_absolute_value" / Int32ub,
                         "lower_scaled_value" / Int8ub, "upper_scaled_value" / Int8ub)
ScaleRangeSpec16 = Struct("lower_absolute_value" / Int32ub, "upper_absolute_value" / Int32ub,
                          "lower_scaled_value" / Int16ub, "upper_scaled_value" / Int16ub)
ScaleRangeSpec32 = Struct("lower_absolute_value" / Int32ub, "upper_absolute_value" / Int32ub,
                          "lower_scaled_value" / Int32ub, "upper_scaled_value" / Int32ub)
SegmEntryElem = Struct("class_id" / Int16ub, "metric_type" / TYPE, "handle" / Int16ub,
                       "attr_val_map" / AttrValMap)
PmSegmentEntryMap = Struct("segm_entry_header" / Int16ub,
                           "segm_entry_elem_list" / SeqOf(SegmEntryElem, "SegmEntryElemList"))
MetricStructureSmall = Struct("ms_struct" / Int8ub, "ms_comp_no" / Int8ub)
HighResTimeStamp = Int64ub

# ---------------------------------------------------------------- association (20601 A.8)
DataReqModeCapab = Struct("data_req_mode_flags" / Int16ub, "data_req_init_agent_count" / Int8ub,
                          "data_req_init_manager_count" / Int8ub)
PhdAssociationInformation = Struct(
    "protocol_version" / Int32ub, "encoding_rules" / Int16ub, "nomenclature_version" / Int32ub,
    "functional_units" / Int32ub, "system_type" / Int32ub, "system_id" / OctetString,
    "dev_config_id" / Int16ub, "data_req_mode_capab" / DataReqModeCapab, "option_list" / AttributeList,
)
DataProto = Struct("data_proto_id" / Int16ub, "data_proto_info" / Sized(Switch(this.data_proto_id, {
    nom.DATA_PROTO_ID_20601: PhdAssociationInformation,
}, default=GreedyBytes), "data-proto-info"))
DataProtoList = SeqOf(DataProto, "DataProtoList")
AarqApdu = Struct("assoc_version" / Int32ub, "data_proto_list" / DataProtoList)
AareApdu = Struct("result" / Int16ub, "selected_data_proto" / DataProto)
RlrqApdu = Struct("reason" / Int16ub)
RlreApdu = Struct("reason" / Int16ub)
AbrtApdu = Struct("reason" / Int16ub)

# ---------------------------------------------------------------- event reports (20601 A.11)
ObservationScanFixed = Struct("obj_handle" / Int16ub, "obs_val_data" / OctetString)
ObservationScan = Struct("obj_handle" / Int16ub, "attributes" / AttributeList)
ScanReportInfoFixed = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                             "obs_scan_fixed" / SeqOf(ObservationScanFixed, "ObservationScanFixedList"))
ScanReportInfoVar = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                           "obs_scan_var" / SeqOf(ObservationScan, "ObservationScanList"))
ScanReportPerFixed = Struct("person_id" / Int16ub,
                            "obs_scan_fixed" / SeqOf(ObservationScanFixed, "ObservationScanFixedList"))
ScanReportInfoMPFixed = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                               "scan_per_fixed" / SeqOf(ScanReportPerFixed, "ScanReportPerFixedList"))
ScanReportPerVar = Struct("person_id" / Int16ub, "obs_scan_var" / SeqOf(ObservationScan, "ObservationScanList"))
ScanReportInfoMPVar = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                             "scan_per_var" / SeqOf(ScanReportPerVar, "ScanReportPerVarList"))
ScanReportInfoGrouped = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                               "obs_scan_grouped" / SeqOf(OctetString, "ScanReportInfoGroupedList"))
ScanReportPerGrouped = Struct("person_id" / Int16ub, "obs_scan_grouped" / OctetString)
ScanReportInfoMPGrouped = Struct("data_req_id" / Int16ub, "scan_report_no" / Int16ub,
                                 "scan_per_grouped" / SeqOf(ScanReportPerGrouped, "ScanReportPerGroupedList"))
ConfigObject = Struct("obj_class" / Int16ub, "obj_handle" / Int16ub, "attributes" / AttributeList)
ConfigReport = Struct("config_report_id" / Int16ub, "config_obj_list" / SeqOf(ConfigObject, "ConfigObjectList"))
ConfigReportRsp = Struct("config_report_id" / Int16ub, "config_result" / Int16ub)
SegmDataEventDescr = Struct("segm_instance" / Int16ub, "segm_evt_entry_index" / Int32ub,
                            "segm_evt_entry_count" / Int32ub, "segm_evt_status" / Int16ub)
SegmentDataEvent = Struct("segm_data_event_descr" / SegmDataEventDescr, "segm_data_event_entries" / OctetString)
SegmentDataResult = Struct("segm_data_event_descr" / SegmDataEventDescr)

_SCAN_INFO = {}
for _code in nom.SCAN_FIXED:
    _SCAN_INFO[_code] = ScanReportInfoFixed
for _code in nom.SCAN_VAR:
    _SCAN_INFO[_code] = ScanReportInfoVar
for _code in nom.SCAN_MP_FIXED:
    _SCAN_INFO[_code] = ScanReportInfoMPFixed
for _code in nom.SCAN_MP_VAR:
    _SCAN_INFO[_code] = ScanReportInfoMPVar
for _code in nom.SCAN_GROUPED:
    _SCAN_INFO[_code] = ScanReportInfoGrouped
for _code in nom.SCAN_MP_GROUPED:
    _SCAN_INFO[_code] = ScanReportInfoMPGrouped
EVENT_INFO = {nom.MDC_NOTI_CONFIG: ConfigReport, nom.MDC_NOTI_SEGMENT_DATA: SegmentDataEvent, **_SCAN_INFO}
EVENT_REPLY_INFO = {nom.MDC_NOTI_CONFIG: ConfigReportRsp, nom.MDC_NOTI_SEGMENT_DATA: SegmentDataResult}

EventReportArgumentSimple = Struct(
    "obj_handle" / Int16ub, "event_time" / Int32ub, "event_type" / Int16ub,
    "event_info" / Sized(Switch(this.event_type, EVENT_INFO, default=GreedyBytes), "event-info", padding_ok=True),
)
EventReportResultSimple = Struct(
    "obj_handle" / Int16ub, "currentTime" / Int32ub, "event_type" / Int16ub,
    "event_reply_info" / Sized(Switch(this.event_type, EVENT_REPLY_INFO, default=GreedyBytes), "event-reply-info"),
)

# ---------------------------------------------------------------- GET / SET / ACTION (20601 A.10.x, A.11)
GetArgumentSimple = Struct("obj_handle" / Int16ub, "attribute_id_list" / AttributeIdList)
GetResultSimple = Struct("obj_handle" / Int16ub, "attribute_list" / AttributeList)
AttributeModEntry = Struct("modify_operator" / Int16ub, "attribute" / AVA_Type)
SetArgumentSimple = Struct("obj_handle" / Int16ub, "modification_list" / SeqOf(AttributeModEntry, "ModificationList"))
SetResultSimple = Struct("obj_handle" / Int16ub, "attribute_list" / AttributeList)
DataRequest = Struct("data_req_id" / Int16ub, "data_req_mode" / Int16ub, "data_req_time" / Int32ub,
                     "data_req_person_id" / Int16ub, "data_req_class" / Int16ub,
                     "data_req_obj_handle_list" / SeqOf(Int16ub, "HANDLEList"))
DataResponse = Struct("rel_time_stamp" / Int32ub, "data_req_result" / Int16ub, "event_type" / Int16ub,
                      "event_info" / Sized(Switch(this.event_type, EVENT_INFO, default=GreedyBytes), "event-info",
                                                   padding_ok=True))
SegmSelection = Struct("choice" / Int16ub, "value" / Sized(Switch(this.choice, {
    0x0001: Int16ub,  # all-segments
    0x0002: SeqOf(Int16ub, "SegmIdList"),  # segm-id-list
    0x0003: Struct("from_time" / AbsoluteTime, "to_time" / AbsoluteTime),  # abs-time-range
    0x0004: Struct("from_time" / BaseOffsetTime, "to_time" / BaseOffsetTime),  # bo-time-range
}, default=UnknownChoice("SegmSelection choice")), "SegmSelection"))
SegmentInfo = Struct("seg_inst_no" / Int16ub, "seg_info" / AttributeList)
SegmentInfoList = SeqOf(SegmentInfo, "SegmentInfoList")
TrigSegmDataXferReq = Struct("seg_inst_no" / Int16ub)
TrigSegmDataXferRsp = Struct("seg_inst_no" / Int16ub, "trig_segm_xfer_rsp" / Int16ub)
SetTimeInvoke = Struct("date_time" / AbsoluteTime, "accuracy" / Int32ub)
ACTION_ARGS = {nom.MDC_ACT_DATA_REQUEST: DataRequest, nom.MDC_ACT_SEG_GET_INFO: SegmSelection,
               nom.MDC_ACT_SEG_CLR: SegmSelection, nom.MDC_ACT_SEG_TRIG_XFER: TrigSegmDataXferReq,
               nom.MDC_ACT_SET_TIME: SetTimeInvoke}
ACTION_RESULTS = {nom.MDC_ACT_DATA_REQUEST: DataResponse, nom.MDC_ACT_SEG_GET_INFO: SegmentInfoList,
                  nom.MDC_ACT_SEG_TRIG_XFER: TrigSegmDataXferRsp}
ActionArgumentSimple = Struct("obj_handle" / Int16ub, "action_type" / Int16ub, "action_info_args" / Sized(
    Switch(this.action_type, ACTION_ARGS, default=GreedyBytes), "action-info-args"))
ActionResultSimple = Struct("obj_handle" / Int16ub, "action_type" / Int16ub, "action_info_args" / Sized(
    Switch(this.action_type, ACTION_RESULTS, default=GreedyBytes), "action-info-args"))
ErrorResult = Struct("error_value" / Int16ub, "parameter" / Any_)
RejectResult = Struct("problem" / Int16ub)

DATA_APDU_MESSAGES = {
    nom.ROIV_CMIP_EVENT_REPORT_CHOSEN: EventReportArgumentSimple,
    nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN: EventReportArgumentSimple,
    nom.ROIV_CMIP_GET_CHOSEN: GetArgumentSimple,
    nom.ROIV_CMIP_SET_CHOSEN: SetArgumentSimple,
    nom.ROIV_CMIP_CONFIRMED_SET_CHOSEN: SetArgumentSimple,
    nom.ROIV_CMIP_ACTION_CHOSEN: ActionArgumentSimple,
    nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN: ActionArgumentSimple,
    nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN: EventReportResultSimple,
    nom.RORS_CMIP_GET_CHOSEN: GetResultSimple,
    nom.RORS_CMIP_CONFIRMED_SET_CHOSEN: SetResultSimple,
    nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN: ActionResultSimple,
    nom.ROER_CHOSEN: ErrorResult,
    nom.RORJ_CHOSEN: RejectResult,
}
DataApdu = Struct("invoke_id" / Int16ub, "choice" / Int16ub, "message" / Sized(
    Switch(this.choice, DATA_APDU_MESSAGES, default=UnknownChoice("DataApdu message choice")), "DataApdu message"))
PrstApdu = Sized(DataApdu, "PRST octet string")

Apdu = Struct("choice" / Int16ub, "apdu" / Sized(Switch(this.choice, {
    nom.AARQ_CHOSEN: AarqApdu, nom.AARE_CHOSEN: AareApdu, nom.RLRQ_CHOSEN: RlrqApdu,
    nom.RLRE_CHOSEN: RlreApdu, nom.ABRT_CHOSEN: AbrtApdu, nom.PRST_CHOSEN: PrstApdu,
}, default=UnknownChoice("APDU choice")), "APDU"))
"""APDU ::= CHOICE { aarq AarqApdu, aare AareApdu, rlrq RlrqApdu, rlre RlreApdu, abrt AbrtApdu, prst PrstApdu }"""

MAX_APDU = 65535 + 4


@cache
def compiled(declaration_name: str) -> Construct:
    """The compiled form of the declaration named `declaration_name` (compiled once per process)."""
    return globals()[declaration_name].compile()


def warm(names: tuple[str, ...] = ()) -> None:
    """Compile the APDU declaration (and `names`) now: compiling later in a serving thread would race with
    other threads' use of the compiler (CPython 3.11 shares the AST recursion state between threads)."""
    for name in ("Apdu", *names):
        compiled(name)


def parse(declaration: Construct, data: bytes, *, name: str | None = None, base: int = 0) -> Any:
    """Parse `data` with `declaration` (compiled when `name` is given); raise LayoutError with an absolute offset."""
    if name is not None:
        try:
            value = compiled(name).parse(data)
        except Exception:  # noqa: BLE001 - any failure of the compiled parser is diagnosed below
            pass
        else:
            return value
    stream = _Sub(data, base)
    try:
        value = declaration.parse_stream(stream)
    except LayoutError:
        raise
    except ConstructError as exc:
        raise LayoutError(f"truncated ({type(exc).__name__})", stream.tell(), "more octets") from None
    except (ValueError, OverflowError, KeyError, TypeError, IndexError) as exc:
        raise LayoutError(f"malformed ({type(exc).__name__})", stream.tell(), "a well-formed value") from None
    if stream.tell() - base != len(data):
        raise LayoutError(f"{len(data) - (stream.tell() - base)} trailing octets", stream.tell(), "end of value")
    return value


def parse_apdu(data: bytes, base: int = 0, *, padding: list[tuple[int, int, int]] | None = None) -> Container:
    """One whole APDU (header included); raise LayoutError (absolute offset from `base`) when malformed.

    With `padding` (a list), surplus octets after a complete event-info are tolerated and recorded in it
    as (absolute offset, octets, declared length); without it they are a LayoutError."""
    if padding is None:
        return parse(Apdu, data, name="Apdu", base=base)
    token = PADDING.set(padding)
    try:
        return parse(Apdu, data, name="Apdu", base=base)
    finally:
        PADDING.reset(token)


def build_apdu(value: dict | Container) -> bytes:
    """The bytes of an APDU value (the inverse of `parse_apdu`): built by the compiled form of the declaration
    (a manager answers every confirmed event report), else by the declaration itself, which also names what
    is wrong with a value that cannot be built."""
    try:
        return compiled("Apdu").build(value)
    except Exception:  # noqa: BLE001 - the declarative build below raises the diagnosable error
        return Apdu.build(value)


class Slot:
    """A named hole in a `Template` value."""

    def __init__(self, name: str) -> None:
        self.name = name


class Template:
    """An APDU whose structure is fixed and only some integer fields change (the manager's confirmation of a
    scan report): built once by the declaration, then each APDU is the template with those fields packed in.

    Where each field lies is found from the declaration itself, not written down: the value is built with
    every slot 0, then with one slot at its largest value, and the octets that differ are that field."""

    def __init__(self, value: dict[str, Any], declaration: Construct | None = None) -> None:
        self.declaration = declaration if declaration is not None else Apdu
        names = _slots(value)
        self.base = self.declaration.build(_fill(value, dict.fromkeys(names, 0)))
        self.fields: list[tuple[str, int, struct.Struct]] = []
        for name in names:
            for width, fmt in ((4, ">I"), (2, ">H"), (1, ">B")):
                try:
                    marked = self.declaration.build(_fill(value, {**dict.fromkeys(names, 0), name: (1 << 8 * width) - 1}))
                except ConstructError:
                    continue
                diff = [i for i, (a, b) in enumerate(zip(self.base, marked, strict=True)) if a != b]
                if len(marked) != len(self.base) or diff != list(range(diff[0], diff[0] + width)):
                    raise ValueError(f"template field {name}: not one big-endian {width}-octet integer")
                self.fields.append((name, diff[0], struct.Struct(fmt)))
                break
            else:
                raise ValueError(f"template field {name}: no integer width fits")

    def build(self, **values: int) -> bytes:
        """The APDU with `values` in its slots (each must fit its field: struct.error otherwise)."""
        out = bytearray(self.base)
        for name, at, fmt in self.fields:
            fmt.pack_into(out, at, values[name])
        return bytes(out)


def _slots(value: Any) -> list[str]:
    if isinstance(value, Slot):
        return [value.name]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _slots(v)]
    return []


def _fill(value: Any, values: dict[str, int]) -> Any:
    if isinstance(value, Slot):
        return values[value.name]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


SCAN_REPORT_CONFIRMATION = Template({"choice": nom.PRST_CHOSEN, "apdu": {
    "invoke_id": Slot("invoke_id"), "choice": nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, "message": {
        "obj_handle": Slot("obj_handle"), "currentTime": Slot("event_time"), "event_type": Slot("event_type"),
        "event_reply_info": b""}}})
"""rors-cmip-confirmed-event-report answering a scan report (its event-reply-info is empty, 20601 A.11.2):
`SCAN_REPORT_CONFIRMATION.build(invoke_id=..., obj_handle=..., event_time=..., event_type=...)`."""
