"""Property tests: arbitrary bytes and mutated valid messages only ever raise DecodeError, and
whatever decodes also maps to FHIR without an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interop import decode, to_fhir
from interop.errors import DecodeError
from interop.model import from_json, to_json

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [
    (ROOT / "examples" / "hl7v2" / "pcd01-vitals.hl7").read_bytes(),
    (ROOT / "examples" / "hl7v2" / "pcd01-custom-delimiters.hl7").read_bytes(),
    (Path(__file__).parent / "data" / "pocd-philips-intellivue-pcd01.hl7").read_bytes(),
    *(p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "hl7v2").glob("p[ch]d*-*.hl7"))),
    # lab shapes: SPM (before and after its OBR), ED Base64 and RP values, an FHS/BHS batch of one
    (ROOT / "tests" / "data" / "hl7v2" / "msfc-OUL-R22-01.hl7").read_bytes(),
    (ROOT / "tests" / "data" / "hl7v2" / "cdc-reportstream-elr-covid-ag.hl7").read_bytes(),
    b"MSH|^~\\&|LAB|H|R|H|20240102030405+0100||ORU^R01^ORU_R01|F1|P|2.5.1\rPID|||1^^^H^MR\r"
    b"OBR|1|P1|F1|11502-2^Report^LN|||20240102030000123+0100\r"
    b"OBX|1|ED|18842-5^Summary^LN||^application^pdf^Base64^JVBERi0xLjQK||||||F\r"
    b"OBX|2|NM|2345-7^Glucose^LN||5.4|^mg/dL|||||F|||20240102030000123\r"
    b"SPM|1|S1&L^S1F&F||119297000^Blood^SCT|||||||P^Patient^HL70369|5^mL&&UCUM|||||202401020200^202401020215|"
    b"202401020250||N\r",
]
# digits that str.isdigit()/int()/Decimal() accept but no HL7 field may carry, and other Unicode
# (superscripts, Arabic-Indic and fullwidth digits, mathematical digits, separators, combining marks)
UNICODE = ["²", "³", "¹", "١", "٢", "۳", "０", "９", "𝟗", "߂", "\u2028", "\u00a0", "é", "\u0301", "Ⅻ", "½", "\ufeff"]
UNICODE_BYTES = [u.encode("utf-8") for u in UNICODE] + [u.encode("latin-1") for u in ("²", "é", "½")]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _roundtrip(data: bytes, standard: str = "hl7v2", strict: bool = False) -> None:
    try:
        msg = decode(data, standard, strict=strict)
    except DecodeError:
        return
    # model objects are built without validation (msgspec Structs): whatever the decoder builds must be
    # exactly what the validating JSON decode accepts, and read back equal
    assert from_json(to_json(msg)) == msg
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
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "unicode"]))
        pos = draw(st.integers(0, max(len(seed) - 1, 0)))
        if op == "replace" and seed:
            seed[pos] = draw(st.sampled_from(list(b"|^~\\&\r\n.0-9 \"#:xX\x00\xff")))
        elif op == "insert":
            seed[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        elif op == "delete" and seed:
            del seed[pos:pos + draw(st.integers(1, 20))]
        elif op == "unicode":  # a non-ASCII digit or other Unicode where a digit or a delimiter was
            seed[pos:pos + draw(st.integers(0, 1))] = draw(st.sampled_from(UNICODE_BYTES))
        elif op == "truncate":
            del seed[pos:]
    return bytes(seed)


@FUZZ
@given(mutated(), st.booleans())
def test_mutated_messages(data, strict):
    _roundtrip(data, strict=strict)


@FUZZ
@given(st.text(alphabet="|^~\\&#:!$*FSTREX0123456789.ab \r" + "".join(UNICODE), max_size=200))
def test_escape_and_delimiter_soup(text):
    _roundtrip(("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|ST|1^x^MDC|1.1.1.1|" + text).encode())


DIGIT_FIELDS = [
    "MSH|^~\\&|A|B|C|D|{x}||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.1.1.1|98|%|||||F",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBR|{x}|||X\rOBX|1|NM|150456^X^MDC|1.1.1.1|98|%",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|{x}^X^MDC|1.1.1.1|98|%",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.{x}.1.1|98|%",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.1.1.1|{x}|%",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.1.1.1|98|{x}^X^MDC",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|SN|150456^X^MDC|1.1.1.1|>^{x}|%",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.1.1.1|98|%|{x}-5",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NM|150456^X^MDC|1.1.1.1|98|%||||||||{x}",
    "MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.6\rOBX|1|NA|150456^X^MDC|1.1.1.1.{x}|1^{x}^3|%",
]


@FUZZ
@given(st.sampled_from(DIGIT_FIELDS), st.text(alphabet="0123456789" + "".join(UNICODE), min_size=1, max_size=8),
       st.booleans())
def test_non_ascii_digits_in_numeric_fields(template, digits, strict):
    """Every field read as a number, time or code with non-ASCII digits in it: only DecodeError escapes,
    and a tolerant decode never reads such a field as a number."""
    data = template.format(x=digits).encode("utf-8")
    _roundtrip(data, strict=strict)
    if not strict and not digits.isascii():
        msg = decode(data, "hl7v2")
        for m in msg.metrics:
            if m.value is not None and m.value.kind == "numeric":
                assert str(m.value.quantity.value).isascii()


@FUZZ
@given(mutated(), st.sampled_from(["legacy-lab", "philips-intellivue", "continua-wan", "pcd-without-msh21"]))
def test_mutated_messages_under_quirk_profiles(data, profile):
    """The quirk readings (dot-less fractions, units in OBX-6.2, aliases, EUI-64 shapes) on mutated input:
    only DecodeError escapes."""
    from interop.codecs.hl7v2 import quirks

    with quirks.use(profile):
        _roundtrip(data)
