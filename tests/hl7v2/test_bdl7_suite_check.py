"""The suite-wide bdl-7 check (tests/conftest.py) catches a Bundle with a repeated fullUrl or conditional
create wherever a test makes it, and fails that test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from interop import decode, to_fhir

HERE = Path(__file__).resolve().parent
MSG = (HERE.parent / "data/hl7v2/msfc-OUL-R22-01.hl7").read_bytes()

INNER = '''
import pytest
from interop import decode, to_fhir
from interop.mappings.fhir import bundle as fhir_bundle

MSG = open(r"{path}", "rb").read()


def _twice(monkeypatch):
    real = fhir_bundle.unique_entries
    monkeypatch.setattr(fhir_bundle, "unique_entries", lambda entries, ctx: entries)  # the mapping's own guard off
    original = fhir_bundle._builders()

    def duplicate(message, ctx):
        first = ctx.entries[0]
        ctx.entries.append(dict(first))

    monkeypatch.setattr(fhir_bundle, "_builders", lambda: [*original, duplicate])
    return real


def test_crafted_duplicate_fails(monkeypatch):
    _twice(monkeypatch)
    to_fhir(decode(MSG), "R4")


@pytest.mark.allow_duplicate_entries
def test_crafted_duplicate_allowed_when_marked(monkeypatch):
    _twice(monkeypatch)
    to_fhir(decode(MSG), "R4")


def test_clean_bundle_passes():
    to_fhir(decode(MSG), "R4", bundle_type="transaction")
'''


def test_the_check_fails_a_test_that_makes_a_duplicate(tmp_path: Path) -> None:
    shutil.copy(HERE.parent / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(INNER.replace("{path}", str(HERE.parent / "data/hl7v2/msfc-OUL-R22-01.hl7")))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                          "-W", "ignore", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = run.stdout
    assert "1 failed, 2 passed" in out, out[-2000:]
    assert "FAILED test_inner.py::test_crafted_duplicate_fails" in out
    assert "breaks bdl-7: bdl-7: fullUrl urn:uuid:" in out


def test_duplicates_found_in_plain_data() -> None:
    from interop.mappings.fhir.bundle import entry_duplicates as bundle_duplicates

    entry = {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Device", "id": "1"},
             "request": {"method": "POST", "url": "Device", "ifNoneExist": "identifier=s|v"}}
    other = {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Device", "id": "2"},
             "request": {"method": "POST", "url": "Device", "ifNoneExist": "identifier=s|v"}}
    assert bundle_duplicates({"entry": [entry, entry]}) == ["bdl-7: fullUrl urn:uuid:1 repeated",
                                                            "conditional create Device?identifier=s|v repeated"]
    assert bundle_duplicates({"entry": [entry, other]}) == ["conditional create Device?identifier=s|v repeated"]
    assert bundle_duplicates({"entry": [entry]}) == []


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_lab_bundles_pass_the_check(version: str) -> None:
    bundle = to_fhir(decode(MSG), version, bundle_type="transaction")
    from interop.mappings.fhir.bundle import entry_duplicates as bundle_duplicates

    assert bundle_duplicates(bundle.data) == []


CHILD = '''
import sys
from interop import decode, to_fhir
from interop.errors import MappingError
from interop.mappings.fhir import bundle as fhir_bundle

original = fhir_bundle._builders()
fhir_bundle.unique_entries = lambda entries, ctx: entries  # the mapping's own guard off


def duplicate(message, ctx):
    ctx.entries.append(dict(ctx.entries[0]))


fhir_bundle._builders = lambda: [*original, duplicate]
try:
    to_fhir(decode(open(sys.argv[1], "rb").read()), "R4")
except MappingError as exc:
    print("MappingError:", exc)
else:
    print("no error")
'''


def test_processes_the_suite_starts_check_their_own_bundles(tmp_path: Path) -> None:
    """The suite sets INTEROP_CHECK_UNIQUE_ENTRIES=1 for the processes it starts (CLI, servers): a Bundle that
    breaks bdl-7 there is a MappingError (exit 2, a dead letter) that the test sees; without it, nothing."""
    import os

    assert os.environ.get("INTEROP_CHECK_UNIQUE_ENTRIES") == "1"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = str(HERE.parent / "data/hl7v2/msfc-OUL-R22-01.hl7")
    checked = subprocess.run([sys.executable, str(script), path], capture_output=True, text=True, timeout=120)
    assert checked.stdout.startswith("MappingError: INTEROP_CHECK_UNIQUE_ENTRIES: the Bundle breaks bdl-7: fullUrl "
                                     "urn:uuid:"), checked.stdout + checked.stderr
    env = {k: v for k, v in os.environ.items() if k != "INTEROP_CHECK_UNIQUE_ENTRIES"}
    unchecked = subprocess.run([sys.executable, str(script), path], capture_output=True, text=True, timeout=120,
                               env=env)
    assert unchecked.stdout.strip() == "no error", unchecked.stdout + unchecked.stderr


def test_to_model_and_validate_refuse_a_repeated_conditional_create() -> None:
    """`Bundle.to_model()` (behind `--validate`) refuses a transaction whose two entries POST one resource
    with one ifNoneExist, even under two fullUrls (bdl-7 alone would not see it)."""
    import copy

    vitals = (HERE.parents[1] / "examples/hl7v2/pcd01-vitals.hl7").read_bytes()
    bundle = to_fhir(decode(vitals), "R4", bundle_type="transaction")
    bundle.to_model()
    first = next(e for e in bundle.data["entry"] if e.get("request", {}).get("ifNoneExist"))
    twin = copy.deepcopy(first)
    twin["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    bundle.data["entry"].append(twin)
    key = f"{first['request']['url']}?{first['request']['ifNoneExist']}"
    with pytest.raises(ValueError, match=f"^conditional create {key.replace('|', '[|]').replace('?', '[?]')} repeated"):
        bundle.to_model()
