"""Every APDU type pinned against public byte vectors; parse → build gives identical bytes.

Vectors: IEEE 11073-20601 Annex H examples and sessions as published by signove/antidote
(tests/resources/apdu @ dbb2742), a real Nonin oximeter dump, and NovoPen APDUs from
NightscoutFoundation/xDrip (see data/SOURCES.md). ROER/RORJ have no public vector: they are
written out by hand from the 20601 A.10.4/A.10.5 layouts.
"""

from __future__ import annotations

import pytest
from interop.codecs.ieee11073 import apdu, attributes
from interop.codecs.ieee11073 import nomenclature as nom

from .vectors import all_apdu_vectors, load


@pytest.mark.parametrize("name", all_apdu_vectors())
def test_round_trip(name: str) -> None:
    raw = load(name)
    value = apdu.parse_apdu(raw)
    assert apdu.build_apdu(value) == raw
    assert apdu.Apdu.parse(raw) == value  # compiled and declarative forms agree


def test_aarq_annex_h211() -> None:
    v = apdu.parse_apdu(load("antidote_H211"))  # 20601 Annex H.2.1.1
    assert v.choice == nom.AARQ_CHOSEN
    assert v.apdu.assoc_version == 0x80000000
    proto = v.apdu.data_proto_list[0]
    assert proto.data_proto_id == 20601
    info = proto.data_proto_info
    assert (info.protocol_version, info.encoding_rules, info.nomenclature_version) == (0x80000000, 0xA000, 0x80000000)
    assert info.system_type == 0x00800000
    assert bytes(info.system_id) == bytes.fromhex("8877665544332211")
    assert info.dev_config_id == 0x4000
    assert (info.data_req_mode_capab.data_req_mode_flags, info.data_req_mode_capab.data_req_init_agent_count) == (
        0x0081, 1)


def test_aare_annex_h212() -> None:
    v = apdu.parse_apdu(load("antidote_H212"))  # accepted-unknown-config
    assert v.choice == nom.AARE_CHOSEN
    assert v.apdu.result == nom.ACCEPTED_UNKNOWN_CONFIG
    assert bytes(v.apdu.selected_data_proto.data_proto_info.system_id) == bytes.fromhex("1122334455667788")
    assert apdu.parse_apdu(load("antidote_rx_aare_example_one")).apdu.result == nom.ACCEPTED


@pytest.mark.parametrize(("name", "choice", "reason"), [
    ("antidote_rx_rlrq_normal", nom.RLRQ_CHOSEN, 0), ("antidote_rx_rlre_normal", nom.RLRE_CHOSEN, 0),
    ("antidote_rx_abrt_undefined", nom.ABRT_CHOSEN, 0), ("antidote_rx_abrt_buffer_overflow", nom.ABRT_CHOSEN, 1),
    ("antidote_rx_abrt_response_timeout", nom.ABRT_CHOSEN, 2), ("antidote_rx_abrt_config_timeout", nom.ABRT_CHOSEN, 3),
])
def test_release_and_abort(name: str, choice: int, reason: int) -> None:
    v = apdu.parse_apdu(load(name))
    assert (v.choice, v.apdu.reason) == (choice, reason)


def test_config_report_annex_h221() -> None:
    v = apdu.parse_apdu(load("antidote_H221"))
    d = v.apdu
    assert (d.invoke_id, d.choice) == (0x4321, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN)
    assert d.message.event_type == nom.MDC_NOTI_CONFIG
    report = d.message.event_info
    assert report.config_report_id == 0x4000
    objs = report.config_obj_list
    assert [(o.obj_class, o.obj_handle) for o in objs] == [(6, 1), (6, 2)]
    attrs = {a.attribute_id: attributes.decode(a.attribute_id, a.attribute_value) for a in objs[0].attributes}
    assert (attrs[nom.MDC_ATTR_ID_TYPE].partition, attrs[nom.MDC_ATTR_ID_TYPE].code) == (2, 0xE140)
    assert attrs[nom.MDC_ATTR_METRIC_SPEC_SMALL] == 0xD040
    assert attrs[nom.MDC_ATTR_UNIT_CODE] == 0x06C3
    assert [(e.attribute_id, e.attribute_len) for e in attrs[nom.MDC_ATTR_ATTRIBUTE_VAL_MAP]] == [(0x0A56, 4),
                                                                                                 (0x0990, 8)]


def test_config_response_annex_h222() -> None:
    d = apdu.parse_apdu(load("antidote_H222")).apdu
    assert d.choice == nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN
    assert (d.message.event_reply_info.config_report_id, d.message.event_reply_info.config_result) == (0x4000, 0)


def test_get_and_get_response_annex_h232_h233() -> None:
    get = apdu.parse_apdu(load("antidote_H232")).apdu
    assert (get.invoke_id, get.choice, get.message.obj_handle, list(get.message.attribute_id_list)) == (
        0x3456, nom.ROIV_CMIP_GET_CHOSEN, 0, [])
    rsp = apdu.parse_apdu(load("antidote_H233")).apdu
    assert rsp.choice == nom.RORS_CMIP_GET_CHOSEN
    attrs = {a.attribute_id: attributes.decode(a.attribute_id, a.attribute_value) for a in rsp.message.attribute_list}
    model = attrs[nom.MDC_ATTR_ID_MODEL]
    assert (bytes(model.manufacturer), bytes(model.model_number)) == (b"TheCompany", b"TheScaleABC\x00")
    assert bytes(attrs[nom.MDC_ATTR_SYS_ID]) == bytes.fromhex("8877665544332211")
    assert attrs[nom.MDC_ATTR_DEV_CONFIG_ID] == 0x4000
    spec = attrs[nom.MDC_ATTR_ID_PROD_SPECN][0]
    assert (spec.spec_type, bytes(spec.prod_spec)) == (1, b"DE124567")
    assert [(t.type, t.version) for t in attrs[nom.MDC_ATTR_SYS_TYPE_SPEC_LIST]] == [(0x100F, 1)]


def test_scan_report_fixed_annex_h241() -> None:
    d = apdu.parse_apdu(load("antidote_H241")).apdu
    assert d.message.event_type == 0x0D1D
    info = d.message.event_info
    assert (info.data_req_id, info.scan_report_no) == (0xF000, 0)
    assert [(o.obj_handle, bytes(o.obs_val_data).hex()) for o in info.obs_scan_fixed] == [
        (1, "ff0002702007020112100000"), (2, "ff0001002007020112100000")]


def test_scan_report_response_annex_h242() -> None:
    d = apdu.parse_apdu(load("antidote_H242")).apdu
    assert (d.choice, d.message.event_type, d.message.event_reply_info) == (
        nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, 0x0D1D, b"")


def test_data_request_action_annex_h243_h244() -> None:
    req = apdu.parse_apdu(load("antidote_H243")).apdu
    assert (req.choice, req.message.action_type) == (nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN, nom.MDC_ACT_DATA_REQUEST)
    dr = req.message.action_info_args
    assert (dr.data_req_id, dr.data_req_mode, dr.data_req_class) == (0x0100, 0x8480, 0x0006)
    rsp = apdu.parse_apdu(load("antidote_H244")).apdu
    assert rsp.choice == nom.RORS_CMIP_CONFIRMED_ACTION_CHOSEN
    data = rsp.message.action_info_args
    assert (data.event_type, data.event_info.data_req_id) == (0x0D1D, 0x0100)
    assert len(data.event_info.obs_scan_fixed) == 2


def test_unconfirmed_event_report_real_nonin() -> None:
    d = apdu.parse_apdu(load("nonin_oximeter_real_scan_report")).apdu
    assert (d.invoke_id, d.choice, d.message.event_time) == (0x8000, nom.ROIV_CMIP_EVENT_REPORT_CHOSEN, 0x0008A340)


@pytest.mark.parametrize(("name", "kind", "count"), [
    ("antidote_pulse_oximeter__pulse_oximeter_unbuf_scan_report_var", "obs_scan_var", 2),
    ("antidote_pulse_oximeter__pulse_oximeter_unbuf_scan_report_mp_fixed", "scan_per_fixed", 1),
    ("antidote_pulse_oximeter__pulse_oximeter_unbuf_scan_report_mp_var", "scan_per_var", 1),
    ("antidote_pulse_oximeter__pulse_oximeter_unbuf_scan_report_grouped", "obs_scan_grouped", 1),
    ("antidote_pulse_oximeter__pulse_oximeter_unbuf_scan_report_mp_grouped", "scan_per_grouped", 1),
    ("antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_fixed", "obs_scan_fixed", 2),
])
def test_scan_report_kinds(name: str, kind: str, count: int) -> None:
    info = apdu.parse_apdu(load(name)).apdu.message.event_info
    assert len(info[kind]) == count


def test_confirmed_set_response() -> None:
    d = apdu.parse_apdu(load("antidote_pulse_oximeter__pulse_oximeter_episodic_set_response")).apdu
    assert (d.choice, d.message.obj_handle) == (nom.RORS_CMIP_CONFIRMED_SET_CHOSEN, 55)
    ava = d.message.attribute_list[0]
    assert (ava.attribute_id, attributes.decode(ava.attribute_id, ava.attribute_value)) == (nom.MDC_ATTR_OP_STAT, 1)


def test_pm_store_segments_novopen() -> None:
    # xDrip NovoPen: segment info, trigger transfer, segment data (FLOAT ff00001e = 3.0 units)
    ca = apdu.parse_apdu(load("xdrip_novopen_CA_SEG")).apdu.message
    assert (ca.obj_handle, ca.action_type, ca.action_info_args.choice) == (0x0100, nom.MDC_ACT_SEG_GET_INFO, 1)
    info = apdu.parse_apdu(load("xdrip_novopen_S_INFO")).apdu.message.action_info_args
    assert info[0].seg_inst_no == 0x10
    seg_map = {a.attribute_id: attributes.decode(a.attribute_id, a.attribute_value) for a in info[0].seg_info}
    assert seg_map[nom.MDC_ATTR_PM_SEG_MAP].segm_entry_header == 0x4000
    assert bytes(seg_map[nom.MDC_ATTR_PM_SEG_LABEL_STRING]) == b"Dose Log"
    xfer = apdu.parse_apdu(load("xdrip_novopen_T_XFER")).apdu.message
    assert (xfer.action_type, xfer.action_info_args.seg_inst_no) == (nom.MDC_ACT_SEG_TRIG_XFER, 0x10)
    seg = apdu.parse_apdu(load("xdrip_novopen_SEG_DATA")).apdu.message
    assert seg.event_type == nom.MDC_NOTI_SEGMENT_DATA
    assert seg.event_info.segm_data_event_descr.segm_evt_entry_count == 3
    ack = apdu.parse_apdu(load("xdrip_novopen_SEG_ACK")).apdu.message
    assert ack.event_reply_info.segm_data_event_descr.segm_evt_status == 0x0080


def test_roer_and_rorj_layouts() -> None:
    # hand-written from 20601 A.10.4 (ErrorResult) and A.10.5 (RejectResult)
    roer = bytes.fromhex("e7 00 00 0c 00 0a 43 21 03 00 00 04 00 01 00 00")
    v = apdu.parse_apdu(roer)
    assert (v.apdu.invoke_id, v.apdu.choice, v.apdu.message.error_value) == (0x4321, nom.ROER_CHOSEN, 1)
    assert apdu.build_apdu(v) == roer
    rorj = bytes.fromhex("e7 00 00 0a 00 08 43 21 04 00 00 02 00 65")
    v = apdu.parse_apdu(rorj)
    assert (v.apdu.choice, v.apdu.message.problem) == (nom.RORJ_CHOSEN, nom.UNRECOGNIZED_OPERATION)
    assert apdu.build_apdu(v) == rorj


@pytest.mark.parametrize(("raw", "offset"), [
    (load("antidote_H221_ID_02BC"), 90),  # attribute count 7 vs 64 octets: 10 left over (corpus trap)
    (bytes.fromhex("e2 00 00 32 80 00 00 00"), 2),  # truncated AARQ: length field says 50, 4 octets follow
    (bytes.fromhex("e7 00 00 08 00 06 43 21 09 99 00 00"), 8),  # unknown DataApdu choice 0x0999
    (bytes.fromhex("e9 00 00 02 00 00"), 0),  # unknown APDU choice
    (bytes.fromhex("e7 00 00 0c 00 0a 43 21 01 01 00 ff 00 00 00 00"), 10),  # message length overruns
])
def test_malformed_apdus_raise_with_offset(raw: bytes, offset: int) -> None:
    with pytest.raises(apdu.LayoutError) as info:
        apdu.parse_apdu(raw)
    assert info.value.offset == offset
