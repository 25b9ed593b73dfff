"""Vendor capability files: schema errors point at the line; claims are held against what inputs exercise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from interop.conformance.hl7v2.cases import build
from interop.conformance.runner import run
from interop.conformance.vendor import load

from interop.errors import ConformanceError

CLAIM = """\
vendor: ACME Medical
product: ACME ICU Gateway
product_version: "3.1"
standards: [hl7v2, ihe-pcd-01, ihe-pcd-04]
versions: [2.6]
message_types: ["ORU^R01^ORU_R01", "ORU^R40^ORU_R40"]
devices:
  - specialization: MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS
mdc_codes: [150456, MDC_PULS_OXIM_PULS_RATE, 150021, 150022, 150023, 150364, MDC_RESP_RATE]
units: [MDC_DIM_PERCENT, "/min", 266016, 268192, 264928]
"""


@pytest.fixture()
def vendor_file(tmp_path: Path) -> Path:
    p = tmp_path / "acme.yaml"
    p.write_text(CLAIM)
    return p


def test_claims_against_exercised(tmp_path: Path, vendor_file: Path):
    (tmp_path / "m.hl7").write_bytes(build("pcd01-vitals"))
    report = run([tmp_path / "m.hl7"], "ihe-pcd-01", load(vendor_file))
    v = report.vendor.to_dict()
    a = v["aspects"]
    assert a["standards"]["claimed_not_exercised"] == ["ihe-pcd-04"]
    assert a["message_types"]["claimed_not_exercised"] == ["ORU^R40^ORU_R40"]
    assert a["versions"] == {"claimed": ["2.6"], "exercised": ["2.6"], "claimed_not_exercised": [],
                             "exercised_not_claimed": []}
    # VMD rows of the example are exercised but only the MDS was claimed
    assert "69642" in a["devices"]["exercised_not_claimed"]
    # codes claimed by number or by reference id are compared as codes
    assert a["mdc_codes"]["exercised_not_claimed"] == [] and a["mdc_codes"]["claimed_not_exercised"] == []
    assert a["units"]["exercised_not_claimed"] == [] and "264864" in a["units"]["claimed"]  # "/min" is UCUM
    assert report.vendor.errors == 0  # nothing exercised outside the claimed standards/versions/types
    ids = {f.assertion for f in report.vendor.findings}
    assert ids == {"VENDOR-NOT-EXERCISED", "VENDOR-NOT-CLAIMED"}


def test_exercised_but_not_claimed_is_an_error(tmp_path: Path, vendor_file: Path):
    (tmp_path / "m.hl7").write_bytes(build({"base": "pcd01-vitals", "set": {"MSH[1].12": "2.5"}}))
    report = run([tmp_path / "m.hl7"], "hl7v2", load(vendor_file))
    msgs = [f.message for f in report.vendor.findings if f.severity == "error"]
    assert msgs == ["versions: 2.5 is exercised by the inputs but not claimed"]
    assert report.exit_code == 1


@pytest.mark.parametrize(("text", "where"), [
    ("vendor: A\nproduct: B\nversions: [2.6]\nstandard: [hl7v2]\n", ":4: standard: Extra inputs"),
    ("vendor: A\nproduct: B\nstandards:\n  - hl7v2\n  - hl7v9\n", ":5: standards.1: Value error, unknown"),
    ("vendor: A\nproduct: B\ndevices:\n  - configuration: 400\n", ":4: devices.0.specialization: Field required"),
    ("vendor: A\nproduct: [B\n", "not valid YAML"),
])
def test_schema_errors_name_file_and_line(tmp_path: Path, text: str, where: str):
    p = tmp_path / "v.yaml"
    p.write_text(text)
    with pytest.raises(ConformanceError) as e:
        load(p)
    assert str(e.value).startswith(str(p)) and where in str(e.value), str(e.value)


def test_cli_vendor_report_and_bad_vendor_file(tmp_path: Path, vendor_file: Path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "m.hl7").write_bytes(build("pcd01-vitals"))
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "conformance", "run", str(d), "--vendor",
                        str(vendor_file), "--report", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["vendor"]["product"] == "ACME ICU Gateway"
    assert doc["vendor"]["aspects"]["standards"]["claimed_not_exercised"] == ["ihe-pcd-04"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("vendor: A\nproduct: B\nunits: {x: 1}\n")
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "validate", str(d), "--vendor", str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and ":3: units" in r.stderr, r.stderr
