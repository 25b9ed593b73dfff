"""Whole traces → canonical Message: exact codes, values, units and device identifiers.

Traces are the example files (examples/x73, built by our encoder; the Annex H one from the corpus)
and concatenations of corpus vectors (data/SOURCES.md names each source).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from interop.codecs.ieee11073 import agent, apdu
from interop.codecs.ieee11073.decode import decode_trace

from interop import decode
from interop.errors import DecodeError
from interop.model import EUI64_SYSTEM, MDC_SYSTEM

from .vectors import EXAMPLES, trace


def _values(msg):
    out = []
    for m in msg.metrics:
        c = m.code.codings[0]
        assert c.system == MDC_SYSTEM
        if m.value is None:
            out.append((m.handle, c.code, c.display, None, None, m.data_absent_reason))
        elif m.value.kind == "numeric":
            q = m.value.quantity
            out.append((m.handle, c.code, c.display, str(q.value), q.unit, q.unit_mdc.code))
        elif m.value.kind == "compound":
            out.append((m.handle, c.code, c.display, tuple(
                (k.code.codings[0].display, str(k.quantity.value) if k.quantity else k.data_absent_reason)
                for k in m.value.components), m.value.components[0].quantity.unit if m.value.components[0].quantity
                else None, None))
        else:
            out.append((m.handle, c.code, c.display, m.value.kind, None, None))
    return out


def _eui(msg) -> str:
    ident = msg.devices[0].identifiers[0]
    assert (ident.system, ident.type) == (EUI64_SYSTEM, "EUI-64")
    return ident.value


def test_annex_h_extended_configuration() -> None:
    # 20601 Annex H (antidote H211..H242): scale + body fat, extended config 0x4000, manager lines checked
    msg = decode(EXAMPLES / "annexH-scale-extended-0x4000.x73")
    assert msg.standard == "ieee11073-20601"
    assert _eui(msg) == "8877665544332211"
    dev = msg.devices[0]
    assert (dev.manufacturer, dev.model, dev.config_id) == ("TheCompany", "TheScaleABC", 0x4000)
    assert [(p.kind, p.value) for p in dev.production_specs] == [("serial-number", "DE124567")]
    assert [s.codings[0].code for s in dev.specializations] == ["528399"]  # MDC_DEV_SPEC_PROFILE_SCALE
    assert dev.time.device_time.value == datetime(2007, 2, 1, 12, 5)
    assert _values(msg) == [
        (1, "188736", "MDC_MASS_BODY_ACTUAL", "62.4", "kg", "263875"),
        (2, "188748", "MDC_BODY_FAT", "25.6", "%", "262688"),
    ]
    assert msg.metrics[0].effective.value == datetime(2007, 2, 1, 12, 10)
    assert msg.metrics[0].source.offset == 318 - 0 and "handle 1" in msg.metrics[0].source.location
    assert msg.issues == ()


@pytest.mark.parametrize(("file", "eui", "config", "expected"), [
    ("bp-0x02BC.x73", "0A1B2C3D4E5F0702", 700, [
        (1, "150020", "MDC_PRESS_BLD_NONINV", (("MDC_PRESS_BLD_NONINV_SYS", "120"), ("MDC_PRESS_BLD_NONINV_DIA", "80"),
                                               ("MDC_PRESS_BLD_NONINV_MEAN", "100")), "mm[Hg]", None),
        (2, "149546", "MDC_PULS_RATE_NON_INV", "60.0", "/min", "264864"),
        (1, "150020", "MDC_PRESS_BLD_NONINV", (("MDC_PRESS_BLD_NONINV_SYS", "118"), ("MDC_PRESS_BLD_NONINV_DIA", "76"),
                                               ("MDC_PRESS_BLD_NONINV_MEAN", "90")), "mm[Hg]", None),
        (2, "149546", "MDC_PULS_RATE_NON_INV", "72", "/min", "264864")]),
    ("pulseox-0x0190.x73", "0A1B2C3D4E5F0401", 400, [
        (1, "150456", "MDC_PULS_OXIM_SAT_O2", "98", "%", "262688"),
        (10, "149530", "MDC_PULS_OXIM_PULS_RATE", "72", "/min", "264864"),
        (1, "150456", "MDC_PULS_OXIM_SAT_O2", "97", "%", "262688"),
        (10, "149530", "MDC_PULS_OXIM_PULS_RATE", "75", "/min", "264864")]),
    ("thermometer-0x0320.x73", "0A1B2C3D4E5F0801", 800, [
        (1, "150364", "MDC_TEMP_BODY", "36.6", "Cel", "268192"), (1, "150364", "MDC_TEMP_BODY", "37.2", "Cel", "268192")]),
    ("scale-0x05DC.x73", "0A1B2C3D4E5F1501", 1500, [
        (1, "188736", "MDC_MASS_BODY_ACTUAL", "76.2", "kg", "263875"),
        (1, "188736", "MDC_MASS_BODY_ACTUAL", "76.0", "kg", "263875")]),
    ("glucose-0x06A4.x73", "0A1B2C3D4E5F1701", 1700, [
        (1, "160184", "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "95", "mg/dL", "264274"),
        (1, "160184", "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "102", "mg/dL", "264274")]),
    ("bp-extended-0x4000.x73", "0A1B2C3D4E5F0702", 0x4000, None),
])
def test_example_traces(file: str, eui: str, config: int, expected) -> None:
    msg = decode(EXAMPLES / file)
    assert _eui(msg) == eui
    assert msg.devices[0].config_id == config
    assert msg.devices[0].manufacturer == "Example Devices"
    if expected is not None:
        assert _values(msg) == expected
    assert msg.metrics[0].effective.value == datetime(2026, 1, 15, 8, 30)
    assert msg.issues == ()


def test_example_files_match_the_encoder() -> None:
    # the example traces are exactly what agent.trace() builds (no hand edits)
    for name, file in [("x73-bp", "bp-0x02BC.x73"), ("x73-glucose", "glucose-0x06A4.x73")]:
        lines = [ln for ln in (EXAMPLES / file).read_text().splitlines() if ln and not ln.startswith("#")]
        assert [bytes.fromhex(ln) for ln in lines] == agent.trace(agent.PROFILES[name])


def test_corpus_bp_standard_config() -> None:
    # antidote H211_ID_02BC (AARQ 0x02BC), H233_ID_02BC (MDS), H241_ID_02BC (scan report), rx_rlrq_normal
    msg = decode_trace(trace("antidote_H211_ID_02BC", "antidote_H233_ID_02BC", "antidote_H241_ID_02BC",
                             "antidote_rx_rlrq_normal"))
    assert _eui(msg) == "1122334455667707"
    assert msg.devices[0].model == "TheBPM ABC"
    assert [s.codings[0].display for s in msg.devices[0].specializations] == ["MDC_DEV_SPEC_PROFILE_BPM"]
    assert _values(msg)[0][3] == (("MDC_PRESS_BLD_NONINV_SYS", "120"), ("MDC_PRESS_BLD_NONINV_DIA", "80"),
                                  ("MDC_PRESS_BLD_NONINV_MEAN", "100"))
    assert _values(msg)[1][3:5] == ("60.0", "/min")
    assert msg.metrics[0].effective.value == datetime(2007, 12, 6, 12, 10)


def test_corpus_real_nonin_0x0191() -> None:
    # real Nonin dump: AARQ 0x0191 then an unconfirmed fixed scan report (98 %, 105 bpm @2007-10-01T08:31:42)
    msg = decode_trace(trace("nonin_oximeter_real_aarq", "nonin_oximeter_real_scan_report"))
    assert _eui(msg) == "001C050100002885"
    assert [(v[0], v[3], v[4]) for v in _values(msg)] == [(1, "98", "%"), (10, "105", "/min")]
    assert msg.metrics[1].effective.value == datetime(2007, 10, 1, 8, 31, 42)
    assert [i.code for i in msg.issues] == ["x73.not-released"]


@pytest.mark.parametrize("strict", [False, True])
def test_corpus_scale_unknown_handle_trap(strict: bool) -> None:
    # antidote H241_ID_05DC reports handle 3 (BMI) that standard config 0x05DC lacks: a negative vector.
    # Issue 4: a scan report for an unknown handle is a DecodeError with its byte offset, strict or not.
    raw = trace("antidote_H211_ID_05DC", "antidote_H241_ID_05DC")
    with pytest.raises(DecodeError) as info:
        decode_trace(raw, strict=strict)
    assert info.value.offset == 54 + 46  # the ObservationScanFixed of handle 3 (APDU 2 starts at byte 54)
    assert info.value.position == "APDU 2"
    assert "handle 3" in str(info.value) and "0x05DC" in str(info.value)


def test_corpus_extended_mp_fixed_weighing_scale() -> None:
    # antidote weighing_scale: AARQ 0x4000, 10-object config report, MP-fixed data report for person 0x34
    msg = decode_trace(trace("antidote_weighing_scale__association_request",
                             "antidote_weighing_scale__roiv_mdc_noti_config", "antidote_weighing_scale__data_report"))
    vals = _values(msg)
    assert vals[0] == (1, "188736", "MDC_MASS_BODY_ACTUAL", "79.6", "kg", "263875")
    assert vals[1] == (2, "188740", "MDC_LEN_BODY_ACTUAL", "171.0", "cm", "263441")
    assert vals[2][:5] == (3, "188752", "MDC_RATIO_MASS_BODY_LEN_SQ", "27.2", "kg/m2")
    assert {m.person_id for m in msg.metrics} == {0x34}
    assert msg.metrics[0].effective.value == datetime(2010, 7, 21, 9, 40)


def test_corpus_grouped_report_with_scanner() -> None:
    # antidote pulse_oximeter: config with periodic scanner 40 (handle-attr-value map), grouped report
    msg = decode_trace(trace("antidote_pulse_oximeter__pulse_oximeter_association_request",
                             "antidote_pulse_oximeter__pulse_oximeter_noti_config_with_scanner",
                             "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_grouped"))
    assert [(v[0], v[3]) for v in _values(msg)] == [(1, "98"), (10, "73"), (3, "98")]
    assert msg.metrics[0].effective.value == datetime(2008, 7, 3, 12, 10)


def test_corpus_novopen_pm_store_segments() -> None:
    # xDrip NovoPen: AARQ 0x400A, config with PM-store, MDS (reg-cert, time info), segment info, segment data
    msg = decode_trace(trace("xdrip_novopen_A_REQUEST", "xdrip_novopen_C_REPORT", "xdrip_novopen_D_INFO",
                             "xdrip_novopen_S_INFO", "xdrip_novopen_SEG_DATA"))
    dev = msg.devices[0]
    assert (dev.manufacturer, dev.model) == ("Novo Nordisk A/S", "NovoPen")
    assert ("serial-number", "EGDO2U") in [(p.kind, p.value) for p in dev.production_specs]
    assert dev.reg_cert == ("continua-version 4.0", "continua-certified-device-class 41032",
                            "continua-regulated-device")
    assert dev.time.sync_protocol == "MDC_TIME_SYNC_NONE"
    doses = [m for m in msg.metrics if m.handle == 2]
    assert [str(m.value.quantity.value) if m.value else m.data_absent_reason for m in doses] == [
        "3.0", "2.0", "not-a-number"]
    assert "x73.system-id-mismatch" in [i.code for i in msg.issues]


def _special_trace() -> bytes:
    """AARQ 0x02BC + one fixed report whose SFLOATs are NaN, NRes, +INF (BP) and -INF (pulse)."""
    when = bytes.fromhex("2026011508300000")
    report = apdu.build_apdu({"choice": 0xE700, "apdu": {"invoke_id": 1, "choice": 0x0101, "message": {
        "obj_handle": 0, "event_time": 0xFFFFFFFF, "event_type": 0x0D1D, "event_info": {
            "data_req_id": 0xF000, "scan_report_no": 0, "obs_scan_fixed": [
                {"obj_handle": 1, "obs_val_data": bytes.fromhex("0003 0006 07ff 0800 07fe") + when},
                {"obj_handle": 2, "obs_val_data": bytes.fromhex("0802") + when}]}}}})
    return agent.aarq(bytes.fromhex("0A1B2C3D4E5F0702"), 700) + report + agent.rlrq()


def test_special_values_become_data_absent_reasons() -> None:
    msg = decode_trace(_special_trace())
    bp, pulse = msg.metrics
    assert [(c.quantity, c.data_absent_reason) for c in bp.value.components] == [
        (None, "not-a-number"), (None, "error"), (None, "positive-infinity")]
    assert (pulse.value, pulse.data_absent_reason) == (None, "negative-infinity")
    assert pulse.code.codings[0].display == "MDC_PULS_RATE_NON_INV"


def test_precision_kept_as_decimal() -> None:
    msg = decode(EXAMPLES / "bp-0x02BC.x73")
    assert msg.metrics[1].value.quantity.value.as_tuple() == Decimal("60.0").as_tuple()


@pytest.mark.parametrize(("raw", "offset", "fragment"), [
    (trace("antidote_H241"), 0, "before association"),  # a report before association
    (trace("antidote_H211")[:40], 2, "overruns"),  # truncated AARQ
    (trace("antidote_H211") + bytes.fromhex("e7 00 00 08 00 06 43 21 09 99 00 00"), 62, "unknown"),  # unknown choice
    (trace("antidote_H211") + bytes.fromhex("e7 00"), 54, "truncated"),  # truncated header
    (trace("antidote_H211", "antidote_H221_ID_02BC"), 54 + 90, "left over"),  # count vs length (corpus trap)
])
def test_malformed_traces_raise_with_offset(raw: bytes, offset: int, fragment: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_trace(raw)
    assert info.value.offset == offset
    assert fragment in str(info.value)
    assert "\n" not in info.value.one_line()


def test_manager_lines_are_checked(tmp_path) -> None:
    # the trace's manager answered AARE "accepted" (antidote rx_aare_example_one) where this manager,
    # not knowing extended configuration 0x4000, answers accepted-unknown-config
    lines = [" ".join(f"{b:02x}" for b in trace("antidote_H211")),
             "<" + " ".join(f"{b:02x}" for b in trace("antidote_rx_aare_example_one"))]
    path = tmp_path / "t.x73"
    path.write_text("\n".join(lines) + "\n")
    msg = decode(path)
    assert [i.code for i in msg.issues if i.code == "x73.manager-differs"] == ["x73.manager-differs"]


def test_metric_spec_small_category_becomes_method() -> None:
    # antidote weighing_scale config: BMI (handle 3) has metric-spec-small 0xF042 = ... mss-cat-calculation
    msg = decode_trace(trace("antidote_weighing_scale__association_request",
                             "antidote_weighing_scale__roiv_mdc_noti_config", "antidote_weighing_scale__data_report"))
    bmi = next(m for m in msg.metrics if m.handle == 3)
    assert bmi.method.text == "calculation"
    assert next(m for m in msg.metrics if m.handle == 1).method is None


@pytest.mark.parametrize(("names", "offset", "what"), [
    # antidote H211_ID_0190 + H221_ID_0190: an AttributeList count that disagrees with its length (APDU 2 byte 62)
    (("antidote_H211_ID_0190", "antidote_H221_ID_0190"), 54 + 62, "left over"),
    # antidote pedometer: 56 octets after the configuration APDU do not start an APDU (choice 0x0006)
    (("antidote_pedometer__pedometer_association_request", "antidote_pedometer__pedometer_noti_config"), 54 + 646,
     "unknown APDU choice"),
    # antidote pulse oximeter buffered MP-grouped report: APDU length 48 with 46 octets left (length field at +2)
    (("antidote_pulse_oximeter__pulse_oximeter_association_request",
      "antidote_pulse_oximeter__pulse_oximeter_noti_config_with_scanner",
      "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_mp_grouped"), 54 + 302 + 2, "overruns"),
])
@pytest.mark.parametrize("strict", [False, True])
def test_corpus_malformed_vectors_are_decode_errors(names: tuple[str, ...], offset: int, what: str,
                                                    strict: bool) -> None:
    # the corpus traps (tests/x73/data/SOURCES.md): DecodeError with the byte offset, tolerant or strict
    with pytest.raises(DecodeError) as info:
        decode_trace(trace(*names), strict=strict)
    assert info.value.offset == offset and what in str(info.value)
