"""Memoised translation equals cold translation: the memos of the 20601 path (times, values, the MDS Device per
association state, the PHD Device edit, the parsers derived from the declarations) give what a fresh process
gives, for several configurations and scan report kinds (fixed, variable, grouped, multi-person) and across a
change of the MDS attributes inside one association."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest
from interop.codecs.ieee11073 import apdu, attributes, trace
from interop.codecs.ieee11073 import association as x73_association
from interop.codecs.ieee11073 import nomenclature as nom
from interop.codecs.ieee11073.association import Association
from interop.mappings.fhir import context as fhir_context
from interop.mappings.fhir import phd

from interop import to_fhir

from .vectors import EXAMPLES, load

CLOCK = datetime(2026, 1, 15, 8, 31, 5, 250000, tzinfo=UTC)
ZONE = timezone(timedelta(hours=1))


def _frames(name: str) -> list[bytes]:
    agent, _ = trace.parse_hex_text((EXAMPLES / name).read_bytes())
    return [frame for _, frame in trace.frames(agent)]


def _corpus(*names: str) -> list[bytes]:
    return [load(n) for n in names]


def _model_changed(get_response: bytes, manufacturer: bytes, model: bytes) -> bytes:
    """The MDS GET response with MDC_ATTR_ID_MODEL replaced (built by the declarations)."""
    value = apdu.Apdu.parse(get_response)
    for ava in value.apdu.message.attribute_list:
        if ava.attribute_id == nom.MDC_ATTR_ID_MODEL:
            ava.attribute_value = attributes.encode(nom.MDC_ATTR_ID_MODEL, {"manufacturer": manufacturer,
                                                                             "model_number": model})
    return apdu.Apdu.build(value)


BP = _frames("bp-0x02BC.x73")  # AARQ, MDS GET response, 2 fixed scan reports, RLRQ
CASES = {
    "bp-fixed": BP,
    "scale-fixed": _frames("scale-0x05DC.x73"),
    "glucose": _frames("glucose-0x06A4.x73"),
    "thermometer": _frames("thermometer-0x0320.x73"),
    "pulseox": _frames("pulseox-0x0190.x73"),
    "annexH-extended": _frames("annexH-scale-extended-0x4000.x73"),
    "oximeter-var": _corpus("antidote_pulse_oximeter__pulse_oximeter_association_request",
                            "antidote_pulse_oximeter__pulse_oximeter_noti_config",
                            "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_var"),
    "oximeter-mp-var": _corpus("antidote_pulse_oximeter__pulse_oximeter_association_request",
                               "antidote_pulse_oximeter__pulse_oximeter_noti_config",
                               "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_mp_var"),
    "oximeter-grouped": _corpus("antidote_pulse_oximeter__pulse_oximeter_association_request",
                                "antidote_pulse_oximeter__pulse_oximeter_noti_config_with_scanner",
                                "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_grouped"),
    "scale-mp-fixed": _corpus("antidote_weighing_scale__association_request",
                              "antidote_weighing_scale__roiv_mdc_noti_config",
                              "antidote_weighing_scale__data_report"),
    # the MDS attributes change between two reports of one association (a second GET answer)
    "bp-mds-change": [*BP[:3], _model_changed(BP[1], b"Other Devices", b"BPM-800"), BP[3]],
}


def _cold() -> None:
    x73_association.forget()
    phd.forget()
    fhir_context.forget()


def _run(frames: list[bytes], zone=None) -> tuple[list[bytes], list, list[bytes]]:
    """Each APDU in turn (the manager's answers kept); after each scan report the association's Message and
    its R4 and R5 Bundles (Provenance.recorded, the wall-clock time of translation, left out)."""
    assoc = Association(mode="manager", local_tz=zone, clock=lambda: CLOCK)
    answers: list[bytes] = []
    messages = []
    bundles: list[bytes] = []
    for frame in frames:
        answers.extend(assoc.receive(frame))
        if assoc.metrics:
            message = assoc.message(association_id="warm-cold")
            messages.append(message)
            for version in ("R4", "R5"):
                data = orjson.loads(to_fhir(message, version).json())
                for entry in data["entry"]:
                    entry["resource"].pop("recorded", None)
                bundles.append(orjson.dumps(data))
    return answers, messages, bundles


@pytest.mark.parametrize("zone", [None, ZONE], ids=["naive", "gateway-zone"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_warm_translation_equals_cold(name: str, zone) -> None:
    _cold()
    cold = _run(CASES[name], zone)
    warm = _run(CASES[name], zone)  # every memo filled by the first run
    assert cold[1], f"{name}: no metrics"
    assert warm[0] == cold[0]  # the manager's answers (confirmations), octet for octet
    assert warm[1] == cold[1]  # the canonical Messages (metrics, device, issues)
    assert warm[2] == cold[2]  # the Bundles, byte for byte
    other = _run(CASES["bp-fixed"], zone)  # another device in between must not leak into this one
    assert _run(CASES[name], zone) == cold
    assert other[1][0].devices[0].model == "BPM-700"


def test_bp_values_confirmation_and_bundle_exact() -> None:
    _cold()
    for _ in range(2):  # cold, then warm
        answers, messages, bundles = _run(BP)
        # AARE, MDS GET (manager mode), two confirmations of the scan reports (invoke ids 2 and 3), RLRE
        assert answers[2].hex() == "e70000120010000202010" "00a0000ffffffff0d1d0000"
        assert answers[3].hex() == "e70000120010000302010" "00a0000ffffffff0d1d0000"
        first = messages[0]
        bp, pulse = first.metrics
        assert [(c.code.codings[0].display, c.quantity.value, c.quantity.unit) for c in bp.value.components] == [
            ("MDC_PRESS_BLD_NONINV_SYS", Decimal("120"), "mm[Hg]"), ("MDC_PRESS_BLD_NONINV_DIA", Decimal("80"), "mm[Hg]"),
            ("MDC_PRESS_BLD_NONINV_MEAN", Decimal("100"), "mm[Hg]")]
        assert (pulse.value.quantity.value, pulse.value.quantity.unit) == (Decimal("60.0"), "/min")
        assert bp.effective.value == datetime(2026, 1, 15, 8, 30) and bp.effective.raw == "2026011508300000"
        assert bp.source.location == "APDU 3 handle 1 attr 0x0A75 MDC_ATTR_NU_CMPD_VAL_OBS_BASIC"
        second = messages[1].metrics[-2:]
        assert [str(c.quantity.value) for c in second[0].value.components] == ["118", "76", "90"]
        assert str(second[1].value.quantity.value) == "72"
        assert second[0].effective.value == datetime(2026, 1, 15, 8, 31)
        r4 = orjson.loads(bundles[0])
        device = next(e["resource"] for e in r4["entry"] if e["resource"]["resourceType"] == "Device")
        assert device["identifier"][0]["value"] == "0A-1B-2C-3D-4E-5F-07-02"
        assert device["meta"] == {"profile": ["http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"]}
        assert (device["manufacturer"], device["modelNumber"], device["serialNumber"]) == (
            "Example Devices", "BPM-700", "SIM-0001")
        obs = [e["resource"] for e in r4["entry"] if e["resource"]["resourceType"] == "Observation"]
        assert [c["valueQuantity"]["value"] for c in obs[0]["component"]] == [120, 80, 100]
        assert [c["code"]["coding"][1]["code"] for c in obs[0]["component"]] == ["8480-6", "8462-4", "8478-0"]
        assert obs[1]["valueQuantity"] == {"value": 60.0, "unit": "/min", "system": "http://unitsofmeasure.org",
                                           "code": "/min"}
        assert obs[0]["identifier"][0]["value"].startswith("0A1B2C3D4E5F0702-150020-")


def test_mds_change_gives_the_new_device() -> None:
    _cold()
    _, messages, bundles = _run(CASES["bp-mds-change"])
    before, after = messages[0].devices[0], messages[-1].devices[0]
    assert (before.manufacturer, before.model) == ("Example Devices", "BPM-700")
    assert (after.manufacturer, after.model) == ("Other Devices", "BPM-800")
    r4 = orjson.loads(bundles[-2])
    device = next(e["resource"] for e in r4["entry"] if e["resource"]["resourceType"] == "Device")
    assert (device["manufacturer"], device["modelNumber"]) == ("Other Devices", "BPM-800")


def test_local_time_finding_kept_when_warm() -> None:
    _cold()
    for _ in range(2):
        _, messages, _ = _run(BP, ZONE)
        notes = [i.message for i in messages[0].issues if i.code == "x73.local-time"]
        assert notes == ["device-local absolute times placed in the gateway's zone (UTC+01:00)"]
        assert messages[0].metrics[0].effective.value == datetime(2026, 1, 15, 8, 30, tzinfo=ZONE)
