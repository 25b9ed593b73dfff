"""Every OBX value type a lab or device sends, pinned: what the canonical model and FHIR make of it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from interop import decode, to_fhir

HEAD = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|V1|P|2.5.1\rPID|||1^^^H^MR\r"
        "OBR|1|P1|F1|24331-1^Lipid panel^LN|||20240102030000+0100\r")
ROWS = [  # OBX-2, OBX-3, OBX-5, OBX-6
    ("NM", "2345-7^Glucose^LN", "5.40", "mmol/L^mmol/L^UCUM"),
    ("ST", "1^a^L", "hello \\T\\ bye", ""),
    ("TX", "2^b^L", "line one~line two", ""),
    ("FT", "3^c^L", "bold \\H\\text\\N\\", ""),
    ("CWE", "4^d^L", "260373001^Detected^SCT", ""),
    ("CE", "5^e^L", "POS^Positive^L", ""),
    ("SN", "6^f^L", ">^200", "mg/dL^mg/dL^UCUM"),
    ("SN", "7^g^L", "^1^:^128", ""),
    ("SN", "8^h^L", "^10^-^20", "%^%^UCUM"),
    ("SN", "9^i^L", "<=^0.5", "ng/mL^ng/mL^UCUM"),
    ("DT", "10^j^L", "20240101", ""),
    ("DTM", "11^k^L", "202401020304+0100", ""),
    ("TM", "12^l^L", "1230", ""),
    ("NA", "13^m^L", "1^2^3", ""),
    ("ED", "14^n^L", "^application^pdf^Base64^SGVsbG8=", ""),
]
MESSAGE = HEAD + "".join(f"OBX|{n}|{t}|{c}||{v}|{u}|||||F\r" for n, (t, c, v, u) in enumerate(ROWS, 1))


def _metrics():
    msg = decode(MESSAGE.encode())
    return msg, {m.code.codings[0].code: m for m in msg.metrics}


def test_canonical_values():
    msg, by = _metrics()
    q = by["2345-7"].value.quantity
    assert (q.value, q.unit) == (Decimal("5.40"), "mmol/L") and str(q.value) == "5.40"
    assert by["1"].value.text == "hello & bye"
    assert by["2"].value.text == "line one\nline two"
    assert by["3"].value.text == "bold text"  # FT highlighting escapes dropped, text kept
    assert by["4"].value.concept.codings[0].system == "http://snomed.info/sct"
    assert by["5"].value.concept.codings[0].code == "POS"
    assert (by["6"].value.quantity.comparator, by["6"].value.quantity.value) == (">", Decimal("200"))
    r = by["7"].value
    assert (r.kind, r.numerator.value, r.denominator.value) == ("ratio", Decimal(1), Decimal(128))
    rg = by["8"].value
    assert (rg.kind, rg.low.value, rg.high.value, rg.low.unit) == ("range", Decimal(10), Decimal(20), "%")
    assert by["9"].value.quantity.comparator == "<="
    assert (by["10"].value.timestamp.precision, by["10"].value.timestamp.raw) == ("day", "20240101")
    assert by["11"].value.timestamp.precision == "minute" and by["11"].value.timestamp.has_zone
    assert (by["12"].value.kind, by["12"].value.text) == ("time", "12:30")  # a time of day, not the year 1230
    assert by["13"].value.samples == (Decimal(1), Decimal(2), Decimal(3))
    ed = by["14"].value  # ED: the decoded octets and their MIME type (tests/hl7v2/test_attachments.py)
    assert (ed.kind, ed.content_type, ed.data) == ("attachment", "application/pdf", b"Hello")
    assert not [i for i in msg.issues if i.location.startswith("OBX[15]")]


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_fhir_values(version):
    msg, _ = _metrics()
    bundle = to_fhir(msg, version)
    obs = {o["code"]["coding"][0]["code"]: o for o in bundle.resources if o["resourceType"] == "Observation"}
    assert obs["2345-7"]["valueQuantity"]["value"] == Decimal("5.40")
    assert obs["6"]["valueQuantity"]["comparator"] == ">"
    assert obs["7"]["valueRatio"]["denominator"]["value"] == 128
    assert obs["8"]["valueRange"]["high"]["value"] == 20
    assert obs["10"]["valueDateTime"] == "2024-01-01"
    assert obs["11"]["valueDateTime"] == "2024-01-02T03:04:00+01:00"
    assert obs["12"]["valueTime"] == "12:30:00"  # v2-to-FHIR IG: TM -> valueTime (hh:mm:ss)
    assert "valueSampledData" in obs["13"]
    if version == "R5":
        assert obs["14"]["valueAttachment"]["data"] == "SGVsbG8="
    else:
        assert obs["14"]["derivedFrom"][0]["reference"].startswith("urn:uuid:")
    (report,) = [r for r in bundle.resources if r["resourceType"] == "DiagnosticReport"]
    assert len(report["result"]) == len(ROWS)
    bundle.to_model()
