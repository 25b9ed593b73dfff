"""str.isdigit() is True for superscript digits ('²') that int() refuses: every place that reads a code or a
count as a number checks for ASCII digits first. Found by the mutation fuzz test (an ECG lead code
'131329²' made the FHIR mapping raise ValueError)."""

from __future__ import annotations

import pytest

from interop import decode, to_fhir
from interop.transport.mllp.receiver import inspect_batch

ECG = ("MSH|^~\\&|MON^0123456789ABCDEF^EUI-64|H|||20240101120000+0000||ORU^R01^ORU_R01|7|P|2.6|||NE|AL|||||"
       "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
       "OBR|1|||182777000^monitoring of patient^SCT|||20240101120000+0000\r"
       "OBX|1|NA|{code}^MDC_ECG_ELEC_POTL_I^MDC|1.1.1.1|1^2^3|266418^MDC_DIM_MILLI_VOLT^MDC|||||F|||"
       "20240101120000+0000\r")


@pytest.mark.parametrize("version", ["R4", "R5"])
def test_superscript_digit_in_an_ecg_lead_code_is_not_a_lead(version):
    bundle = to_fhir(decode(ECG.format(code="131329²").encode(), "hl7v2"), version)
    obs = [e["resource"] for e in bundle.data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert [c["code"] for c in obs[0]["code"]["coding"]] == ["131329²"]  # kept as sent, not read as lead I
    assert "component" not in obs[0]
    lead = to_fhir(decode(ECG.format(code="131329").encode(), "hl7v2"), version)  # the real lead I code
    (ecg,) = [e["resource"] for e in lead.data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert ecg["code"]["coding"][0]["code"] == "131328" and ecg["component"][0]["code"]["coding"][0]["code"] == "131329"


def test_batch_count_with_a_superscript_digit_is_not_a_count():
    batch = (b"BHS|^~\\&|GW|H\r" + b"MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\r" + "BTS|1²\r".encode())
    verdict = inspect_batch(batch, "127.0.0.1:1")
    assert verdict.header is not None and verdict.header.declared is None
    assert [v.code for v in verdict.verdicts] == ["AA"] and verdict.comment == ""


@pytest.mark.parametrize("profile", ["ihe-pcd-01", "hl7v2", "fhir-r4"])
def test_validator_reads_superscript_codes_as_codes_not_numbers(profile):
    from interop.conformance.profiles import select
    from interop.conformance.runner import check_bytes

    data = ECG.format(code="131329²").encode()
    if profile == "fhir-r4":  # the FHIR checks read MDC codings of a Bundle
        data = to_fhir(decode(data, "hl7v2"), "R4").json()
    results = check_bytes(data, "ecg.hl7", select(profile))  # reported, never a ValueError
    assert results and results[0].checked > 0
    if profile != "hl7v2":
        assert any("131329²" in f.message for r in results for f in r.findings)
