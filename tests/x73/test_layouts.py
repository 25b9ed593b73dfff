"""The parsers derived from the APDU declarations (layouts.py) and the confirmation template give exactly what
construct gives for the same declarations: every corpus APDU, every attribute type, mutated and arbitrary bytes."""

from __future__ import annotations

import pytest
from construct import Construct, ConstructError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.codecs.ieee11073 import apdu, attributes, layouts
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.association import _scan_report

from .vectors import all_apdu_vectors, load

SEEDS = {n: load(n) for n in all_apdu_vectors()}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Annex H.2.4.1-style BP scan report (signove/antidote tests/resources/apdu/H241_ID_02BC @ dbb2742)
BP_SCAN = bytes.fromhex("e700003e003c005401010036000000490050 0d1d002cf00000000002002400010012000300060078005000642007"
                        "120612100000 0002000af2582007120612100000".replace(" ", ""))


def plain(value):
    """Containers and records alike as dicts (construct's `_io` left out), lists as lists."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "_io"}
    if isinstance(value, layouts.Record):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def test_every_declaration_compiles() -> None:
    names = [n for n in dir(apdu) if isinstance(getattr(apdu, n), Construct)]
    assert {"Apdu", "ScanReportInfoFixed", "ConfigReport", "AbsoluteTime", "PhdAssociationInformation"} <= set(names)
    for name in names:
        layouts.compile_layout(getattr(apdu, name), name)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_corpus_apdus_parse_as_construct_does(name: str) -> None:
    data = SEEDS[name]
    expected = plain(apdu.Apdu.parse(data))
    try:
        got = layouts.parse_whole(attributes.layout("Apdu"), data)
    except layouts.Short:  # only an event-info with padding may leave the layout to construct
        padding: list[tuple[int, int, int]] = []
        apdu.parse_apdu(data, padding=padding)
        assert padding, f"{name} parses with construct but not with its layout"
        return
    assert plain(got) == expected


def test_bp_scan_report_fields() -> None:
    value = _scan_report(BP_SCAN)
    assert value is not None and isinstance(value, layouts.Record)
    assert (value.choice, value.apdu.invoke_id, value.apdu.choice) == (0xE700, 0x54, 0x0101)
    msg = value.apdu.message
    assert (msg.obj_handle, msg.event_time, msg.event_type) == (0, 0x00490050, 0x0D1D)  # MDC_NOTI_SCAN_REPORT_FIXED
    assert (msg.event_info.data_req_id, msg.event_info.scan_report_no) == (0xF000, 0)
    obs = msg.event_info.obs_scan_fixed
    assert [(o.obj_handle, o.obs_val_data.hex()) for o in obs] == [
        (1, "000300060078005000642007120612100000"), (2, "f2582007120612100000")]
    assert dict(msg.event_info)["scan_report_no"] == 0 and msg["event_type"] == 0x0D1D
    assert plain(value) == plain(apdu.Apdu.parse(BP_SCAN))


def test_only_scan_reports_take_the_layout() -> None:
    assert _scan_report(load("antidote_blood_pressure__aarq")) is None
    assert _scan_report(load("antidote_blood_pressure__roiv_mdc_noti_config")) is None
    assert _scan_report(BP_SCAN[:-1]) is None  # truncated: construct reads it and names the fault
    assert _scan_report(BP_SCAN + b"\x00") is None


ATTRIBUTE_VALUES = [
    (nom.MDC_ATTR_ID_TYPE, "00024a04", {"partition": 2, "code": 0x4A04}),
    (nom.MDC_ATTR_TIME_STAMP_ABS, "2007120612100000",
     {"century": 0x20, "year": 0x07, "month": 0x12, "day": 0x06, "hour": 0x12, "minute": 0x10, "second": 0,
      "sec_fractions": 0}),
    (nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC, "00030006007800500064", [0x78, 0x50, 0x64]),
    (nom.MDC_ATTR_NU_VAL_OBS_BASIC, "f258", 0xF258),
    (nom.MDC_ATTR_NU_VAL_OBS, "4a050000f2000000029a", {"metric_id": 0x4A05, "state": 0, "unit_code": 0xF200,
                                                   "value": 0x029A}),
    (nom.MDC_ATTR_ATTRIBUTE_VAL_MAP, "000200080a75000a0a900008",  # BP handle 1 (20601 annex H)
     [{"attribute_id": 0x0A75, "attribute_len": 10}, {"attribute_id": 0x0A90, "attribute_len": 8}]),
    (nom.MDC_ATTR_ID_MODEL, "0004414243440002585900", None),  # odd lengths: trailing octet → construct decides
    (nom.MDC_ATTR_VAL_ENUM_OBS, "4a0500000001000200aa", {"metric_id": 0x4A05, "state": 0,
                                                       "value": {"choice": 1, "value": 0x00AA}}),
    (nom.MDC_ATTR_TIME_STAMP_REL_HI_RES, "0000000100000002", 0x0000000100000002),
]


@pytest.mark.parametrize(("attr_id", "raw", "expected"), ATTRIBUTE_VALUES)
def test_attribute_values(attr_id: int, raw: str, expected) -> None:
    data = bytes.fromhex(raw)
    name = attributes.ATTRIBUTE_TYPES[attr_id]
    construct_value = plain(apdu.compiled(name).parse(data))
    assert plain(attributes.decode(attr_id, data)) == construct_value
    if expected is not None:
        assert plain(attributes.decode(attr_id, data)) == expected
        assert attributes.encode(attr_id, attributes.decode(attr_id, data)) == data


@FUZZ
@given(st.sampled_from(sorted(set(attributes.ATTRIBUTE_TYPES.values()))), st.binary(max_size=40))
def test_attribute_layouts_arbitrary(name: str, data: bytes) -> None:
    """Where the layout reads octets at all, it reads what construct's declarative parse reads from all of them."""
    try:
        got = layouts.parse_whole(attributes.layout(name), data)
    except layouts.Short:
        return
    declaration = getattr(apdu, name)
    assert plain(declaration.parse(data)) == plain(got)
    assert len(declaration.build(layouts.to_container(got))) == len(data)


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_apdu_layout_mutated(name: str, edits: list[tuple[int, int]]) -> None:
    buf = bytearray(SEEDS[name])
    for pos, value in edits:
        buf[pos % len(buf)] = value
    data = bytes(buf)
    try:
        got = layouts.parse_whole(attributes.layout("Apdu"), data)
    except layouts.Short:
        return
    try:
        expected = apdu.Apdu.parse(data)
    except (ConstructError, ValueError) as exc:  # construct fails where the layout did not: a real difference
        pytest.fail(f"layout read {data.hex()} which construct rejects ({exc})")
    assert plain(got) == plain(expected)


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF),
       st.sampled_from(sorted(nom.SCAN_REPORTS)))
def test_confirmation_template_is_the_declared_apdu(invoke_id: int, handle: int, time: int, event_type: int) -> None:
    expected = apdu.build_apdu({"choice": nom.PRST_CHOSEN, "apdu": {
        "invoke_id": invoke_id, "choice": nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, "message": {
            "obj_handle": handle, "currentTime": time, "event_type": event_type, "event_reply_info": b""}}})
    got = apdu.SCAN_REPORT_CONFIRMATION.build(invoke_id=invoke_id, obj_handle=handle, event_time=time,
                                              event_type=event_type)
    assert got == expected


def test_confirmation_of_the_bp_scan_report() -> None:
    # 20601 Annex H.2.4.2-style confirmation: rors-cmip-confirmed-event-report, invoke 0x54, empty reply info
    assert apdu.SCAN_REPORT_CONFIRMATION.build(invoke_id=0x54, obj_handle=0, event_time=0x00490050,
                                               event_type=0x0D1D).hex() == "e700001200100054020100" "0a0000004900500d1d0000"


def test_template_finds_the_fields_in_the_declaration() -> None:
    # PRST header 4 + octet-string length 2, then invoke-id; choice, length, obj-handle, currentTime, event-type
    assert [(name, at, fmt.size) for name, at, fmt in apdu.SCAN_REPORT_CONFIRMATION.fields] == [
        ("invoke_id", 6, 2), ("obj_handle", 12, 2), ("event_time", 14, 4), ("event_type", 18, 2)]
