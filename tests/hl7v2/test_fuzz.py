"""Property tests: arbitrary bytes and mutated valid messages only ever raise DecodeError, and
whatever decodes also maps to FHIR without an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop import decode, to_fhir
from interop.errors import DecodeError
from interop.model import Message

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [
    (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes(),
    (ROOT / "examples" / "hl7v2" / "pcd01-custom-delimiters.hl7").read_bytes(),
    (Path(__file__).parent / "data" / "pocd-philips-intellivue-pcd01.hl7").read_bytes(),
]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _roundtrip(data: bytes, standard: str = "hl7v2", strict: bool = False) -> None:
    try:
        msg = decode(data, standard, strict=strict)
    except DecodeError:
        return
    # the decoder builds models without validation on its hot path (interop.model.trusted): whatever it
    # builds must be exactly what the validating model accepts
    assert Message.model_validate_json(msg.model_dump_json()) == msg
    to_fhir(msg, "R4").json()
    to_fhir(msg, "R5").json()


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data):
    _roundtrip(data)
    _roundtrip(b"MSH|^~\\&|" + data)


@st.composite
def mutated(draw):
    seed = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(len(seed) - 1, 0)))
        if op == "replace" and seed:
            seed[pos] = draw(st.sampled_from(list(b"|^~\\&\r\n.0-9 \"#:xX\x00\xff")))
        elif op == "insert":
            seed[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        elif op == "delete" and seed:
            del seed[pos:pos + draw(st.integers(1, 20))]
        elif op == "truncate":
            del seed[pos:]
    return bytes(seed)


@FUZZ
@given(mutated(), st.booleans())
def test_mutated_messages(data, strict):
    _roundtrip(data, strict=strict)


@FUZZ
@given(st.text(alphabet="|^~\\&#:!$*FSTREX0123456789.ab \r", max_size=200))
def test_escape_and_delimiter_soup(text):
    _roundtrip(("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|ST|1^x^MDC|1.1.1.1|" + text).encode())
