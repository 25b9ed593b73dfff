"""Crafted 20601 traces: one passing and one failing capture per X73-* assertion.

Every APDU is built with the codec's own declarations (`apdu.build_apdu`, `attributes.encode`,
`agent.*`), then written as hex text with `<` manager lines. `python tests/conformance/x73_cases.py`
writes them to `conformance/cases/x73/<ID>.pass.x73` / `.fail.x73`; the tests check the files
are current and that each fail case raises its assertion and each pass case does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from interop.codecs.ieee11073 import agent, apdu, attributes, configurations, mder
from interop.codecs.ieee11073 import nomenclature as nom

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE.parents[1] / "conformance" / "cases" / "x73"
SYSID = bytes.fromhex("0A1B2C3D4E5F0702")
WHEN = datetime(2026, 1, 15, 8, 30, 0)
Line = tuple[str, bytes]  # ("a" agent | "m" manager, APDU octets)
BP = agent.PROFILES["x73-bp"]


# ------------------------------------------------------------------------------------------- APDU builders
def prst(invoke: int, choice: int, message: dict[str, Any]) -> bytes:
    return apdu.build_apdu({"choice": nom.PRST_CHOSEN, "apdu": {"invoke_id": invoke, "choice": choice,
                                                                "message": message}})


def aarq(config_id: int = 700, *, system_id: bytes = SYSID, assoc_version: int = 0x80000000,
         proto_id: int = nom.DATA_PROTO_ID_20601, protocol_version: int = 0x80000000,
         encoding: int = nom.MDER_ENCODING, nomenclature: int = 0x80000000, system_type: int = 0x00800000) -> bytes:
    info = {"protocol_version": protocol_version, "encoding_rules": encoding, "nomenclature_version": nomenclature,
            "functional_units": 0, "system_type": system_type, "system_id": system_id, "dev_config_id": config_id,
            "data_req_mode_capab": {"data_req_mode_flags": 1, "data_req_init_agent_count": 1,
                                    "data_req_init_manager_count": 0}, "option_list": []}
    proto: dict[str, Any] = {"data_proto_id": proto_id, "data_proto_info": info}
    if proto_id != nom.DATA_PROTO_ID_20601:
        proto["data_proto_info"] = apdu.PhdAssociationInformation.build(info)
    return apdu.build_apdu({"choice": nom.AARQ_CHOSEN, "apdu": {"assoc_version": assoc_version,
                                                               "data_proto_list": [proto]}})


def aare(result: int = nom.ACCEPTED) -> bytes:
    info = {"protocol_version": 0x80000000, "encoding_rules": nom.MDER_ENCODING, "nomenclature_version": 0x80000000,
            "functional_units": 0, "system_type": 0x80000000, "system_id": bytes.fromhex("0011223344556677"),
            "dev_config_id": 0, "data_req_mode_capab": {"data_req_mode_flags": 0, "data_req_init_agent_count": 0,
                                                        "data_req_init_manager_count": 0}, "option_list": []}
    return apdu.build_apdu({"choice": nom.AARE_CHOSEN, "apdu": {"result": result, "selected_data_proto": {
        "data_proto_id": nom.DATA_PROTO_ID_20601, "data_proto_info": info}}})


def simple(choice: int, reason: int = 0) -> bytes:
    return apdu.build_apdu({"choice": choice, "apdu": {"reason": reason}})


RLRQ, RLRE = simple(nom.RLRQ_CHOSEN), simple(nom.RLRE_CHOSEN)


def get_mds(invoke: int = 1) -> bytes:
    return prst(invoke, nom.ROIV_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_id_list": []})


def ava(attr_id: int, value: Any, *, raw: bool = False) -> dict[str, Any]:
    """An AVA-Type; `raw` octets are taken as they are (to craft malformed values)."""
    raw = value if raw else attributes.encode(attr_id, value)
    return {"attribute_id": attr_id, "attribute_value": raw}


def mds_reply(invoke: int = 1, *, with_abs: bool = True, with_rel: bool = False) -> bytes:
    avas = [ava(nom.MDC_ATTR_SYS_ID, SYSID), ava(nom.MDC_ATTR_DEV_CONFIG_ID, 700),
            ava(nom.MDC_ATTR_ID_MODEL, {"manufacturer": b"Example Devices", "model_number": b"BPM-700"})]
    if with_abs:
        avas.append(ava(nom.MDC_ATTR_TIME_ABS, mder.encode_absolute_time(WHEN), raw=True))
    if with_rel:
        avas.append(ava(nom.MDC_ATTR_TIME_REL, 1000))
    return prst(invoke, nom.RORS_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_list": avas})


def event(invoke: int, event_type: int, info: Any, *, confirmed: bool = True, handle: int = 0) -> bytes:
    choice = nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN if confirmed else nom.ROIV_CMIP_EVENT_REPORT_CHOSEN
    return prst(invoke, choice, {"obj_handle": handle, "event_time": 0xFFFFFFFF, "event_type": event_type,
                                 "event_info": info})


def event_reply(invoke: int, event_type: int, reply: Any = b"") -> bytes:
    return prst(invoke, nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN,
                {"obj_handle": 0, "currentTime": 0, "event_type": event_type, "event_reply_info": reply})


def get_reply(invoke: int) -> bytes:
    return prst(invoke, nom.RORS_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_list": []})


def config_reply(invoke: int, config_id: int = 0x4000, result: int = nom.ACCEPTED_CONFIG) -> bytes:
    return event_reply(invoke, nom.MDC_NOTI_CONFIG, {"config_report_id": config_id, "config_result": result})


def bp_objects() -> list[dict[str, Any]]:
    """The object list of standard configuration 0x02BC as a ConfigReport value (to edit)."""
    return configurations.config_report_value(configurations.standard_entry(700))["config_obj_list"]


def config_report(invoke: int = 1, config_id: int = 0x4000, objects: list[dict[str, Any]] | None = None, *,
                  confirmed: bool = True) -> bytes:
    return event(invoke, nom.MDC_NOTI_CONFIG, {"config_report_id": config_id,
                                               "config_obj_list": bp_objects() if objects is None else objects},
                 confirmed=confirmed)


def fixed(invoke: int, observations: list[tuple[int, bytes]], *, confirmed: bool = True, report_no: int = 0) -> bytes:
    return event(invoke, 3357, {"data_req_id": 0xF000, "scan_report_no": report_no,
                                "obs_scan_fixed": [{"obj_handle": h, "obs_val_data": d} for h, d in observations]},
                 confirmed=confirmed)


def bp_values(sys_: str = "120", dia: str = "80", mean: str = "100", when: datetime = WHEN,
              raw: list[int] | None = None) -> bytes:
    """Handle 1 of 0x02BC: compound SFLOAT (3) then the absolute time stamp."""
    members = raw if raw is not None else [mder.encode_sfloat(v) for v in (sys_, dia, mean)]
    return attributes.encode(nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC, members) + mder.encode_absolute_time(when)


def pulse_values(value: str = "60", when: datetime = WHEN, raw: int | None = None) -> bytes:
    bits = raw if raw is not None else mder.encode_sfloat(value)
    return attributes.encode(nom.MDC_ATTR_NU_VAL_OBS_BASIC, bits) + mder.encode_absolute_time(when)


def report(invoke: int = 2, **kw: Any) -> bytes:
    return fixed(invoke, [(1, bp_values(**kw)), (2, pulse_values())])


def var_report(invoke: int, observations: list[tuple[int, list[dict[str, Any]]]]) -> bytes:
    return event(invoke, 3358, {"data_req_id": 0xF000, "scan_report_no": 0, "obs_scan_var": [
        {"obj_handle": h, "attributes": avas} for h, avas in observations]})


def abs_time(when: datetime = WHEN) -> dict[str, Any]:
    return ava(nom.MDC_ATTR_TIME_STAMP_ABS, mder.encode_absolute_time(when), raw=True)


def basic(bits: int) -> dict[str, Any]:
    return ava(nom.MDC_ATTR_NU_VAL_OBS_BASIC, bits)


# ------------------------------------------------------------------------------------------- sessions
def standard_session(*, reports: list[bytes] | None = None, manager: bool = True, mds: bytes | None = None,
                     first: bytes | None = None) -> list[Line]:
    """A whole 0x02BC session: AARQ, AARE accepted, GET MDS, reports (answered), RLRQ/RLRE."""
    out: list[Line] = [("a", first or aarq())]
    if manager:
        out += [("m", aare()), ("m", get_mds(1))]
    out.append(("a", mds or mds_reply(1)))
    for r in reports if reports is not None else [report(2)]:
        out.append(("a", r))
        if manager:
            try:
                whole = apdu.parse_apdu(r)
            except apdu.LayoutError:
                continue  # a malformed report gets no answer
            value = whole.apdu
            if whole.choice == nom.PRST_CHOSEN and value.choice == nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
                out.append(("m", answer(value)))
    out.append(("a", RLRQ))
    if manager:
        out.append(("m", RLRE))
    return out


def answer(value: Any) -> bytes:
    """The manager's rors to a confirmed event report (a configuration gets accepted-config)."""
    if value.message.event_type == nom.MDC_NOTI_CONFIG:
        return config_reply(value.invoke_id, value.message.event_info.config_report_id)
    return event_reply(value.invoke_id, value.message.event_type)


def extended_session(config: bytes | None = None, *, result: int = nom.ACCEPTED_CONFIG, manager: bool = True,
                     reports: list[bytes] | None = None, config_id: int = 0x4000) -> list[Line]:
    """An extended-configuration session: AARQ 0x4000, AARE accepted-unknown-config, config report, reports."""
    cfg = config if config is not None else config_report(1, config_id)
    out: list[Line] = [("a", aarq(config_id))]
    if manager:
        out.append(("m", aare(nom.ACCEPTED_UNKNOWN_CONFIG)))
    out.append(("a", cfg))
    if manager:
        parsed = apdu.parse_apdu(cfg).apdu
        out.append(("m", config_reply(parsed.invoke_id, parsed.message.event_info.config_report_id, result)))
    for r in reports if reports is not None else [report(2)]:
        out.append(("a", r))
        if manager:
            try:
                whole = apdu.parse_apdu(r)
            except apdu.LayoutError:
                continue  # a malformed report gets no answer
            value = whole.apdu
            if whole.choice == nom.PRST_CHOSEN and value.choice == nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN:
                out.append(("m", answer(value)))
    out.append(("a", RLRQ))
    if manager:
        out.append(("m", RLRE))
    return out


def edit_objects(fn: Callable[[list[dict[str, Any]]], None]) -> list[dict[str, Any]]:
    objects = bp_objects()
    fn(objects)
    return objects


def drop_attr(handle: int, attr_id: int) -> Callable[[list[dict[str, Any]]], None]:
    def edit(objects: list[dict[str, Any]]) -> None:
        obj = next(o for o in objects if o["obj_handle"] == handle)
        obj["attributes"] = [a for a in obj["attributes"] if a["attribute_id"] != attr_id]
    return edit


def set_attr(handle: int, attr_id: int, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def edit(objects: list[dict[str, Any]]) -> None:
        obj = next(o for o in objects if o["obj_handle"] == handle)
        raw = value if isinstance(value, bytes) else attributes.encode(attr_id, value)
        obj["attributes"] = [a for a in obj["attributes"] if a["attribute_id"] != attr_id]
        obj["attributes"].append({"attribute_id": attr_id, "attribute_value": raw})
    return edit


def with_extra_object(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return edit_objects(lambda objects: objects.append(obj))


def scanner_config(map_len: int = 10) -> bytes:
    """0x02BC objects plus an unbuffered periodic scanner (handle 20) grouping handle 2 (pulse)."""
    scanner = {"obj_class": nom.MDC_MOC_SCAN_CFG_PERI, "obj_handle": 20, "attributes": [
        ava(nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP, [{"obj_handle": 2, "attr_val_map": [
            {"attribute_id": nom.MDC_ATTR_NU_VAL_OBS_BASIC, "attribute_len": 2},
            {"attribute_id": nom.MDC_ATTR_TIME_STAMP_ABS, "attribute_len": 8}]}])]}
    return config_report(1, 0x4000, with_extra_object(scanner))


def grouped(invoke: int, group: bytes) -> bytes:
    return event(invoke, 3364, {"data_req_id": 0xF000, "scan_report_no": 0, "obs_scan_grouped": [group]}, handle=20)


def hexlines(lines: list[Line]) -> str:
    out = []
    for who, octets in lines:
        text = " ".join(f"{b:02x}" for b in octets)
        out.append(("< " if who == "m" else "") + text)
    return "\n".join(out) + "\n"


def raw_text(text: str) -> str:
    return text


# ------------------------------------------------------------------------------------------- the cases
def _cases() -> dict[str, tuple[list[Line] | str, list[Line] | str]]:
    good = standard_session()
    ext = extended_session()
    late = report(3, when=WHEN.replace(minute=31))
    early = report(3, when=WHEN.replace(minute=29))
    rel_obs = [(2, [basic(mder.encode_sfloat("60")), ava(nom.MDC_ATTR_TIME_STAMP_REL, 5000)])]
    return {
        "X73-FSM-001": (good, [("a", report(2))]),
        "X73-FSM-002": (good, [("a", report(2)), ("a", aarq()), ("a", RLRQ)]),
        "X73-FSM-003": (ext, [("a", aarq(0x4000)), ("m", aare(nom.ACCEPTED_UNKNOWN_CONFIG)), ("a", report(1)),
                              ("a", RLRQ), ("m", RLRE)]),
        "X73-FSM-004": (good, standard_session(reports=[config_report(2, 700), report(3)])),
        "X73-FSM-005": (good, standard_session(reports=[report(2), aarq()])),
        "X73-FSM-006": (good, [("a", aarq()), ("a", aare()), ("a", RLRQ)]),
        "X73-FSM-007": (good, standard_session(reports=[report(2), RLRE])),
        "X73-FSM-008": (good, [("a", aarq()), ("a", RLRQ), ("a", report(2))]),
        "X73-FSM-009": (good, [("a", aarq()), ("a", report(2))]),
        "X73-FSM-010": (good, [("a", aarq()), ("m", aare(9)), ("a", RLRQ)]),
        "X73-FSM-011": (ext, extended_session(result=5)),
        "X73-FSM-012": (ext, extended_session(config_report(1, confirmed=False), manager=False)),
        "X73-FSM-013": (ext, [("a", aarq(0x4000)), ("m", aare(nom.ACCEPTED_UNKNOWN_CONFIG)), ("a", mds_reply(1)),
                              ("a", RLRQ), ("m", RLRE)]),
        "X73-INV-001": (good, [("a", aarq()), ("m", aare()), ("a", report(2)), ("m", event_reply(99, 3357)),
                               ("a", RLRQ), ("m", RLRE)]),
        "X73-INV-002": (good, [("a", aarq()), ("m", aare()), ("m", get_mds(1)), ("a", mds_reply(7)),
                               ("a", RLRQ), ("m", RLRE)]),
        "X73-INV-003": (good, standard_session(manager=False, reports=[report(2), report(2)])),
        "X73-INV-004": (good, [("a", aarq()), ("m", aare()), ("a", report(2)),
                               ("m", get_reply(2)), ("a", RLRQ), ("m", RLRE)]),
        "X73-INV-005": (good, [("a", aarq()), ("m", aare()), ("a", report(2)), ("a", RLRQ), ("m", RLRE)]),
        "X73-CFG-001": (ext, extended_session(config_report(1, 0x4001))),
        "X73-CFG-002": (ext, extended_session(config_report(1, 0x4000, with_extra_object(
            {"obj_class": nom.MDC_MOC_VMO_METRIC_NU, "obj_handle": 2, "attributes": bp_objects()[1]["attributes"]})))),
        "X73-CFG-003": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            drop_attr(2, nom.MDC_ATTR_ID_TYPE))), reports=[])),
        "X73-CFG-004": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            drop_attr(2, nom.MDC_ATTR_METRIC_SPEC_SMALL))))),
        "X73-CFG-005": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            drop_attr(2, nom.MDC_ATTR_UNIT_CODE))))),
        "X73-CFG-006": (ext, extended_session(config_report(1, 0x4000, edit_objects(set_attr(
            2, nom.MDC_ATTR_ATTRIBUTE_VAL_MAP, [{"attribute_id": nom.MDC_ATTR_NU_VAL_OBS_BASIC, "attribute_len": 4},
                                                {"attribute_id": nom.MDC_ATTR_TIME_STAMP_ABS, "attribute_len": 6}]))),
            reports=[])),
        "X73-CFG-007": (good, standard_session(reports=[fixed(2, [(1, bp_values()), (2, pulse_values() + b"\x00")])])),
        "X73-CFG-008": (good, standard_session(reports=[fixed(2, [(1, bp_values()), (9, pulse_values())])])),
        "X73-CFG-009": (good, [("a", aarq(0x8001)), ("a", RLRQ)]),
        "X73-CFG-010": (ext, [("a", aarq(0x4000)), ("a", report(1)), ("a", RLRQ)]),
        "X73-CFG-011": (ext, extended_session(config_report(1, 0x4000, edit_objects(set_attr(
            1, nom.MDC_ATTR_ATTRIBUTE_VAL_MAP, [{"attribute_id": nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC, "attribute_len": 8},
                                                {"attribute_id": nom.MDC_ATTR_TIME_STAMP_ABS, "attribute_len": 8}]))),
            reports=[fixed(2, [(1, bp_values(raw=[mder.encode_sfloat("120"), mder.encode_sfloat("80")]))])])),
        "X73-CFG-012": (extended_session(scanner_config(), reports=[grouped(2, pulse_values())]),
                        extended_session(scanner_config(), reports=[grouped(2, pulse_values() + b"\x00\x01")])),
        "X73-CFG-013": (ext, extended_session(config_report(1, 0x4000, with_extra_object(
            {"obj_class": 99, "obj_handle": 30, "attributes": []})))),
        "X73-CFG-014": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_ID_TYPE, b"\x00\x02\x48"))), reports=[])),
        "X73-CFG-015": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_SOURCE_HANDLE_REF, 77))))),
        "X73-UNIT-001": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_UNIT_CODE, 9999))), reports=[])),
        "X73-UNIT-002": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_UNIT_CODE, 1731))), reports=[])),
        "X73-UNIT-003": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 12345}))), reports=[])),
        "X73-UNIT-004": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_ID_TYPE, {"partition": 99, "code": 18474}))), reports=[])),
        "X73-UNIT-005": (
            standard_session(reports=[var_report(2, [(2, [ava(nom.MDC_ATTR_NU_VAL_OBS, {
                "metric_id": 18474, "state": 0, "unit_code": 2720, "value": mder.encode_float("60")})])])]),
            standard_session(reports=[var_report(2, [(2, [ava(nom.MDC_ATTR_NU_VAL_OBS, {
                "metric_id": 18474, "state": 0, "unit_code": 1731, "value": mder.encode_float("60")})])])])),
        "X73-UNIT-006": (ext, extended_session(config_report(1, 0x4000, edit_objects(
            set_attr(2, nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 0xF001}))), reports=[])),
        "X73-MDER-001": (good, "e2 00 00 02 00 00\n43 21 00 02 00 00\n"),
        "X73-MDER-002": (good, standard_session(reports=[bytes.fromhex(
            "e700000e000c0002010100060000ffffffff")])),
        "X73-MDER-003": (good, standard_session(reports=[var_report(2, [(2, [
            ava(nom.MDC_ATTR_NU_VAL_OBS_BASIC, b"\x00\x3c\x00", raw=True)])])])),
        "X73-MDER-004": (good, [("a", aarq(assoc_version=0)), ("a", RLRQ)]),
        "X73-MDER-005": (good, [("a", aarq(proto_id=1)), ("a", RLRQ)]),
        "X73-MDER-006": (good, [("a", aarq(encoding=0x4000)), ("a", RLRQ)]),
        "X73-MDER-007": (good, [("a", aarq(nomenclature=0)), ("a", RLRQ)]),
        "X73-MDER-008": (good, [("a", aarq(system_type=0x80000000)), ("a", RLRQ)]),
        "X73-MDER-009": (good, [("a", aarq(system_id=bytes(6))), ("a", RLRQ)]),
        "X73-MDER-010": (good, standard_session(reports=[fixed(2, [(2, pulse_values(raw=0x0801))])])),
        "X73-MDER-011": (good, standard_session(reports=[fixed(2, [(2, pulse_values(raw=0x07FF))])])),
        "X73-MDER-012": (
            standard_session(reports=[var_report(2, [(2, [basic(0x07FF), ava(nom.MDC_ATTR_MSMT_STAT, 0x2000)])])]),
            standard_session(reports=[var_report(2, [(2, [basic(0x07FF), ava(nom.MDC_ATTR_MSMT_STAT, 0x0000)])])])),
        "X73-MDER-013": (
            standard_session(reports=[var_report(2, [(2, [basic(0x003C), ava(nom.MDC_ATTR_MSMT_STAT, 0x4000)])])]),
            standard_session(reports=[var_report(2, [(2, [basic(0x003C), ava(nom.MDC_ATTR_MSMT_STAT, 0x0010)])])])),
        "X73-MDER-014": (good, "e2 00 00 02 00 00\ne7 00 00 06 00 06 00 01 03 00\n"),
        "X73-TIME-001": (good, standard_session(reports=[fixed(2, [(2, attributes.encode(
            nom.MDC_ATTR_NU_VAL_OBS_BASIC, 0x003C) + bytes.fromhex("2026131508300000"))])])),
        "X73-TIME-002": (standard_session(reports=[report(2), late]), standard_session(reports=[report(2), early])),
        "X73-TIME-003": (standard_session(mds=mds_reply(1, with_rel=True), reports=[var_report(2, rel_obs)]),
                         standard_session(reports=[var_report(2, rel_obs)])),
        "X73-TIME-004": (
            standard_session(reports=[var_report(2, [(2, [basic(0x003C), ava(nom.MDC_ATTR_TIME_STAMP_BO, {
                "bo_seconds": 1768465800, "bo_fraction": 0, "bo_time_offset": 60})])])]),
            standard_session(reports=[var_report(2, [(2, [basic(0x003C), ava(nom.MDC_ATTR_TIME_STAMP_BO, {
                "bo_seconds": 1768465800, "bo_fraction": 0, "bo_time_offset": 900})])])])),
        "X73-TIME-005": (good, standard_session(mds=mds_reply(1, with_abs=False))),
    }


def render(case: list[Line] | str, title: str) -> str:
    body = case if isinstance(case, str) else hexlines(case)
    return f"# {title}\n# generated by tests/conformance/x73_cases.py ('<' lines: manager to agent)\n" + body


def files() -> dict[str, str]:
    """File name -> text of every crafted case."""
    out = {}
    for assertion, (good, bad) in _cases().items():
        out[f"{assertion}.pass.x73"] = render(good, f"{assertion}: passing case")
        out[f"{assertion}.fail.x73"] = render(bad, f"{assertion}: failing case")
    return out


def main() -> int:
    CASES_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in files().items():
        (CASES_DIR / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
