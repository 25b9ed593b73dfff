"""PHD Observations made at once (`phd.observations`) equal the two-step build they replace (the general
Observation rewritten by the PHD pass): the same Bundle bytes and the same findings in the same order, for the
example traces of every 20601 specialization and the GATT vectors, in R4 and R5, collection and transaction,
with and without a gateway, a reception time, a provided patient (one, or one per person id) and a zone."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from interop.codecs.ieee11073.gateway import gateway_device
from interop.mappings.fhir import bundle as fhir_bundle
from interop.mappings.fhir import phd

from interop import decode
from interop.model import Message, Timestamp, replace

ROOT = Path(__file__).resolve().parents[2]
TRACES = sorted((ROOT / "examples" / "x73").glob("*.x73"))
GATT = sorted((ROOT / "tests" / "gatt" / "data").glob("*.hex"))
RECORDED = re.compile(rb'"recorded":"[^"]*"')  # Provenance.recorded is the time of mapping without Message.sent
OPTIONS = ({}, {"patient": "pat-1"}, {"patient": {1: "pat-1"}}, {"assume_tz": "+02:00"})
GATEWAY = gateway_device(bytes.fromhex("0011223344556677"))
SENT = Timestamp(value=datetime(2026, 1, 15, 8, 31, 5, 250000), precision="millisecond")


def _messages(path: Path) -> list[Message]:
    m = decode(path.read_bytes())
    if m.standard != "ieee11073-20601":
        return [m]
    return [m, replace(m, gateway=GATEWAY), replace(m, gateway=GATEWAY, sent=SENT)]


def _both(m: Message, version: str, bundle_type: str, options: dict, monkeypatch: pytest.MonkeyPatch):
    calls: list[bool] = []
    fused = phd.observations

    def counted(*args):
        calls.append(fused(*args))
        return calls[-1]

    with monkeypatch.context() as patch:
        patch.setattr(phd, "observations", counted)
        one = fhir_bundle.to_bundle(m, version, bundle_type, **options)
    with monkeypatch.context() as patch:
        patch.setattr(phd, "observations", lambda *args: False)
        two = fhir_bundle.to_bundle(m, version, bundle_type, **options)
    return calls == [True], one, two


@pytest.mark.parametrize("path", TRACES + GATT, ids=lambda p: p.name)
def test_fused_equals_two_steps(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fused_any = False
    for m in _messages(path):
        for version in ("R4", "R5"):
            for bundle_type in ("collection", "transaction"):
                for options in OPTIONS:
                    fused, one, two = _both(m, version, bundle_type, dict(options), monkeypatch)
                    fused_any |= fused
                    assert RECORDED.sub(b"", one.json()) == RECORDED.sub(b"", two.json())
                    assert one.issues == two.issues
    if path.name in ("bp-0x02BC.x73", "scale-0x05DC.x73", "pulseox-0x0190.x73", "thermometer-0x0320.x73"):
        assert fused_any  # these readings are the common case the fused build covers


def test_fused_blood_pressure_observation() -> None:
    """The fused build's output for the blood-pressure example, element by element (PHD IG order)."""
    m = decode((ROOT / "examples" / "x73" / "bp-0x02BC.x73").read_bytes())
    bp = next(e["resource"] for e in fhir_bundle.to_bundle(m, "R4", "transaction").as_dict()["entry"]
              if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "150020")
    assert list(bp) == ["resourceType", "id", "status", "code", "effectiveDateTime", "component", "device", "meta",
                        "category", "identifier"]
    assert bp["meta"]["profile"] == [phd.PROFILE_BASE + "PhdCompoundNumericObservation"]
    assert [c["code"] for c in bp["code"]["coding"]] == ["150020", "85354-9"]
    assert [[x["code"] for x in c["code"]["coding"]] for c in bp["component"]] == [
        ["150021", "8480-6"], ["150022", "8462-4"], ["150023", "8478-0"]]
    assert [c["coding"][0]["code"] for c in bp["category"]] == ["vital-signs", "phd"]
    assert bp["identifier"][0]["system"] == phd.IDENTIFIER_SYSTEM
    assert re.fullmatch(r"[0-9A-F]{16}-150020-\d+", bp["identifier"][0]["value"])
