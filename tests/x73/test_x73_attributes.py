"""Attribute types beyond the corpus sessions: RT-SA, enumerations, full NuObsValue, measurement status,
base-offset and relative times, SET and SET-TIME. The APDUs are built from the declarations (20601 annex A
layouts); the expected values follow from the standard's definitions (FLOAT/SFLOAT, RelativeTime = 1/8 ms)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from interop.codecs.ieee11073 import agent, apdu, attributes
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.decode import decode_trace

from .vectors import trace

SYSID = bytes.fromhex("0A1B2C3D4E5F9999")


def ava(attr_id: int, value) -> dict:
    return {"attribute_id": attr_id, "attribute_value": attributes.encode(attr_id, value)}


def prst(invoke: int, choice: int, message: dict) -> bytes:
    return apdu.build_apdu({"choice": nom.PRST_CHOSEN, "apdu": {"invoke_id": invoke, "choice": choice,
                                                                 "message": message}})


def _extended_session() -> bytes:
    config = {"config_report_id": 0x4100, "config_obj_list": [
        {"obj_class": nom.MDC_MOC_VMO_METRIC_SA_RT, "obj_handle": 1, "attributes": [
            ava(nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 0x0102}),  # MDC_ECG_ELEC_POTL (lead I)
            ava(nom.MDC_ATTR_METRIC_SPEC_SMALL, 0xA040), ava(nom.MDC_ATTR_UNIT_CODE, 0x0F54),
            ava(nom.MDC_ATTR_SA_SPECN, {"array_size": 4, "sample_type": {"sample_size": 16, "significant_bits": 12},
                                        "flags": 0}),
            ava(nom.MDC_ATTR_SCALE_SPECN_I16, {"lower_absolute_value": 0xFD000000 | (-2000 & 0xFFFFFF),
                                               "upper_absolute_value": 0xFD0007D0,
                                               "lower_scaled_value": 0, "upper_scaled_value": 4000}),
            ava(nom.MDC_ATTR_TIME_PD_SAMP, 16)]},  # 16 × 1/8 ms = 2 ms
        {"obj_class": nom.MDC_MOC_VMO_METRIC_ENUM, "obj_handle": 2, "attributes": [
            ava(nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 0xF001})]},
        {"obj_class": nom.MDC_MOC_VMO_METRIC_NU, "obj_handle": 3, "attributes": [
            ava(nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 19292}), ava(nom.MDC_ATTR_UNIT_CODE, 6048)]},
    ]}
    mds_get = prst(7, nom.RORS_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_list": [
        {"attribute_id": nom.MDC_ATTR_TIME_ABS, "attribute_value": bytes.fromhex("2026011508000000")},
        ava(nom.MDC_ATTR_TIME_REL, 80_000)]})  # relative time 10 s at 08:00:00
    observations = [
        {"obj_handle": 1, "attributes": [ava(nom.MDC_ATTR_SIMP_SA_OBS_VAL, bytes.fromhex("0000 07d0 0fa0 0001")),
                                         ava(nom.MDC_ATTR_TIME_STAMP_REL, 88_000)]},  # 11 s → 08:00:01
        {"obj_handle": 2, "attributes": [ava(nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_OID, 0x4A05),
                                         ava(nom.MDC_ATTR_MSMT_STAT, 0x4000),
                                         ava(nom.MDC_ATTR_TIME_STAMP_BO, {"bo_seconds": 1_768_464_000,
                                                                          "bo_fraction": 0x8000,
                                                                          "bo_time_offset": 60})]},
        {"obj_handle": 3, "attributes": [ava(nom.MDC_ATTR_NU_VAL_OBS, {"metric_id": 19292, "state": 0x0800,
                                                                       "unit_code": 6048, "value": 0xFF00016E})]},
    ]
    report = prst(8, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
        "obj_handle": 0, "event_time": 0, "event_type": 3358,
        "event_info": {"data_req_id": 0xF000, "scan_report_no": 0, "obs_scan_var": observations}})
    return (agent.aarq(SYSID, 0x4100)
            + prst(1, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
                "obj_handle": 0, "event_time": 0xFFFFFFFF, "event_type": nom.MDC_NOTI_CONFIG, "event_info": config})
            + mds_get + report + agent.rlrq())


def test_extended_configuration_with_rtsa_enum_and_times() -> None:
    msg = decode_trace(_extended_session())
    assert msg.issues == ()
    wave, enum, temp = msg.metrics
    sa = wave.value
    assert sa.kind == "sample-array"
    assert sa.samples == (Decimal(0), Decimal(2000), Decimal(4000), Decimal(1))
    assert sa.period_ms == Decimal(2)
    assert (sa.lower_limit, sa.upper_limit) == (Decimal("-2.000"), Decimal("2.000"))
    assert sa.factor == Decimal("0.001")
    assert wave.effective.value == datetime(2026, 1, 15, 8, 0, 1)
    assert (enum.value.kind, enum.value.concept.codings[0].display) == ("coded", "MDC_PRESS_BLD_NONINV_SYS")
    assert enum.measurement_status == ("questionable",)
    assert enum.effective.value == datetime(2026, 1, 15, 9, 0, 0, 500000, tzinfo=timezone(timedelta(hours=1)))
    assert enum.effective.value.astimezone(UTC) == datetime(2026, 1, 15, 8, 0, 0, 500000, tzinfo=UTC)
    assert (str(temp.value.quantity.value), temp.value.quantity.unit) == ("36.6", "Cel")
    assert temp.measurement_status == ("test-data",)


def test_data_request_response_carries_the_scan_report() -> None:
    # Annex H.2.4.4 (antidote H244): the agent answers the manager's MDC_ACT_DATA_REQUEST with the report
    msg = decode_trace(trace("antidote_H211", "antidote_H221", "antidote_H244"))
    assert [str(m.value.quantity.value) for m in msg.metrics] == ["62.4", "25.6"]


def test_set_and_set_time_round_trip() -> None:
    # roiv-cmip-confirmed-set of OP_STAT on scanner 55 (20601 A.10.x), roiv-cmip-confirmed-action MDC_ACT_SET_TIME
    set_apdu = prst(3, nom.ROIV_CMIP_CONFIRMED_SET_CHOSEN, {"obj_handle": 55, "modification_list": [
        {"modify_operator": 0, "attribute": ava(nom.MDC_ATTR_OP_STAT, 1)}]})
    assert set_apdu == bytes.fromhex("e700001600140003010500" "0e0037000100080000095300020001")
    assert apdu.build_apdu(apdu.parse_apdu(set_apdu)) == set_apdu
    set_time = prst(4, nom.ROIV_CMIP_CONFIRMED_ACTION_CHOSEN, {"obj_handle": 0, "action_type": nom.MDC_ACT_SET_TIME,
                                                               "action_info_args": {
                                                                   "date_time": {"century": 0x20, "year": 0x26,
                                                                                 "month": 1, "day": 0x15, "hour": 8,
                                                                                 "minute": 0, "second": 0,
                                                                                 "sec_fractions": 0},
                                                                   "accuracy": 0}})
    v = apdu.parse_apdu(set_time).apdu.message
    assert (v.action_type, v.action_info_args.date_time.year) == (nom.MDC_ACT_SET_TIME, 0x26)


def test_high_resolution_relative_time_is_placed_through_the_mds() -> None:
    config = {"config_report_id": 0x4101, "config_obj_list": [
        {"obj_class": nom.MDC_MOC_VMO_METRIC_NU, "obj_handle": 1, "attributes": [
            ava(nom.MDC_ATTR_ID_TYPE, {"partition": 2, "code": 19292}), ava(nom.MDC_ATTR_UNIT_CODE, 6048)]}]}
    mds_get = prst(7, nom.RORS_CMIP_GET_CHOSEN, {"obj_handle": 0, "attribute_list": [
        {"attribute_id": nom.MDC_ATTR_TIME_ABS, "attribute_value": bytes.fromhex("2026011508000000")},
        ava(nom.MDC_ATTR_TIME_REL_HI_RES, 5_000_000)]})  # 5 s on the µs clock at 08:00:00
    report = prst(8, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
        "obj_handle": 0, "event_time": 0, "event_type": 3358, "event_info": {
            "data_req_id": 0xF000, "scan_report_no": 0, "obs_scan_var": [{"obj_handle": 1, "attributes": [
                ava(nom.MDC_ATTR_NU_VAL_OBS_BASIC, 0xF16E),  # 36.6
                ava(nom.MDC_ATTR_TIME_STAMP_REL_HI_RES, 5_250_125)]}]}})
    msg = decode_trace(agent.aarq(SYSID, 0x4101) + prst(1, nom.ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN, {
        "obj_handle": 0, "event_time": 0xFFFFFFFF, "event_type": nom.MDC_NOTI_CONFIG, "event_info": config})
        + mds_get + report)
    (temp,) = msg.metrics
    assert str(temp.value.quantity.value) == "36.6"
    assert (temp.effective.value, temp.effective.precision) == (datetime(2026, 1, 15, 8, 0, 0, 250125), "microsecond")
