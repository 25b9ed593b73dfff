"""An OBX-3 code with a tab or repeated spaces, end to end: over MLLP into the real FHIR server (Medplum's
engine with resource validation, tests/fhirserver). FHIR's code type is [^\\s]+(\\s[^\\s]+)*; the raw code
makes the server answer 400 (shown first, so the test proves something), the mapping writes it with
single spaces and records a `fhir.code-whitespace` issue."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from fhirserver import FhirServer

from interop.pipeline import decode, to_fhir
from interop.transport.forward import RetryPolicy
from interop.transport.mllp.client import MllpClient
from interop.transport.mllp.server import MllpConfig
from interop.transport.mllp.service import MllpService

T = "20240101120000+0000"
MESSAGE = (f"MSH|^~\\&|MON|ICU|INTEROP|HOSP|{T}||ORU^R01^ORU_R01|WS1|P|2.6\r"
           "PID|1||P0001^^^HOSP^MR||Test^Patient\r"
           f"OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{T}\r"
           f"OBX|1|NM|HR\t1^Heart rate^99LOC|1.0.0.1|61|/min^^UCUM|||||R|||{T}\r"
           f"OBX|2|NM|RR  2^Resp rate^99LOC|1.0.0.2|13|/min^^UCUM|||||R|||{T}\r").encode()


def _post(base: str, bundle: bytes) -> int:
    req = urllib.request.Request(base, data=bundle, method="POST",
                                 headers={"Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (loopback test server)
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_obx3_code_with_tab_and_double_space_reaches_the_fhir_server(tmp_path: Path) -> None:
    out = to_fhir(decode(MESSAGE), "R4", bundle_type="transaction")
    issues = [(i.code, i.location) for i in out.issues if i.code == "fhir.code-whitespace"]
    assert issues == [("fhir.code-whitespace", "OBX[1]"), ("fhir.code-whitespace", "OBX[2]")]
    bundle = out.json()
    codes = sorted(e["resource"]["code"]["coding"][0]["code"] for e in json.loads(bundle)["entry"]
                   if e["resource"]["resourceType"] == "Observation")
    assert codes == ["HR 1", "RR 2"]
    raw = bundle.replace(b'"HR 1"', b'"HR\\t1"').replace(b'"RR 2"', b'"RR  2"')
    assert raw != bundle
    with FhirServer(validate=True) as fhir:
        assert _post(fhir.base, raw) == 400  # what the code was written as before: refused
        assert fhir.count("Observation") == 0
        svc = MllpService(MllpConfig(port=0), store_dir=tmp_path / "store", forward_url=fhir.base,
                          retry=RetryPolicy(initial=0.05, maximum=0.2, jitter=0.0))
        port = svc.start()
        try:
            with MllpClient("127.0.0.1", port, timeout=10) as client:
                (result,) = list(client.send_all([MESSAGE], 1))
            assert result.code == "AA" and result.acked_id == "WS1"
            assert svc.engine.drain(30)
            assert svc.store.counts() == {"done": 1}
        finally:
            svc.stop()
        got = {o["code"]["coding"][0]["code"]: o["valueQuantity"]["value"] for o in fhir.search("Observation")}
        assert got == {"HR 1": 61, "RR 2": 13}
        assert [o["id"] for o in fhir.search("Observation", {"code": "HR 1"})]  # searchable by the clean code


UNIT_MESSAGE = (f"MSH|^~\\&|MON|ICU|INTEROP|HOSP|{T}||ORU^R01^ORU_R01|WS2|P|2.6\r"
                "PID|1||P0001^^^HOSP^MR||Test^Patient\r"
                f"OBR|1|||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|||{T}\r"
                f"OBX|1|NM|8867-4^Heart rate^LN|1.0.0.1|61|/min  x\t^per minute^UCUM|||||R|||{T}\r").encode()


def test_obx6_ucum_unit_with_whitespace_is_kept_as_text_and_accepted_by_the_fhir_server() -> None:
    """No UCUM code has whitespace: the unit is kept as Quantity.unit (text) without system/code, with a
    finding at OBX-6; the server accepts the Observation (the raw code in Quantity.code gets 400)."""
    message = decode(UNIT_MESSAGE)
    found = [(i.code, i.location) for i in message.issues if i.code == "hl7v2.unit-whitespace"]
    assert found == [("hl7v2.unit-whitespace", "OBX[1]-6")]
    out = to_fhir(message, "R4", bundle_type="transaction")
    bundle = out.json()
    (obs,) = [e["resource"] for e in json.loads(bundle)["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert obs["valueQuantity"] == {"value": 61, "unit": "/min x"}
    raw = bundle.replace(b'"unit":"/min x"', b'"unit":"/min x","system":"http://unitsofmeasure.org","code":"/min  x\\t"')
    assert raw != bundle
    with FhirServer(validate=True) as fhir:
        assert _post(fhir.base, raw) == 400  # the unit copied into Quantity.code as sent: refused
        assert _post(fhir.base, bundle) == 200
        (stored,) = fhir.search("Observation")
        assert stored["valueQuantity"] == {"value": 61, "unit": "/min x"}
