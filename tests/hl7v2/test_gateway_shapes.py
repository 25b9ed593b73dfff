"""PHD devices behind a PCD-01 gateway, a monitor that is its own DOR, OBX-8 as CWE, waveform facets and
the NIBP panel (issue 11 defects 2, 4, 5, 6 and 7)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from interop import decode, to_fhir
from interop.model import EUI64_SYSTEM

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"


def _of(bundle, kind):
    return [r for r in bundle.resources if r["resourceType"] == kind]


def _unique_full_urls(bundle):
    urls = [e["fullUrl"] for e in bundle.data["entry"]]
    assert len(urls) == len(set(urls))


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_phd_blood_pressure_behind_a_gateway(version):
    msg = decode((DATA / "phd-continua-bpm-pcd01.hl7").read_bytes())
    (phd,) = msg.devices
    assert phd.identifiers[0].value == "0123456789ABCDEF" and phd.identifiers[0].system == EUI64_SYSTEM
    assert phd.specializations[0].codings[0].code == "528391"
    assert phd.time.sync_protocol == "MDC_TIME_SYNC_NONE" and phd.time.device_time.raw == "20091028123702"
    assert msg.gateway.identifiers[0].value == "ACDE48234567ABCD"
    (bp,) = msg.metrics  # one compound, not a value-less row and three loose numbers
    assert bp.code.codings[0].code == "150020" and bp.device_key == "1"
    assert [(c.code.codings[0].code, c.quantity.value) for c in bp.value.components] == [
        ("150021", Decimal("120")), ("150022", Decimal("80")), ("150023", Decimal("100"))]
    bundle = to_fhir(msg, version)
    bundle.to_model()
    _unique_full_urls(bundle)
    assert not [o for o in _of(bundle, "Observation") if o["status"] == "cancelled"]
    devices = {d["meta"]["profile"][0].rsplit("/", 1)[1]: d for d in _of(bundle, "Device") if "meta" in d} \
        if version == "R4" else None
    panel = next(o for o in _of(bundle, "Observation") if o["code"]["coding"][0]["code"] == "150020")
    assert panel["code"]["coding"][1]["code"] == "85354-9"
    assert [c["code"]["coding"][1]["code"] for c in panel["component"]] == ["8480-6", "8462-4", "8478-0"]
    phd_device = next(d for d in _of(bundle, "Device") if d.get("patient") or d.get("specialization")
                      or d.get("conformsTo"))
    assert phd_device["identifier"][0]["value"] == "01-23-45-67-89-AB-CD-EF"  # PHD IG spelling
    if version == "R4":
        assert set(devices) == {"PhdDevice", "PhgDevice"}


def test_phd_scale_behind_a_gateway_with_a_spaced_eui64_type():
    msg = decode((DATA / "phd-continua-scale-pcd01.hl7").read_bytes())
    assert msg.gateway is not None and msg.gateway.identifiers[0].value == "ACDE48234567ABCD"  # "EUI- 64"
    (scale,) = msg.devices
    assert scale.specializations[0].codings[0].code == "528399"
    assert [(m.code.codings[0].code, m.value.quantity.value, m.device_key) for m in msg.metrics] == [
        ("188736", Decimal("156.3"), "1"), ("188740", Decimal("180"), "1"), ("188752", Decimal("24.7"), "1")]
    for version in ("R4", "R5"):
        bundle = to_fhir(msg, version)
        bundle.to_model()
        _unique_full_urls(bundle)


OWN_DOR = (
    "MSH|^~\\&|MON^0123456789ABCDEF^EUI-64|W|R|F|20240102030405+0100||ORU^R01^ORU_R01|A2|P|2.6|||NE|AL||||"
    "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||123^^^H^MR\r"
    "OBR|1||X^MON^0123456789ABCDEF^EUI-64|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240102030400+0100\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||0123456789ABCDEF^^0123456789ABCDEF^EUI-64\r"
    "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC||N^Normal^HL70078~L^Low^HL70078"
    "|||F\r"
)


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_monitor_that_is_its_own_dor_is_one_device(version, bundle_type):
    msg = decode(OWN_DOR.encode())
    assert msg.gateway is None and len(msg.devices) == 1
    assert any(i.code == "hl7v2.gateway-is-device" for i in msg.issues)
    bundle = to_fhir(msg, version, bundle_type=bundle_type)
    devices = _of(bundle, "Device")  # the MDS, and the VMD 1.1 and channel 1.1.1 OBX-4 names (PoCD hierarchy)
    assert [d["identifier"][0]["value"] for d in devices if "identifier" in d] == ["01-23-45-67-89-AB-CD-EF"]
    assert len(devices) == 3
    _unique_full_urls(bundle)
    bundle.to_model()


def test_obx8_as_cwe_repetitions():
    (m,) = decode(OWN_DOR.encode()).metrics
    assert [c.code for c in m.interpretation] == ["N", "L"]
    assert m.measurement_status == ()


def test_bdl7_is_checked_by_to_model():
    bundle = to_fhir(decode(OWN_DOR.encode()), "R4")
    bundle.data["entry"].append(bundle.data["entry"][0])
    with pytest.raises(ValueError, match="bdl-7"):
        bundle.to_model()


WAVE = (
    "MSH|^~\\&|GW|F|R|F|20240102030405+0100||ORU^R01^ORU_R01|W1|P|2.6\r"
    "OBR|1||W|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240102030400+0100\r"
    "OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.1.1.1|1^2^3^4|266418^MDC_DIM_MICRO_VOLT^MDC|||||F\r"
    "OBX|2|NM|{rate}|1.1.1.1.1|{value}|{unit}|||||F\r"
    "OBX|3|NR|0^MDC_ATTR_DATA_RANGE^MDC|1.1.1.1.2|-3000^3000|266418^MDC_DIM_MICRO_VOLT^MDC|||||F\r"
)


@pytest.mark.parametrize("rate,value,unit,period", [
    ("0^MDC_ATTR_SAMP_RATE^MDC", "500", "264608^MDC_DIM_PER_SEC^MDC", Decimal(2)),
    ("67981^MDC_ATTR_TIME_PD_SAMP^MDC", "0.004", "264320^MDC_DIM_SEC^MDC", Decimal("4.000")),
    ("67981^MDC_ATTR_TIME_PD_SAMP^MDC", "8", "ms^ms^UCUM", Decimal(8)),
])
def test_waveform_sampling_facets(rate, value, unit, period):
    msg = decode(WAVE.format(rate=rate, value=value, unit=unit).encode())
    (wave,) = msg.metrics
    assert wave.value.period_ms == period
    assert (wave.value.lower_limit, wave.value.upper_limit) == (Decimal(-3000), Decimal(3000))
    assert not [i for i in msg.issues if i.code in ("hl7v2.pcd-facet", "hl7v2.unsupported-value-type")]
    for version in ("R4", "R5"):
        bundle = to_fhir(msg, version)
        assert not [i for i in bundle.issues if i.code == "fhir.sampled-period"]
        # an ECG lead: one MDC_ECG_ELEC_POTL Observation, the lead as its component (FHIR core ECG example)
        sd = _of(bundle, "Observation")[0]["component"][0]["valueSampledData"]
        assert (sd["lowerLimit"], sd["upperLimit"]) == (Decimal(-3000), Decimal(3000))
        assert sd.get("period", sd.get("interval")) == period
        bundle.to_model()


NIBP_CHANNEL = (
    "MSH|^~\\&|GW|F|R|F|20240102030405+0100||ORU^R01^ORU_R01|N1|P|2.6\r"
    "OBR|1||N|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||20240102030400+0100\r"
    "OBX|1|NM|150020^MDC_PRESS_BLD_NONINV^MDC|1.3.1.1||||||||F\r"
    "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1.1.1|118|266016^MDC_DIM_MMHG^MDC|||||F\r"
    "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.3.1.1.2|76|266016^MDC_DIM_MMHG^MDC|||||F\r"
    "OBX|4|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.3.1.1.3|90|266016^MDC_DIM_MMHG^MDC|||||F\r"
)


def test_nibp_under_one_channel_is_one_panel():
    msg = decode(NIBP_CHANNEL.encode())
    (bp,) = msg.metrics
    assert bp.value.kind == "compound" and len(bp.value.components) == 3
    obs = _of(to_fhir(msg, "R4"), "Observation")
    assert len(obs) == 1 and obs[0]["code"]["coding"][1]["code"] == "85354-9"
    assert [c["valueQuantity"]["value"] for c in obs[0]["component"]] == [118, 76, 90]


IDENTIFIERS = (
    "MSH|^~\\&|GW^0123456789ABCDEF^EUI-64|F|R|F|20240102030405+0100||ORU^R01^ORU_R01|I1|P|2.6\r"
    "OBR|1|ORD-9^GW^0123456789ABCDEF^EUI-64|123456^GW^0123456789ABCDEF^EUI-64|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"
    "|||20240102030400+0100\r"
    "OBX|1||69985^MDC_DEV_PUMP_INFUS_MDS^MDC|1.0.0.0|||||||X\r"
    "OBX|2|NM|157784^MDC_FLOW_FLUID_PUMP^MDC|1.1.1.1|12.5|265266^MDC_DIM_MILLI_L_PER_HR^MDC|||||F|||||||SN-4711~^GATEWAY\r"
    "OBX|3|NM|0x4182^NOM_PRESS_BLD_NONINV_SYS^MDIL|1.1.1.2|120|mm[Hg]^mm[Hg]^UCUM|||||F\r"
)


def test_identifiers_are_kept_or_reported():
    msg = decode(IDENTIFIERS.encode())
    # OBR-2/3 EI.1 as sent, not replaced by the namespace's EUI-64
    assert (msg.orders[0].placer_id, msg.orders[0].filler_id) == ("ORD-9", "123456")
    # a pump serial in OBX-18 of a metric row lands on the pump's Device
    assert "SN-4711" in [i.value for i in msg.devices[0].identifiers]
    codes = {(i.code, i.location) for i in msg.issues}
    assert ("hl7v2.equipment-not-read", "OBX[2]-18") in codes  # '^GATEWAY' names no identifier
    assert ("hl7v2.unknown-coding-system", "OBX[3]-3") in codes  # Philips MDIL has no URI
    device = next(d for d in to_fhir(msg, "R4").resources if d["resourceType"] == "Device" and
                  any(i["value"] == "SN-4711" for i in d.get("identifier", [])))
    assert device
