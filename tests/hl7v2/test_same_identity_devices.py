"""Two device roots with one identity become one FHIR Device (bdl-7), found by the mutation fuzz test on a
GE CARESCAPE message (quirk profile ge-carescape: OBX-18 "<EUI-64>^B40_GE"): a metric row whose OBX-4 names no known MDS ("13.1.1", three parts) carries
the monitor's EUI-64 in OBX-18 before any row has put it on the declared MDS 1, so the decoder made an MDS
"13" for it; a row under an undeclared channel (1.5.1.1) then gave MDS 1 the same EUI-64. Two Device entries with one id and
one conditional create followed (a FHIR server answers 412 to every later message on that key)."""

from __future__ import annotations

import pytest
from interop.mappings.fhir.bundle import entry_duplicates

from interop import decode, to_fhir

EUI = "080019FFFE0B4020"
MESSAGE = (
    "MSH|^~\\&|VSP^080019FFFE134535^EUI-64|GE Healthcare|||20130122134100+0000||ORU^R01^ORU_R01|42|P|2.6|||NE|AL||"
    "UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||P1^^^H^MR||Test^Patient\r"
    "OBR|1|42^GW^080019FFFE134535^EUI-64|42^GW^080019FFFE134535^EUI-64|182777000^monitoring of patient^SCT|||"
    "20130122134100+0000\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r"
    "OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.13.0.0|||||||X\r"
    "OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.13.1.0|||||||X\r"
    f"OBX|4|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R|||20130122134100+0000||||"
    f"{EUI}^B40_GE\r"
    f"OBX|5|NM|150034^MDC_PRESS_BLD_ART_DIA^MDC|1.13.1.2|76|266016^MDC_DIM_MMHG^MDC|||||R|||20130122134100+0000||||"
    f"{EUI}^B40_GE\r"
    f"OBX|6|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||20130122134100+0000"
    f"||||{EUI}^B40_GE\r"
).encode()


@pytest.mark.parametrize("version", ["R4", "R5"])
@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_two_device_roots_with_one_eui64_are_one_device(version, bundle_type):
    msg = decode(MESSAGE, "hl7v2")
    assert sorted(d.key for d in msg.devices) == ["1", "13"]  # the decoder keeps what the message says
    assert all(EUI in [i.value for i in d.identifiers] for d in msg.devices)
    bundle = to_fhir(msg, version, bundle_type=bundle_type)
    assert entry_duplicates(bundle.data) == []
    devices = [e["resource"] for e in bundle.data["entry"] if e["resource"]["resourceType"] == "Device"]
    with_eui = [d for d in devices if any(i["value"] == "08-00-19-FF-FE-0B-40-20" for i in d.get("identifier", ()))]
    assert len(with_eui) == 1
    if bundle_type == "transaction":
        conds = [e["request"].get("ifNoneExist") for e in bundle.data["entry"] if e["resource"]["resourceType"] == "Device"]
        assert conds.count("identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|08-00-19-FF-FE-0B-40-20") == 1
    # both readings point at Devices of this Bundle
    urls = {e["fullUrl"] for e in bundle.data["entry"]}
    obs = [e["resource"] for e in bundle.data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert len(obs) == 3 and all(o["device"]["reference"] in urls for o in obs)
    assert any(i.code == "device.same-identity" and i.location == "Device 13" for i in bundle.issues)
