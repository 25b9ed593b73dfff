"""Codecs and mappings are found through entry points; a third party plugs in without touching the core."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from interop.registry import codec_names, get_codec, mapping_names

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_codecs_and_mappings_registered():
    assert {"hl7v2", "ieee11073", "bluetooth-gatt", "dicom"} <= set(codec_names())
    assert {"fhir-r4", "fhir-r5", "canonical"} <= set(mapping_names())
    assert get_codec("hl7v2").standard == "hl7v2"


def test_third_party_codec_found_through_entry_points(tmp_path):
    """A package installed beside the project (a real dist-info with entry_points.txt) adds a codec
    that detection, decode and the CLI then use."""
    site = tmp_path / "site"
    pkg = site / "acme_codec"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from interop.model import Message, Metric, CodeableConcept, Coding, NumericValue, Quantity
        from decimal import Decimal

        class AcmeCodec:
            name = "acme"
            standard = "hl7v2"

            def sniff(self, head):
                return 90 if head.startswith(b"ACME ") else 0

            def decode(self, data, *, strict=False, source=None):
                value = Decimal(data.split()[1].decode())
                code = CodeableConcept(codings=(Coding(system="urn:iso:std:iso:11073:10101", code="150456"),))
                return Message(standard="hl7v2", metrics=(Metric(code=code, value=NumericValue(
                    quantity=Quantity(value=value, unit="%"))),))
    '''))
    dist = site / "acme_codec-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-codec\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[interop.codecs]\nacme = acme_codec:AcmeCodec\n")
    msg = tmp_path / "reading.acme"
    msg.write_bytes(b"ACME 97.5\n")
    code = (f"import sys; sys.path.insert(0, {str(site)!r}); sys.argv = ['interop', 'translate', {str(msg)!r}]\n"
            "from interop.cli.main import run\nrun()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr.decode()
    assert b'"valueQuantity":{"value":97.5,"unit":"%"' in r.stdout
