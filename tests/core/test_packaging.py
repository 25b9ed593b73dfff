"""`pip install .` (not editable) gives a working package and console script with the renamed folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(os.environ.get("INTEROP_SKIP_PACKAGING") == "1", reason="explicitly disabled")
def test_non_editable_install(tmp_path):
    target = tmp_path / "target"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--target", str(target), str(ROOT)], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    installed = {p.name for p in (target / "interop").iterdir()}
    assert {"codecs", "mappings", "conformance", "model", "cli", "terminology"} <= installed
    assert (target / "interop" / "terminology" / "data" / "mdc_terms.csv").exists()
    env = dict(os.environ, PYTHONPATH=str(target))
    code = ("import interop, interop.codecs.hl7v2.codec, interop.mappings.fhir.bundle;"
            "assert interop.__file__.startswith({!r}), interop.__file__;"
            "from interop import decode, to_fhir;"
            "b = to_fhir(decode({!r}), 'R5');"
            "print(len(b.resources))").format(str(target), str(ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert int(r.stdout) > 10
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "--help"], capture_output=True, timeout=60,
                       env=env, cwd=tmp_path)
    assert r.returncode == 0 and b"translate" in r.stdout
