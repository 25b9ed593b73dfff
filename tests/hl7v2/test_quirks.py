"""Vendor tolerance as data: quirk profiles (codecs/hl7v2/quirks/*.toml) chosen by name, detected from
MSH-3/MSH-21, or the default; every deviation tolerated recorded with the quirk's and the profile's name."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from interop.codecs.hl7v2 import datatypes as dt
from interop.codecs.hl7v2 import quirks

from interop import decode
from interop.errors import DecodeError

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "data" / "hl7v2"
LEGACY = (b"MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|Q1|P|2.5.1\n"
          b"PID|||1^^^H^MR\n"
          b"OBR|1|P1|F1|2345-7^Glucose^LN|||20240102030000123+0100\n"
          b"OBX|1|NM|2345-7^Glucose^LN||5.4|^mg/dL|||||F|||20240102030000123\n"
          b"OBX|2|CWE|5778-6^Color^LN||371244009^Yellow^SNOMED-CT||||||F\n")


def _quirk_issues(msg):
    return [(i.code, i.location, i.severity) for i in msg.issues if "(quirk " in i.message]


def test_shipped_profiles_load_on_top_of_default():
    assert quirks.names() == ["bbraun-intellibridge", "continua-wan", "default", "ge-carescape", "legacy-lab",
                              "pcd-without-msh21", "philips-intellivue"]
    default = quirks.load("default")
    for name in quirks.names():
        p = quirks.load(name)
        assert set(default.quirks) <= set(p.quirks), name  # every profile starts from the default
        assert all(q.finding or q.name in quirks.KINDS for q in p.quirks.values())
    assert quirks.load("continua-wan").detect == {"msh21": ("IHE PCD ORU-R01 2006*",)}


def test_eui64_spellings_are_data():
    """datatypes.is_eui64_type reads the default profile's spellings (no list in code)."""
    assert {"EUI64", "EUI- 64", "eui-64"} <= quirks.load("default").spellings
    assert dt.is_eui64_type("EUI- 64") and dt.is_eui64_type("eui64") and not dt.is_eui64_type("EUI-48")


def test_legacy_lab_without_and_with_the_profile():
    plain = decode(LEGACY)
    glucose, color = plain.metrics
    assert (glucose.value.quantity.unit, glucose.value.quantity.unit_text) == (None, "mg/dL")
    assert glucose.effective is None  # OBX-14 and OBR-7 unreadable
    assert [(i.code, i.location) for i in plain.issues if i.code == "hl7v2.bad-dtm"] == [
        ("hl7v2.bad-dtm", "OBR[1]-7"), ("hl7v2.bad-dtm", "OBX[1]-14")]
    assert color.value.concept.codings[0].system is None
    with quirks.use("legacy-lab"):
        msg = decode(LEGACY)
    glucose, color = msg.metrics
    assert (glucose.value.quantity.value, glucose.value.quantity.unit) == (Decimal("5.4"), "mg/dL")
    plus1 = timezone(timedelta(hours=1))
    assert msg.orders[0].observed.value == datetime(2024, 1, 2, 3, 0, 0, 123000, tzinfo=plus1)
    assert (glucose.effective.value, glucose.effective.precision) == (datetime(2024, 1, 2, 3, 0, 0, 123000),
                                                                       "millisecond")
    assert color.value.concept.codings[0].system == "http://snomed.info/sct"
    assert _quirk_issues(msg) == [
        ("hl7v2.line-ends", "message", "info"),
        ("hl7v2.quirk.dotless-timestamp", "OBR[1]-7", "info"),
        ("hl7v2.quirk.units-in-component-2", "OBX[1]-6", "info"),
        ("hl7v2.quirk.dotless-timestamp", "OBX[1]-14", "info"),
        ("hl7v2.quirk.coding-system-alias", "OBX[2]-5", "info")]
    assert not [i for i in msg.issues if i.code == "hl7v2.bad-dtm"]
    unit = next(i for i in msg.issues if i.code == "hl7v2.quirk.units-in-component-2")
    assert unit.message == ("OBX-6 '^mg/dL' has no identifier; its text 'mg/dL' read as the unit (quirk "
                            "'units-in-component-2' of profile 'legacy-lab': accept)")


def test_detected_from_msh3_bbraun():
    msg = decode(DATA / "pcd04-bbraun-intellibridge-start.hl7")
    assert _quirk_issues(msg) == [("hl7v2.quirk.eui64-type-spelling", "MSH-3", "info"),
                                  ("hl7v2.quirk.eui64-type-spelling", "OBR[1]-3", "info")]
    assert msg.issues[0].message == ("MSH-3 spells the EUI-64 type 'EUI64' (quirk 'eui64-type-spelling' of profile "
                                     "'bbraun-intellibridge': accept)")
    assert msg.alarms and msg.gateway.identifiers[0].value == "0012211839000001"  # read as before


def test_msh21_missing_assumes_the_profile():
    text = (DATA / "pcd04-bbraun-intellibridge-start.hl7").read_bytes().split(b"\r", 1)
    head = text[0].rsplit(b"|", 1)[0] + b"|"  # MSH-21 removed
    plain = decode(head + b"\r" + text[1])
    assert plain.profiles == ()
    with quirks.use("pcd-without-msh21"):
        msg = decode(head + b"\r" + text[1])
    assert msg.profiles == ("IHE_PCD_001",)
    assert ("hl7v2.quirk.msh21-missing", "MSH-21", "warning") in _quirk_issues(msg)


def test_detected_from_msh21_continua():
    msg = decode(DATA / "phd-continua-scale-pcd01.hl7")
    assert _quirk_issues(msg) == [("hl7v2.quirk.eui64-type-spelling", "MSH-3", "info"),
                                  ("hl7v2.quirk.eui64-type-spelling", "OBR[1]-3", "info"),
                                  ("hl7v2.quirk.eui64-type-in-namespace", "OBX[2]-18", "info")]
    assert all("of profile 'continua-wan'" in i.message for i in msg.issues if "(quirk " in i.message)
    (device,) = [d for d in msg.devices if d.identifiers]
    assert device.identifiers[0].value == "0123456789ABCDEF"


def test_chosen_profile_wins_over_detection_and_names_each_finding():
    plain = decode(TESTS / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7")
    lead = next(i for i in plain.issues if i.code == "hl7v2.leading-space" and i.location == "MSH-3")
    assert "(quirk" not in lead.message  # the default profile leaves this finding as it is
    with quirks.use("philips-intellivue"):
        msg = decode(TESTS / "hl7v2" / "data" / "pocd-philips-intellivue-pcd01.hl7")
    named = {(i.code, i.location): i for i in msg.issues if "(quirk " in i.message}
    assert named[("hl7v2.charset-mismatch", "MSH-18")].severity == "info"  # default says warn; Philips accepts
    assert named[("hl7v2.line-ends", "message")].message.endswith(
        "(quirk 'segment-terminator' of profile 'philips-intellivue': accept)")
    assert named[("hl7v2.leading-space", "MSH-3")].severity == "info"


def test_reject_refuses_the_shape(tmp_path):
    strict = tmp_path / "strict-site.toml"
    strict.write_text('name = "strict-site"\n[quirks.segment-terminator]\nfinding = "hl7v2.line-ends"\n'
                      'action = "reject"\n[quirks.eui64-type-spelling]\naction = "reject"\n')
    with quirks.use(str(strict)), pytest.raises(DecodeError) as err:
        decode(LEGACY)
    assert err.value.position == "message" and "quirk 'segment-terminator' of profile 'strict-site': reject" in str(
        err.value)
    with quirks.use(str(strict)), pytest.raises(DecodeError) as err:
        decode((DATA / "pcd04-bbraun-intellibridge-start.hl7").read_bytes())
    assert err.value.position == "MSH-3" and "'EUI64'" in str(err.value)


def test_bad_profile_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[quirks.made-up]\naction = "accept"\n')
    with pytest.raises(DecodeError, match="neither a known shape nor tied to a finding"):
        quirks.load(str(bad))
    worse = tmp_path / "worse.toml"
    worse.write_text('[quirks.segment-terminator]\nfinding = "hl7v2.line-ends"\naction = "ignore"\n')
    with pytest.raises(DecodeError, match="accept, warn or reject"):
        quirks.load(str(worse))
    with pytest.raises(DecodeError, match="no quirk profile 'nope'"):
        quirks.load("nope")


def test_profiles_do_not_share_decoder_memos():
    """A row read under one profile is not replayed under another (the decoder's memos are per profile)."""
    assert decode(LEGACY).metrics[0].value.quantity.unit is None
    with quirks.use("legacy-lab"):
        assert decode(LEGACY).metrics[0].value.quantity.unit == "mg/dL"
    assert decode(LEGACY).metrics[0].value.quantity.unit is None


@pytest.mark.parametrize("fast", [True, False])
def test_cli_quirks_option(tmp_path, fast):
    src = tmp_path / "legacy.hl7"
    src.write_bytes(LEGACY)
    extra = [] if fast else ["--pretty", "--to", "fhir-r5"]  # both reach the same option either way
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(src), "--quirks", "legacy-lab",
                        "--report", *extra], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "[hl7v2.quirk.units-in-component-2]" in r.stderr and '"unit":"mg/dL"' in r.stdout.replace(" ", "")
    bad = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(src), "--quirks", "nope"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("interop translate: --quirks: no quirk profile 'nope'")
    assert len(bad.stderr.splitlines()) == 1


def test_validate_takes_quirks(tmp_path):
    src = tmp_path / "legacy.hl7"
    src.write_bytes(LEGACY)
    r = subprocess.run([sys.executable, "-m", "interop.cli.main", "validate", str(src), "--quirks", "nope"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no quirk profile 'nope'" in r.stderr
    import json

    def fhir_findings(*extra: str) -> list[str]:
        r = subprocess.run([sys.executable, "-m", "interop.cli.main", "validate", str(src), "--profile", "fhir-r4",
                            "--report", "json", *extra], capture_output=True, text=True, timeout=60)
        assert r.returncode in (0, 1), r.stderr
        return [f["assertion"] for res in json.loads(r.stdout)["results"] for f in res["findings"]]

    # the Observation of '^mg/dL' and a dot-less time: without the profile its quantity has no UCUM unit
    assert fhir_findings() == ["FHIR-OBS-004"]
    assert fhir_findings("--quirks", "legacy-lab") == []


def test_strict_mode_tolerates_what_the_chosen_profile_accepts():
    """--strict --quirks legacy-lab: LF line ends (accepted by the profile) do not raise; anything else still does."""
    with pytest.raises(DecodeError) as err:
        decode(LEGACY, strict=True)
    assert err.value.position == "message"  # LF line ends
    with quirks.use("legacy-lab"):
        msg = decode(LEGACY, strict=True)
        assert msg.metrics[0].value.quantity.unit == "mg/dL"
        with pytest.raises(DecodeError) as err:
            decode(LEGACY.replace(b"|5.4|", b"|5,4|"), strict=True)
        assert err.value.position == "OBX[1]-5"


def test_site_profiles_from_the_environment_are_detected_by_msh4(tmp_path, monkeypatch):
    """A site's own profile in an INTEROP_HL7V2_QUIRKS folder, detected from MSH-4."""
    (tmp_path / "site-west.toml").write_text(
        'name = "site-west"\ndescription = "the west wing monitors"\n[detect]\nmsh4 = ["ICU-WEST*"]\n'
        '[quirks.units-in-component-2]\naction = "warn"\n')
    monkeypatch.setenv(quirks.ENV, str(tmp_path))
    assert "site-west" in quirks.names()
    west = LEGACY.replace(b"|LAB|H|", b"|LAB|ICU-WEST-2|", 1)
    msg = decode(west)
    assert msg.metrics[0].value.quantity.unit == "mg/dL"
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.quirk.units-in-component-2"]
    assert issue.severity == "warning" and issue.message.endswith("(quirk 'units-in-component-2' of profile "
                                                                  "'site-west': warn)")
    assert decode(LEGACY).metrics[0].value.quantity.unit is None  # another MSH-4: the default profile
    monkeypatch.delenv(quirks.ENV)
    assert decode(west).metrics[0].value.quantity.unit is None  # the folder is gone: no detection
