"""The pytest plugin: `pytest --interop-conformance DIR --interop-profile P` gives one item per input x
assertion, JUnit XML and -k for free; without the option it collects nothing of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from interop.conformance.hl7v2.cases import build


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_items_per_input_and_assertion_junit_and_k(tmp_path: Path):
    inputs = tmp_path / "vendor"
    inputs.mkdir()
    (inputs / "good.hl7").write_bytes(build("pcd01-vitals"))
    (inputs / "bad.hl7").write_bytes(build({"base": "pcd01-vitals", "set": {"OBX[1].18": "XYZ^^XYZ^EUI-64"}}))
    (inputs / "README.md").write_text("not an input")
    r = pytest_run(tmp_path, "--interop-conformance", str(inputs), "--interop-profile", "ihe-pcd-01", "-q",
                   f"--junitxml={tmp_path / 'j.xml'}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED vendor/bad.hl7::PCD01-OBX-018" in r.stdout
    assert "1 failed, 137 passed" in r.stdout
    root = ET.parse(tmp_path / "j.xml").getroot()
    cases = root.iter("testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("vendor.good.hl7", "PCD01-OBX-018") in names and ("vendor.bad.hl7", "HL7V2-STR-003") in names
    r = pytest_run(tmp_path, "--interop-conformance", str(inputs), "--interop-profile", "ihe-pcd-01", "-q",
                   "-k", "good and OBX-018")
    assert r.returncode == 0 and "1 passed, 137 deselected" in r.stdout, r.stdout


def test_without_the_option_nothing_is_collected_from_data_files(tmp_path: Path):
    (tmp_path / "msg.hl7").write_bytes(build("pcd01-vitals"))
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    r = pytest_run(tmp_path, "-q")
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout
