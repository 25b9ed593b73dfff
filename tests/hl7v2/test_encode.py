"""Canonical → IHE PCD-01 ORU^R01 (`--to hl7v2`): what we encode decodes back to the same metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop.mappings.hl7v2.encode import dtm, encode, escape

from interop import decode, translate

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7",
    ROOT / "tests" / "data" / "hl7v2" / "phd-continua-bpm-pcd01.hl7",
    ROOT / "tests" / "data" / "hl7v2" / "phd-continua-scale-pcd01.hl7",
    ROOT / "tests" / "hl7v2" / "data" / "msfc-ORU-R01-01.hl7",
    *sorted((ROOT / "examples" / "x73").glob("*.x73")),
    ROOT / "examples" / "dicom" / "sr_ct_radiation_dose.dcm",
    ROOT / "examples" / "dicom" / "ecg_12lead.dcm",
]


def _values(msg):
    """What a receiver of the metrics sees: code, value (as text), unit, time and status."""
    out = []
    for m in msg.metrics:
        v = m.value
        if v is None:
            value = (None, None)
        elif v.kind == "numeric":
            value = (str(v.quantity.value), v.quantity.unit or v.quantity.unit_text)
        elif v.kind == "compound":
            value = tuple((c.code.codings[0].code, str(c.quantity.value) if c.quantity else None)
                          for c in v.components), None
        elif v.kind == "coded":
            value = (v.concept.codings[0].code if v.concept.codings else v.concept.text, None)
        elif v.kind == "string":
            value = (v.text, None)
        elif v.kind == "datetime":
            value = (v.timestamp.value, None)
        else:
            value = (v.kind, None)
        t = m.effective
        out.append((m.code.codings[0].code if m.code.codings else m.code.text, value,
                    (t.value, t.precision) if t is not None else None, [c.code for c in m.interpretation]))
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_round_trip(path):
    first = decode(path.read_bytes())
    data = encode(first)
    second = decode(data, "hl7v2", strict=False)
    assert second.message_type == "ORU^R01^ORU_R01" and second.version == "2.6"
    assert second.profiles == ("IHE_PCD_001",)
    assert _values(second) == _values(first)
    assert not [i for i in second.issues if i.severity != "info"], second.issues
    if first.patient is not None and first.patient.identifiers:
        assert second.patient.identifiers[0].value == first.patient.identifiers[0].value
    eui = [i.value for d in first.devices for i in d.identifiers if i.type == "EUI-64"]
    assert [i.value for d in second.devices for i in d.identifiers if i.type == "EUI-64"][:len(eui)] == eui


def test_20601_device_feeds_a_v2_system_through_the_registry():
    msg = decode((ROOT / "examples" / "x73" / "bp-0x02BC.x73").read_bytes())
    out = translate(msg, "hl7v2")
    text = bytes(out).decode()
    assert text.startswith("MSH|^~\\&|") and "|ORU^R01^ORU_R01|" in text
    assert "MDC_PRESS_BLD_NONINV_SYS" in text
    assert out.json() == bytes(out)


def test_escape_and_times():
    assert escape("a|b^c&d~e\\f") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
    ts = decode(b"MSH|^~\\&|A|B|C|D|20240102030405.123+0130||ORU^R01|1|P|2.6\r").sent
    assert dtm(ts) == "20240102030405.123+0130"
    day = decode(b"MSH|^~\\&|A|B|C|D|20240102||ORU^R01|1|P|2.6\r").sent
    assert dtm(day) == "20240102"
