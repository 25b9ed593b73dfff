"""20601 against an independent stack: Signove's Antidote (tests/peers/antidote, LGPL-2.1, built by `.ci/run`).

* Each Antidote sample agent (pulse oximeter, blood pressure, weighing scale, glucometer) against
  `interop serve x73` run as a command, with agents and gateway in America/New_York: every reading is
  stored once, at the instant it was taken, with subject and the GatewayDevice extension.
* Each `interop simulate x73-*` device against Antidote's manager (`ieee_manager --tcp`), which prints
  the values it decoded: they are the values the simulator sent.

Antidote's agents draw their values from glibc's unseeded `random()` (seed 1: 1804289383, 846930886,
1681692777, 1714636915, 1957747793, ...), so the values are the same in every run; their time stamps are
the agent's local wall clock (no zone).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEROP = [sys.executable, "-m", "interop.cli.main"]
ZONE = "America/New_York"
PHG_SYSTEM_ID = "02-11-22-33-44-55-66-77"  # serve x73 --system-id: the manager's own identity, the PhgDevice
AGENT_SYSTEM_ID = "11-33-55-77-99-BB-DD-FF"  # every Antidote sample agent


def antidote_dir() -> Path:
    """Where `.ci/run` builds Antidote ($ANTIDOTE_DIR, else ~/.cache/iomt-interop/antidote)."""
    return Path(os.environ.get("ANTIDOTE_DIR") or Path.home() / ".cache" / "iomt-interop" / "antidote")


@pytest.fixture(scope="module")
def antidote() -> Path:
    where = antidote_dir()
    if not (where / "ieee_agent").exists() or not (where / "ieee_manager").exists():
        message = (f"Antidote is not built in {where}: run tests/peers/antidote/build.sh {where} "
                   "(Debian deps listed in the script) or .ci/run")
        if os.environ.get("ANTIDOTE_DIR") or os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing peer is a failure, never a skip
        pytest.skip(message)
    return where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, seconds: float = 15.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


# ------------------------------------------------------------------ Antidote agents -> interop serve x73

SENSORS = ("pulseoximeter", "bloodpressure", "weightscale", "glucometer")
# What each agent measures (MDC code -> UCUM, values in report order), from its unseeded random() draws
EXPECTED = {
    "pulseoximeter": {"150456": ("%", [96.5, 95.5, 95.5]), "149530": ("/min", [63.5, 77.5, 73.5])},
    "bloodpressure": {"150020": ("mm[Hg]", [(123, 76, 97), (133, 85, 96), (119, 71, 92)]),
                      "149546": ("/min", [85, 72, 67])},
    # 3 readings sent in one report: weight, BMI (handle 3, undeclared in config 0x05DC), then both again
    "weightscale": {"188736": ("kg", [73.2])},
    "glucometer": {"160184": ("mg/dL", [13.2, 16.2, 27.2])},
}


@pytest.fixture(scope="module")
def served(antidote: Path, tmp_path_factory) -> dict:
    store = tmp_path_factory.mktemp("x73-antidote")
    port = _free_port()
    env = {**os.environ, "TZ": ZONE}
    server = subprocess.Popen([*INTEROP, "serve", "x73", "--port", str(port), "--store", str(store),
                               "--patient", "p-1", "--idle-timeout", "20", "--system-id", PHG_SYSTEM_ID],
                              env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        _wait_port(port, server)
        before = datetime.now(UTC)
        agents = {s: subprocess.Popen([str(antidote / "ieee_agent"), f"--sensor={s}"],
                                      env={**env, "ANTIDOTE_PORT": str(port)}, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True) for s in SENSORS}
        logs = {s: a.communicate(timeout=60)[1] for s, a in agents.items()}
        after = datetime.now(UTC)
        fhir = store / "fhir"
        end = time.monotonic() + 10
        while len(list(fhir.glob("*.json"))) < len(SENSORS) and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=15)
    bundles = [json.loads(p.read_text()) for p in sorted(fhir.glob("*.json"))]
    return {"bundles": bundles, "before": before, "after": after, "logs": logs}


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _readings(bundle: dict) -> dict[str, tuple[str, list]]:
    out: dict[str, tuple[str, list]] = {}
    for o in _resources(bundle, "Observation"):
        code = o["code"]["coding"][0]["code"]
        if code == "67975":  # coincident time stamp
            continue
        if "component" in o and code == "150020":
            unit = o["component"][0]["valueQuantity"]["code"]
            value = tuple(c["valueQuantity"]["value"] for c in o["component"])
        else:
            unit, value = o["valueQuantity"]["code"], o["valueQuantity"]["value"]
        out.setdefault(code, (unit, []))[1].append(value)
    return out


def _bundle_of(served: dict, code: str) -> dict:
    return next(b for b in served["bundles"] if code in _readings(b))


def test_every_antidote_agent_reading_is_stored_once(served: dict) -> None:
    assert len(served["bundles"]) == len(SENSORS)  # one Bundle per association
    for sensor, expected in EXPECTED.items():
        bundle = _bundle_of(served, next(iter(expected)))
        assert _readings(bundle) == {code: (unit, values) for code, (unit, values) in expected.items()}, sensor
        idents = [o["identifier"][0]["value"] for o in _resources(bundle, "Observation") if "identifier" in o]
        assert len(idents) == len(set(idents))  # stored once: no two entries with one conditional-create key


def test_readings_at_the_right_instant_in_the_gateway_zone(served: dict) -> None:
    # agents and gateway in New York (UTC-5 in December, UTC-4 in summer); the agents' local wall-clock
    # times are placed in that zone, so each reading's instant lies within the test's run
    for bundle in served["bundles"]:
        for o in _resources(bundle, "Observation"):
            text = o["effectiveDateTime"]
            assert re.search(r"-0[45]:00$", text), text
            instant = datetime.fromisoformat(text)
            assert served["before"].replace(microsecond=0) <= instant.astimezone(UTC) <= served["after"], text


def test_subject_gateway_device_and_provenance(served: dict) -> None:
    provenance_ids = set()
    for bundle in served["bundles"]:
        devices = _resources(bundle, "Device")
        phg = next(d for d in devices if d["meta"]["profile"][0].endswith("/PhgDevice"))
        phd = next(d for d in devices if d["meta"]["profile"][0].endswith("/PhdDevice"))
        assert phg["identifier"][0]["value"] == PHG_SYSTEM_ID
        assert phd["identifier"][0]["value"] == AGENT_SYSTEM_ID
        urls = {e["resource"]["id"]: e["fullUrl"] for e in bundle["entry"]}
        device_entry = next(e for e in bundle["entry"] if e["resource"] is phd or e["resource"] == phd)
        assert device_entry["request"]["ifNoneExist"] == \
            f"identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|{AGENT_SYSTEM_ID}"  # as written
        for o in _resources(bundle, "Observation"):
            if o["code"]["coding"][0]["code"] == "67975":
                continue
            assert o["subject"] == {"reference": "Patient/p-1"}
            assert {"url": "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice",
                    "valueReference": {"reference": urls[phg["id"]]}} in o["extension"]
        (prov,) = _resources(bundle, "Provenance")
        provenance_ids.add(prov["id"])
    assert len(provenance_ids) == len(served["bundles"])  # one Provenance per association, none overwritten


def test_antidote_quirks_are_reported_not_fatal(served: dict) -> None:
    # glucometer: 2 padding octets after the event-info content are tolerated (its readings are above);
    # weighing scale: handle 3 (BMI) is not in configuration 0x05DC -> roer no-such-object-instance
    assert "E7 00 00 0C 00 0A 00 00 03 00 00 04 00 01 00 00" in served["logs"]["weightscale"]  # roer no-such-object
    gluco = served["logs"]["glucometer"]
    assert "E7 00 00 12 00 10 00 00 02 01 00 0A 00 00" in gluco  # rors: the padded report confirmed


# ------------------------------------------------------------------ interop simulate -> Antidote's manager

# the simulator's readings (interop.codecs.ieee11073.agent.PROFILES): (metric-id, values) per report,
# as Antidote prints them (partition 2 term codes, floats with 6 decimals)
SIMULATED = {
    "x73-bp": [("18948", ["120.000000", "80.000000", "100.000000"]), ("18474", ["60.000000"]),
               ("18948", ["118.000000", "76.000000", "90.000000"]), ("18474", ["72.000000"])],
    "x73-scale": [("57664", ["76.199997"]), ("57664", ["76.000000"])],
    "x73-pulseox": [("19384", ["98.000000"]), ("18458", ["72.000000"]), ("19384", ["97.000000"]),
                    ("18458", ["75.000000"])],
    "x73-thermo": [("19292", ["36.599998"]), ("19292", ["37.200001"])],  # 36.6 and 37.2 Cel as FLOAT
    "x73-glucose": [("29112", ["95.000000"]), ("29112", ["102.000000"])],
}


def _printed_values(log: str) -> list[tuple[str, list[str]]]:
    """(metric-id, [value, ...]) of each Numeric Antidote's manager printed after 'Medical Device Data Updated'."""
    out = []
    for line in log.splitlines():
        if not line.startswith("[{\"meta_data\": [{\"name\": \"HANDLE\""):
            continue
        for obj in json.loads(line):
            entries = obj["compound"]["entries"]
            value = entries[0]
            metric = next(m["value"] for m in value["meta_data"] if m["name"] == "metric-id")
            if "simple" in value:
                out.append((metric, [value["simple"]["value"]]))
            else:
                out.append((metric, [e["simple"]["value"] for e in value["compound"]["entries"]]))
    return out


@pytest.mark.parametrize("profile", SIMULATED)
def test_simulated_device_against_antidote_manager(antidote: Path, profile: str) -> None:
    port = _free_port()
    manager = subprocess.Popen([str(antidote / "ieee_manager"), "--tcp"], env={**os.environ, "ANTIDOTE_PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)  # Antidote accepts one connection per loop; probing the port would use one up
        run = subprocess.run([*INTEROP, "simulate", profile, "--port", str(port), "--timeout", "5"],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        assert "2 report(s) confirmed, released" in run.stderr
    finally:
        manager.send_signal(signal.SIGTERM)
        log = manager.communicate(timeout=10)[1]
    assert "Medical Device System Associated" in log
    assert _printed_values(log) == SIMULATED[profile]
