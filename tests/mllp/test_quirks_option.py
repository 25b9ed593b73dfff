"""`interop serve mllp --quirks NAME|FILE.toml`: the listener decodes every message with the chosen quirk
profile (codecs/hl7v2/quirks), over a real socket on 127.0.0.1; without it the profile is detected per
message (else default); an unknown profile is a usage error before the port opens."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interop.errors import UsageError
from interop.transport.forward import RetryPolicy
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

from .helpers import Peer, msa
from .test_acceptance import Server

# a legacy lab's shapes (tests/hl7v2/test_quirks.py): '^mg/dL' units, a dot-less fraction of a second,
# 'SNOMED-CT' for SCT; the profile `legacy-lab` reads all three, `default` none
LEGACY = (b"MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|Q1|P|2.5.1\r"
          b"PID|||1^^^H^MR\r"
          b"OBR|1|P1|F1|2345-7^Glucose^LN|||20240102030000123+0100\r"
          b"OBX|1|NM|2345-7^Glucose^LN||5.4|^mg/dL|||||F|||20240102030000123\r"
          b"OBX|2|CWE|5778-6^Color^LN||371244009^Yellow^SNOMED-CT||||||F\r")


def _bundle(store: Path, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted((store / "fhir").glob("*.json"))
        if files:
            return json.loads(files[0].read_text())
        time.sleep(0.1)
    raise AssertionError(f"no Bundle written under {store / 'fhir'}")


def _values(bundle: dict) -> dict[str, dict]:
    return {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"}


def _send(port: int) -> None:
    peer = Peer(port)
    try:
        assert msa(peer.exchange(LEGACY)) == ("AA", "Q1")
    finally:
        peer.close()


def test_serve_mllp_quirks_decodes_with_the_profile(tmp_path: Path) -> None:
    store = tmp_path / "store"
    server = Server(store, None, "--quirks", "legacy-lab")
    try:
        _send(server.port)
        obs = _values(_bundle(store))
    finally:
        server.stop()
    glucose, color = obs["2345-7"], obs["5778-6"]
    assert glucose["valueQuantity"] == {"value": 5.4, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                                        "code": "mg/dL"}
    assert glucose["effectiveDateTime"] == "2024-01-02T03:00:00.123+01:00"
    assert color["valueCodeableConcept"]["coding"][0]["system"] == "http://snomed.info/sct"


def test_without_quirks_the_listener_uses_the_default(tmp_path: Path) -> None:
    svc = MllpService(MllpConfig(port=0), store_dir=tmp_path / "store", retry=RetryPolicy(initial=0.05, jitter=0))
    port = svc.start()
    try:
        _send(port)
        obs = _values(_bundle(tmp_path / "store"))
    finally:
        svc.stop()
    assert obs["2345-7"]["valueQuantity"] == {"value": 5.4, "unit": "mg/dL"}  # the unit's text only: no UCUM code
    assert "system" not in obs["5778-6"]["valueCodeableConcept"]["coding"][0]


def test_quirks_file_in_the_service_config(tmp_path: Path) -> None:
    profile = tmp_path / "my-lab.toml"
    profile.write_text('name = "my-lab"\ndescription = "units in OBX-6.2"\n'
                       '[quirks.units-in-component-2]\naction = "warn"\n')
    svc = MllpService(MllpConfig(port=0, quirks=(str(profile),)), store_dir=tmp_path / "store",
                      retry=RetryPolicy(initial=0.05, jitter=0))
    port = svc.start()
    try:
        _send(port)
        obs = _values(_bundle(tmp_path / "store"))
    finally:
        svc.stop()
    assert obs["2345-7"]["valueQuantity"]["code"] == "mg/dL"


def test_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no quirk profile 'nope'"):
        MllpConfig(port=0, quirks=("nope",))
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "serve", "mllp", "--port", "0", "--store",
                        str(tmp_path / "s"), "--quirks", "nope"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--quirks: no quirk profile 'nope'" in r.stderr
