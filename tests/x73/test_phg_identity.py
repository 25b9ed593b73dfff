"""The PHG's own identity (`serve x73`): one per installation, and one Device when a PHD shares it.

A fixed default EUI-64 made every `serve x73` of a site the same PhgDevice on a FHIR server, and a PHD
that happened to carry the manager's EUI-64 (the simulator's default once did) gave a Bundle with two
conditional creates of one Device identifier: the FHIR server then answers 412 to every later message.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from interop.codecs.ieee11073 import agent
from interop.codecs.ieee11073.configurations import ConfigStore
from interop.codecs.ieee11073.gateway import PHG_ID_FILE, gateway_device, parse_system_id, phg_system_id

from interop import to_fhir
from interop.errors import UsageError
from interop.transport.x73.manager import replay_association

ZONE = ZoneInfo("America/New_York")
EUI64 = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"


def _bundle(phg: bytes) -> tuple[dict, list]:
    profile = agent.PROFILES["x73-bp"]
    frames = agent.trace(profile, when=datetime(2026, 3, 2, 9, 35))
    assoc = replay_association(frames, ConfigStore(), phg, local_tz=ZONE,
                               clock=lambda: datetime(2026, 3, 2, 14, 40, tzinfo=ZoneInfo("UTC")))
    message = assoc.message(source="t", gateway=gateway_device(phg), association_id="a-1")
    b = to_fhir(message, "R4", bundle_type="transaction", assume_tz=ZONE, patient="p-1")
    b.to_model()
    return json.loads(b.json()), list(b.issues)


def test_a_phd_that_is_its_own_gateway_is_one_device() -> None:
    bundle, issues = _bundle(agent.PROFILES["x73-bp"].system_id)  # the manager carries the agent's EUI-64
    devices = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Device"]
    assert len(devices) == 1
    (device,) = devices
    ident = device["resource"]["identifier"][0]
    assert (ident["system"], ident["value"]) == (EUI64, "0A-1B-2C-3D-4E-5F-07-02")
    assert device["request"]["ifNoneExist"] == f"identifier={EUI64}|0A-1B-2C-3D-4E-5F-07-02"
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                    and e["resource"]["code"]["coding"][0]["code"] != "67975"]  # not the coincident time stamp
    assert observations
    for o in observations:
        (gw,) = [x for x in o["extension"] if x["url"].endswith("observation-gatewayDevice")]
        assert gw["valueReference"]["reference"] == device["fullUrl"]
    assert any(i.code == "device.gateway-is-device" for i in issues)


def test_a_phd_and_a_distinct_gateway_are_two_devices() -> None:
    bundle, issues = _bundle(bytes.fromhex("02AABBCCDDEEFF01"))
    values = sorted(e["resource"]["identifier"][0]["value"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Device")
    assert values == ["02-AA-BB-CC-DD-EE-FF-01", "0A-1B-2C-3D-4E-5F-07-02"]
    assert not any(i.code == "device.gateway-is-device" for i in issues)


def test_the_phg_id_is_made_once_per_store_and_kept(tmp_path) -> None:
    first = phg_system_id(tmp_path)
    assert len(first) == 8 and first[0] & 0x02 and not first[0] & 0x01  # locally administered, individual
    assert (tmp_path / PHG_ID_FILE).read_text().strip() == first.hex().upper()
    assert phg_system_id(tmp_path) == first  # a restart keeps it
    other = tmp_path / "other"
    assert phg_system_id(other) != first  # another installation has its own


@pytest.mark.parametrize("text, expected", [("00-1B-2C-FF-FE-3D-4E-5F", "001B2CFFFE3D4E5F"),
                                            ("001b2cfffe3d4e5f", "001B2CFFFE3D4E5F"),
                                            ("00:1B:2C:FF:FE:3D:4E:5F", "001B2CFFFE3D4E5F")])
def test_system_id_spellings(text: str, expected: str) -> None:
    assert parse_system_id(text).hex().upper() == expected


@pytest.mark.parametrize("text", ["", "001B2C", "001B2CFFFE3D4E5G", "001B2CFFFE3D4E5F00"])
def test_system_id_refused(text: str) -> None:
    with pytest.raises(UsageError, match="expected an EUI-64"):
        parse_system_id(text)


@pytest.mark.parametrize("text", ["+²²00", "+05:3٠", "+0530x", "+5:30"])
def test_a_zone_offset_with_other_than_four_ascii_digits_is_a_usage_error(text: str) -> None:
    from interop.codecs.ieee11073.gateway import parse_zone

    from interop.errors import UsageError

    with pytest.raises(UsageError, match="expected an IANA name"):
        parse_zone(text)
