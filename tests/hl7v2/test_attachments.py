"""OBX ED (encapsulated data) and RP (reference pointer) → AttachmentValue → R5 valueAttachment / R4
DocumentReference (v2-to-FHIR IG OBX → DocumentReference), with decoding errors as positioned findings."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from interop.mappings.hl7v2.encode import encode

from interop import decode, to_fhir
from interop.errors import DecodeError

DATA = Path(__file__).resolve().parents[1] / "data" / "hl7v2"
HEAD = ("MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|A1|P|2.5.1\rPID|||1^^^H^MR\r"
        "OBR|1|P1|F1|11502-2^Laboratory report^LN|||20240102030000+0100\r")
PDF = b"%PDF-1.4\n"


def _msg(*values: str, vtype: str = "ED", strict: bool = False):
    rows = "".join(f"OBX|{n}|{vtype}|18842-5^Discharge summary^LN||{v}||||||F|||20240102030000+0100\r"
                   for n, v in enumerate(values, 1))
    return decode((HEAD + rows).encode(), strict=strict)


def test_base64_pdf_decoded_with_mime_type():
    (m,) = _msg("^application^pdf^Base64^JVBERi0xLjQK").metrics
    v = m.value
    assert (v.kind, v.content_type, v.data, v.encoding) == ("attachment", "application/pdf", PDF, "Base64")
    assert (v.data_type, v.subtype, v.application, v.url) == ("application", "pdf", None, None)


@pytest.mark.parametrize(("ed", "mime", "data"), [
    ("MYAPP^AP^PDF^Base64^JVBERi0xLjQK", "application/pdf", PDF),  # HL7 table 0191 type + table 0291 subtype
    ("^IM^JPEG^Hex^FFD8FFE0", "image/jpeg", b"\xff\xd8\xff\xe0"),
    ("^TEXT^^A^Hello \\E\\ world \\T\\ more", "text/plain", b"Hello \\ world & more"),  # escapes resolved
    ("^application^pdf^Base64^JVBE\\.br\\Ri0x\\X0D0A\\LjQK", "application/pdf", PDF),  # a wrapped payload
    ("^NS^Octet-stream^base64^AAEC", "application/octet-stream", b"\x00\x01\x02"),  # encoding in lower case
    ("^application^pdf^Base64^JVBERi0xLjQ", "application/pdf", PDF[:8]),  # unpadded: tolerated
])
def test_encodings_and_types(ed, mime, data):
    msg = _msg(ed)
    (m,) = msg.metrics
    assert (m.value.content_type, m.value.data) == (mime, data)
    assert not [i for i in msg.issues if i.code.startswith("hl7v2.ed")]


@pytest.mark.parametrize(("ed", "what"), [
    ("^application^pdf^Base64^JVBE*Ri0x", "character '*' outside the Base64 alphabet at character 5"),
    ("^application^pdf^Base64^JVBER", "5 Base64 characters do not make whole octets (truncated?) at character 5"),
    ("^application^pdf^Base64^JV==Ri0x", "data after '=' padding at character 5"),
    ("^IM^JPEG^Hex^FFD8F", "an odd number of hexadecimal digits at character 5"),
    ("^IM^JPEG^Hex^FFZ8", "character 'Z' is no hexadecimal digit at character 3"),
])
def test_bad_payload_is_a_positioned_finding_not_a_crash(ed, what):
    msg = _msg(ed)
    (m,) = msg.metrics
    assert (m.value, m.data_absent_reason) == (None, "error")
    (issue,) = [i for i in msg.issues if i.code == "hl7v2.ed-bad-data"]
    assert (issue.location, issue.severity) == ("OBX[1]-5", "warning")
    assert what in issue.message
    obs = next(r for r in to_fhir(msg, "R5").resources if r["resourceType"] == "Observation")
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "error" and "valueAttachment" not in obs


def test_bad_payload_in_strict_mode_raises_decode_error_with_position():
    with pytest.raises(DecodeError) as err:
        _msg("^application^pdf^Base64^JVBE*Ri0x", strict=True)
    assert err.value.position == "OBX[1]-5" and "character 5" in str(err.value)


def test_unknown_encoding_and_unnamed_type_reported():
    msg = _msg("^application^pdf^UU^abc", "^XX^YY^A^text")
    first, second = msg.metrics
    assert (first.value, first.data_absent_reason) == (None, "error")
    assert second.value.content_type is None and second.value.data == b"text"
    codes = [(i.location, i.code) for i in msg.issues if i.code.startswith(("hl7v2.ed", "hl7v2.attach"))]
    assert codes == [("OBX[1]-5", "hl7v2.ed-encoding"), ("OBX[2]-5", "hl7v2.attachment-type")]


def test_reference_pointer_absolute_and_relative():
    msg = _msg("http://example.org/r/1.pdf^^AP^PDF", "docs/2.pdf^PACS&http://pacs.example.org/&URI^IM^JPEG",
               vtype="RP")
    first, second = msg.metrics
    assert (first.value.url, first.value.content_type, first.value.data) == (
        "http://example.org/r/1.pdf", "application/pdf", None)
    assert (second.value.url, second.value.application, second.value.content_type) == (
        "http://pacs.example.org/docs/2.pdf", "PACS", "image/jpeg")


def test_r5_value_attachment():
    bundle = to_fhir(_msg("^application^pdf^Base64^JVBERi0xLjQK"), "R5")
    obs = next(r for r in bundle.resources if r["resourceType"] == "Observation")
    assert obs["valueAttachment"] == {
        "contentType": "application/pdf", "data": "JVBERi0xLjQK", "size": 9,
        "hash": base64.b64encode(hashlib.sha1(PDF).digest()).decode(), "title": "Discharge summary"}
    assert not [r for r in bundle.resources if r["resourceType"] == "DocumentReference"]
    bundle.to_model()


def test_r4_document_reference_derived_from():
    bundle = to_fhir(_msg("^application^pdf^Base64^JVBERi0xLjQK"), "R4")
    by_url = {e["fullUrl"]: e["resource"] for e in bundle.data["entry"]}
    obs = next(r for r in bundle.resources if r["resourceType"] == "Observation")
    assert "valueAttachment" not in obs and "dataAbsentReason" not in obs
    (ref,) = obs["derivedFrom"]
    doc = by_url[ref["reference"]]
    assert doc["resourceType"] == "DocumentReference" and doc["status"] == "current"
    assert doc["type"]["coding"][0] == {"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}
    assert doc["date"] == "2024-01-02T03:00:00+01:00"
    assert doc["subject"] == obs["subject"]
    assert doc["content"] == [{"attachment": {"contentType": "application/pdf", "data": "JVBERi0xLjQK", "size": 9,
                                              "hash": "lWB7AtSKeGy3hol9cnEU/HmBSx4=",
                                              "title": "Discharge summary"}}]
    (report,) = [r for r in bundle.resources if r["resourceType"] == "DiagnosticReport"]
    assert report["result"] == [{"reference": next(u for u, r in by_url.items() if r is obs)}]
    bundle.to_model()


def test_hash_is_sha1_of_the_octets():  # the value `openssl sha1 -binary | base64` gives
    assert base64.b64encode(hashlib.sha1(PDF).digest()).decode() == "lWB7AtSKeGy3hol9cnEU/HmBSx4="


def test_encoder_round_trip_keeps_the_octets():
    first = _msg("^application^pdf^Base64^JVBERi0xLjQK", "^IM^JPEG^Hex^FFD8FFE0")
    second = decode(encode(first))
    assert [(m.value.content_type, m.value.data) for m in second.metrics] == [
        ("application/pdf", PDF), ("image/jpeg", b"\xff\xd8\xff\xe0")]


def test_public_oul_r22_thumbnails_and_slide_pointer():
    """microsoft/FHIR-Converter OUL^R22 sample (tests/data/hl7v2/SOURCES.md): 3 ED JPEGs and 1 RP."""
    msg = decode(DATA / "msfc-OUL-R22-01.hl7")
    by = {m.source.location: m.value for m in msg.metrics}
    assert by["OBX[4]"].url == ("http://172.16.237.4/CaseCenter/index.php?ContainerType=CaseView&ContainerID=0"
                                "&SlideID=40bcbe96bcbf8cda8b07403263b92cb4")
    assert (by["OBX[4]"].data_type, by["OBX[4]"].subtype, by["OBX[4]"].content_type) == ("IM", "MRXS", None)
    for loc in ("OBX[5]", "OBX[6]", "OBX[7]"):
        assert (by[loc].content_type, by[loc].data) == ("image/jpeg", b"This is a Base64 string")
    assert by["OBX[3]"] is None  # `OBX||ED|||App5^NS^Octet-stream^Base64|`: no data
    assert ("OBX[3]-5", "hl7v2.missing-field") in [(i.location, i.code) for i in msg.issues]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.text(min_size=0, max_size=40), encoding=st.sampled_from(["Base64", "Hex", "A", "base64", "X", ""]),
       vtype=st.sampled_from(["ED", "RP"]))
def test_any_payload_gives_a_value_or_a_finding(payload, encoding, vtype):
    """Unicode digits, escapes, delimiters: an ED/RP payload never raises anything but DecodeError, and what
    is not read is a finding at OBX[1]-5."""
    value = f"^application^pdf^{encoding}^{payload}" if vtype == "ED" else f"{payload}^^AP^PDF"
    try:
        msg = _msg(value.replace("\r", " ").replace("\n", " "), vtype=vtype)
    except DecodeError:
        return
    for m in msg.metrics:
        if m.value is None and m.data_absent_reason == "error":
            assert any(i.location.startswith("OBX[1]") for i in msg.issues)
    to_fhir(msg, "R5").json()
    to_fhir(msg, "R4").json()


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_two_attachment_rows_of_one_code_and_time_stay_two(version):
    """Two ED/RP rows with the same OBX-3 and no time of their own: two Observations, and in R4 two
    DocumentReferences with distinct ids (bdl-7; the suite-wide check would fail this test otherwise)."""
    msg = _msg("http://example.org/r/1.pdf^^AP^PDF", "http://example.org/r/2.pdf^^AP^PDF", vtype="RP")
    bundle = to_fhir(msg, version, bundle_type="transaction")
    urls = [e["fullUrl"] for e in bundle.data["entry"]]
    assert len(urls) == len(set(urls))
    docs = [r for r in bundle.resources if r["resourceType"] == "DocumentReference"]
    if version == "R4":
        assert [d["content"][0]["attachment"]["url"] for d in docs] == ["http://example.org/r/1.pdf",
                                                                         "http://example.org/r/2.pdf"]
    else:
        assert docs == [] and [o["valueAttachment"]["url"] for o in bundle.resources
                               if o["resourceType"] == "Observation"] == ["http://example.org/r/1.pdf",
                                                                          "http://example.org/r/2.pdf"]
    assert not [i for i in bundle.issues if i.code == "fhir.bdl-7"]
    bundle.to_model()
