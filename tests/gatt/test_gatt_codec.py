"""GATT characteristic values → canonical metrics: exact codes, units, values, times, status."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from interop.codecs.ieee11073.gatt.codec import BTMAC_SYSTEM, GattCodec

from interop.errors import DecodeError
from interop.model import EUI64_SYSTEM, Message, Metric

DATA = Path(__file__).parent / "data"
CODEC = GattCodec()


def decode(text: str, strict: bool = True) -> Message:
    return CODEC.decode(text.encode(), strict=strict)


def num(m: Metric) -> tuple[str, Decimal, str]:
    assert m.value is not None and m.value.kind == "numeric"
    return m.code.codings[0].code, m.value.quantity.value, m.value.quantity.unit


# --- PLX: SpeziBluetooth vectors (tests/gatt/data/SOURCES.md) --------------------------------------


def test_plx_continuous_full() -> None:
    # SpeziBluetooth PLXTests.swift: SpO2 99, PR 97, fast 97/137, slow 98/69, status ongoing+fullyQualified, PAI 8.9
    msg = CODEC.decode((DATA / "gatt_plx_continuous_full.hex").read_bytes(), strict=True)
    assert msg.standard == "bluetooth-gatt" and msg.message_type == "plx_continuous_measurement"
    m = msg.metrics
    assert [num(x) for x in m[:7]] == [
        ("150456", Decimal("99.0"), "%"), ("149530", Decimal("97.0"), "/min"),
        ("150456", Decimal("97.0"), "%"), ("149530", Decimal("137.0"), "/min"),
        ("150456", Decimal("98.0"), "%"), ("149530", Decimal("69.0"), "/min"),
        ("150448", Decimal("8.90"), "%"),
    ]
    assert [x.method.codings[0].code if x.method else None for x in m[:6]] == [
        None, None, "150580", "150580", "150584", "150584"]
    assert m[0].measurement_status == ("msmt-ongoing", "fully-qualified-data")
    assert m[0].value.quantity.unit_mdc.code == "262688"
    assert m[1].value.quantity.unit_mdc.code == "264864"
    assert m[7].code.codings[0].code == "150604" and m[7].value.value == 0
    assert all(x.effective is None and x.device_key == "1" for x in m)
    assert m[0].source.location == "line 5 0x2A5F.spo2"


@pytest.mark.parametrize(("name", "spo2", "pr"), [
    ("gatt_plx_continuous_min.hex", "100.0", "90.0"),  # SpeziBluetooth: exponent -1 form
    ("gatt_plx_continuous_min_exp0.hex", "100", "90"),  # SpeziBluetooth: exponent 0 form
])
def test_plx_continuous_min(name: str, spo2: str, pr: str) -> None:
    m = CODEC.decode((DATA / name).read_bytes(), strict=True).metrics
    assert [num(x) for x in m] == [("150456", Decimal(spo2), "%"), ("149530", Decimal(pr), "/min")]


def test_plx_spot_check_full() -> None:
    # SpeziBluetooth: SpO2 94, PR 147, 2024-11-29T23:08:57, ongoing+questionable, equipmentMalfunction+lowPerfusion
    msg = CODEC.decode((DATA / "gatt_plx_spotcheck_full.hex").read_bytes(), strict=True)
    spo2, pr, pai, dev = msg.metrics
    assert num(spo2) == ("150456", Decimal("94.0"), "%") and num(pr) == ("149530", Decimal("147.0"), "/min")
    assert num(pai) == ("150448", Decimal("8.70"), "%")
    assert spo2.method.codings[0].display == "MDC_MODALITY_SPOT"
    assert spo2.effective.value == datetime(2024, 11, 29, 23, 8, 57)
    assert spo2.effective.precision == "second" and not spo2.effective.has_zone
    assert spo2.effective.raw == "E8070B1D170839"
    assert spo2.measurement_status == ("msmt-ongoing", "questionable")
    # GATT bit 1 (equipment malfunction) = MDER bit 14, bit 5 (low perfusion) = MDER bit 10 (PHD IG 150604.x)
    assert dev.code.codings[0].code == "150604"
    assert (dev.value.value, dev.value.set_names) == (0x0022, ("signal-low-perfusion", "device-equipment-malfunction"))
    assert msg.devices[0].specializations[0].codings[0].code == "528388"


# --- Blood pressure (vectors built from the GSS 0x2A35 field definitions) -----------------------------

BP = """# characteristic: blood_pressure_measurement
# device: 00:1C:05:FF:E8:74
# manufacturer: ACME
# model: BP-1
# serial: 1234
# firmware: 1.0.2
1e 78 00 50 00 5d 00 e8 07 0b 1d 17 08 39 48 00 01 0c 00
"""


def test_blood_pressure_full() -> None:
    # flags 0x1E: mmHg, time stamp, pulse rate, user id, status; 120/80/93 mmHg, 72 bpm, user 1,
    # status 0x000C = irregular pulse (bit 2) + pulse rate range 1 "exceeds upper limit" (bits 3-4)
    msg = decode(BP)
    bp, pulse, status = msg.metrics
    assert bp.code.codings[0].code == "150020" and bp.value.kind == "compound"
    assert [(c.code.codings[0].code, c.quantity.value, c.quantity.unit, c.quantity.unit_mdc.code)
            for c in bp.value.components] == [
        ("150021", Decimal(120), "mm[Hg]", "266016"), ("150022", Decimal(80), "mm[Hg]", "266016"),
        ("150023", Decimal(93), "mm[Hg]", "266016")]
    assert num(pulse) == ("149546", Decimal(72), "/min")
    assert bp.effective.value == datetime(2024, 11, 29, 23, 8, 57)
    assert bp.person_id == pulse.person_id == 1
    assert bp.measurement_status == ("irregular-pulse", "pulse-over-range-limit")
    assert status.code.codings[0].code == "8410608"
    assert (status.value.value, status.value.width) == (0x3000, 16)  # MDER bits 2 and 3
    device = msg.devices[0]
    assert device.identifiers[0].value == "001C05FFE874"
    assert device.identifiers[0].system == BTMAC_SYSTEM and device.identifiers[0].type == "BTMAC"
    assert (device.manufacturer, device.model) == ("ACME", "BP-1")
    assert [(p.kind, p.value) for p in device.production_specs] == [("serial-number", "1234"), ("fw-revision", "1.0.2")]
    assert device.type.codings[0].code == "65573" and device.specializations[0].codings[0].code == "528391"


def test_blood_pressure_kpa_and_special_values() -> None:
    # flags 0x01 (kPa): systolic 16.0 kPa (F0A0), diastolic 10.6 kPa (F06A), MAP NaN (07FF)
    bp, = decode("# characteristic: 2A35\n01 a0 f0 6a f0 ff 07\n").metrics
    sys_, dia, mean = bp.value.components
    assert (sys_.quantity.value, sys_.quantity.unit, sys_.quantity.unit_mdc.code) == (Decimal("16.0"), "kPa", "265987")
    assert dia.quantity.value == Decimal("10.6")
    assert (mean.quantity, mean.data_absent_reason) == (None, "not-a-number")


def test_intermediate_cuff_pressure() -> None:
    cuff, = decode("# characteristic: 0x2A36\n00 8c 00 ff 07 ff 07\n").metrics
    assert num(cuff) == ("150300", Decimal(140), "mm[Hg]")
    assert cuff.measurement_status == ("msmt-ongoing",)


# --- Thermometer ----------------------------------------------------------------------------------


def test_temperature_with_type_field() -> None:
    # flags 0x06: Celsius, time stamp, type 6 (mouth); FLOAT 36.6 = mantissa 366, exponent -1 -> FF00016E
    t, = decode("# characteristic: 2A1C\n06 6e 01 00 ff e8 07 01 02 03 04 05 06\n").metrics
    assert num(t) == ("188424", Decimal("36.6"), "Cel")
    assert t.value.quantity.unit_mdc.code == "268192"
    assert t.effective.value == datetime(2024, 1, 2, 3, 4, 5)


def test_temperature_type_characteristic_then_fahrenheit() -> None:
    # 0x2A1D type 9 (tympanum), then 0x2A1C flags 0x01 (Fahrenheit) 98.6 F without a type field
    t, = decode("# characteristic: 2A1D\n09\n# characteristic: temperature_measurement\n01 da 03 00 ff\n").metrics
    assert num(t) == ("150392", Decimal("98.6"), "[degF]")
    assert t.value.quantity.unit_mdc.code == "266560"


def test_temperature_default_body() -> None:
    t, = decode("# characteristic: 2A1C\n00 6e 01 00 ff\n").metrics
    assert t.code.codings[0].display == "MDC_TEMP_BODY" and t.code.codings[0].code == "150364"


# --- Weight scale ---------------------------------------------------------------------------------


def test_weight_si_with_bmi_and_height() -> None:
    # flags 0x0C: SI, user id 3, BMI+height; weight 14000 * 0.005 = 70.000 kg, BMI 227 * 0.1, height 1750 * 0.001 m
    w, bmi, h = decode("# characteristic: 2A9D\n0c b0 36 03 e3 00 d6 06\n").metrics
    assert num(w) == ("188736", Decimal("70.000"), "kg") and w.value.quantity.unit_mdc.code == "263875"
    assert num(bmi) == ("188752", Decimal("22.7"), "kg/m2")
    assert num(h) == ("188740", Decimal("1.750"), "m")
    assert w.person_id == bmi.person_id == 3


def test_weight_imperial_unknown_user_and_unsuccessful() -> None:
    # flags 0x05: imperial, user 0xFF ("unknown user"); 15432 * 0.01 = 154.32 lb; then 0xFFFF "unsuccessful"
    w, failed = decode("# characteristic: 2A9D\n05 48 3c ff\n00 ff ff\n").metrics
    assert num(w) == ("188736", Decimal("154.32"), "[lb_av]") and w.person_id is None
    assert (failed.value, failed.data_absent_reason) == (None, "error")


def test_weight_scale_feature_sets_decimals() -> None:
    # 0x2A9E features 0x18: weight resolution 3 (0.1 kg, WSS 3.1); 14000 x 0.005 = 70.000 -> 70.0;
    # 14001 x 0.005 = 70.005 is off that resolution: kept whole, info issue
    msg = decode("# characteristic: 2A9E\n18 00 00 00\n# characteristic: 2A9D\n00 b0 36\n00 b1 36\n")
    assert [num(m) for m in msg.metrics] == [("188736", Decimal("70.0"), "kg"), ("188736", Decimal("70.005"), "kg")]
    assert [i.code for i in msg.issues] == ["gatt.off-resolution"]


def test_body_composition() -> None:
    # 0x2A9C flags 0x0584: user id, soft lean mass, body water mass, weight; body fat 200 x 0.1 % = 20.0 %;
    # masses x 0.005 kg: 7912 -> 39.560, 6000 -> 30.000, 14000 -> 70.000 (IEEE 11073-10420 terms)
    msg = decode("# characteristic: body_composition_measurement\n84 05 c8 00 03 e8 1e 70 17 b0 36\n")
    assert [num(m) for m in msg.metrics] == [
        ("188748", Decimal("20.0"), "%"), ("188760", Decimal("39.560"), "kg"), ("188764", Decimal("30.000"), "kg"),
        ("188736", Decimal("70.000"), "kg")]
    assert {m.person_id for m in msg.metrics} == {3}
    assert msg.devices[0].specializations[0].codings[0].code == "528404"
    failed = decode("# characteristic: 2A9C\n00 00 ff ff\n").metrics[0]  # BCS "Measurement Unsuccessful"
    assert (failed.value, failed.data_absent_reason) == (None, "error")


# --- Glucose --------------------------------------------------------------------------------------


def test_glucose_kg_per_l_to_mg_per_dl() -> None:
    # flags 0x0B: time offset, concentration+type/location, kg/L, sensor status; seq 7;
    # base 2024-03-01 08:00:00, offset +30 min; 92e-5 kg/L (B05C) = 92 mg/dL; type 1 capillary whole blood,
    # location 1 finger; status 0x0001 (battery low) + bit 11 (time fault)
    g, status = decode("# characteristic: 2A18\n0b 07 00 e8 07 03 01 08 00 00 1e 00 5c b0 11 01 08\n").metrics
    assert num(g) == ("160184", Decimal("92"), "mg/dL") and g.value.quantity.unit_mdc.code == "264274"
    assert g.effective.value == datetime(2024, 3, 1, 8, 30)
    assert g.body_site.text == "finger" and g.observation_id == "sequence-number 7"
    assert g.measurement_status == ("device-battery-low", "time-fault")
    assert status.code.codings[0].code == "8417752" and status.value.value == 0x8000


def test_glucose_mol_per_l_to_mmol_per_l() -> None:
    # flags 0x06: mol/L; 5.5e-3 mol/L (C037 = 55 x 10^-4) = 5.5 mmol/L; type 2 capillary plasma, location 2 (AST)
    g, = decode("# characteristic: 2A18\n06 01 00 e8 07 03 01 08 00 00 37 c0 22\n").metrics
    assert num(g) == ("160188", Decimal("5.5"), "mmol/L")
    assert g.body_site.text == "alternate-site-test"


def test_glucose_context_follows_its_measurement() -> None:
    # 0x2A18 seq 7 with context flag (bit 4), then 0x2A34 seq 7, flags 0x5F: carbohydrate breakfast 50e-3 kg
    # (D032), meal 2 postprandial, tester 1 self / health 5 none (0x51), exercise 1800 s at 40 %, medication 1
    # rapid-acting 2e-6 kg (A002), HbA1c 6.5 % (F041); terms from IEEE 11073-10417 (partition 128)
    msg = decode("# characteristic: 2A18\n1a 07 00 e8 07 03 01 08 00 00 5c b0 11 00 00\n"
                 "# characteristic: glucose_measurement_context\n5f 07 00 01 32 d0 02 51 08 07 28 01 02 a0 41 f0\n")
    glucose, _status, carb, meal, tester, health, exercise, medication, hba1c = msg.metrics
    assert glucose.group == carb.group == "glucose sequence-number 7"
    assert num(carb) == ("8417768", Decimal(50), "g")
    assert (meal.code.codings[0].code, meal.value.concept.codings[0].code) == ("8417864", "8417872")
    assert (tester.value.concept.codings[0].display, health.value.concept.codings[0].display) == (
        "MDC_CTXT_GLU_TESTER_SELF", "MDC_CTXT_GLU_HEALTH_NONE")
    assert num(exercise) == ("8417760", Decimal(40), "%")
    assert (exercise.effective.value, exercise.effective_end.value) == (datetime(2024, 3, 1, 8), datetime(2024, 3, 1, 8, 30))
    assert num(medication) == ("8417800", Decimal(2), "mg")
    assert num(hba1c) == ("160220", Decimal("6.5"), "%")
    assert meal.effective == glucose.effective and msg.issues == ()


# --- Heart rate -----------------------------------------------------------------------------------


def test_heart_rate_with_rr_intervals() -> None:
    # flags 0x16: uint8 value, contact supported and detected, RR present; 72 bpm, RR 1024 and 800 (1/1024 s)
    hr, rr1, rr2 = decode("# characteristic: heart_rate_measurement\n16 48 00 04 20 03\n").metrics
    assert num(hr) == ("147842", Decimal(72), "/min") and hr.measurement_status == ()
    assert num(rr1) == ("147240", Decimal(1000), "ms") and num(rr2) == ("147240", Decimal("781.25"), "ms")


def test_heart_rate_uint16_no_contact_energy() -> None:
    # flags 0x0D: uint16, contact supported but not detected, energy expended present (not placed: info issue)
    msg = decode("# characteristic: 2A37\n0d 2c 01 10 00\n")
    assert num(msg.metrics[0]) == ("147842", Decimal(300), "/min")
    assert msg.metrics[0].measurement_status == ("no-sensor-contact",)
    assert [i.code for i in msg.issues] == ["gatt.unplaced-field"]


# --- device identifiers, header forms, sniffing ---------------------------------------------------


def test_device_eui64_and_system_id() -> None:
    d = decode("# characteristic: 2A5F\n# device: 0123456789abcdef\n00 64 00 5a 00\n").devices[0]
    assert (d.identifiers[0].value, d.identifiers[0].system, d.identifiers[0].type) == (
        "0123456789ABCDEF", EUI64_SYSTEM, "EUI-64")
    # DIS System ID 0x2A23 is sent least significant octet first: OUI 00-1C-05 ends the value
    d = decode("# characteristic: 2A5F\n# system-id: 74 E8 FF FE FF 05 1C 00\n00 64 00 5a 00\n").devices[0]
    assert d.identifiers[0].value == "001C05FFFEFFE874"


@pytest.mark.parametrize("header", ["2A5F", "0x2a5f", "plx_continuous_measurement", "PLX Continuous Measurement",
                                   "org.bluetooth.characteristic.plx_continuous_measurement"])
def test_header_forms(header: str) -> None:
    assert decode(f"# characteristic: {header}\n00 64 00 5a 00\n").message_type == "plx_continuous_measurement"


def test_received_time_is_message_sent() -> None:
    from datetime import timedelta, timezone

    msg = decode("# characteristic: 2A5F\n# received: 2024-11-29T23:09:05.250+01:00\n00 64 00 5a 00\n")
    assert msg.sent.value == datetime(2024, 11, 29, 23, 9, 5, 250000, tzinfo=timezone(timedelta(hours=1)))
    assert msg.sent.precision == "millisecond"
    assert decode("# characteristic: 2A5F\n# received: 2024-11-29T23:09:05Z\n00 64 00 5a 00\n").sent.precision == "second"
    assert [i.code for i in decode("# characteristic: 2A5F\n# received: yesterday\n00 64 00 5a 00\n",
                                   strict=False).issues] == ["gatt.bad-received"]


def test_sniff() -> None:
    assert CODEC.sniff((DATA / "gatt_plx_spotcheck_full.hex").read_bytes()) == 90
    assert CODEC.sniff(b"MSH|^~\\&|") == 0
    assert CODEC.sniff(b"e2 00 00 32") == 0
    assert CODEC.sniff(b"\n# a comment\n\n  # characteristic: 2A35\n00\n") == 90  # comments may come first
    assert CODEC.sniff(b"Some prose\n# characteristic: 2A35\n") == 0  # a non-comment line before the header
    assert CODEC.sniff(b"# characteristic\n00\n") == 0  # no header (no colon)


def test_trailing_bytes_are_info() -> None:
    msg = decode("# characteristic: 2A5F\n00 64 00 5a 00 99\n")
    assert [(i.code, i.severity, i.location) for i in msg.issues] == [("gatt.trailing-bytes", "info", "line 2")]


# --- errors: strict raises, tolerant records -------------------------------------------------------


@pytest.mark.parametrize(("text", "code", "value_decodes"), [
    ("# characteristic: 2A35\n1e 78 00\n", "gatt.short-value", False),
    ("# characteristic: 2A35\nzz\n", "gatt.bad-hex", False),
    ("# characteristic: 2A00\n00\n", "gatt.unknown-characteristic", False),
    ("# characteristic: 2A1C\n02 6e 01 00 ff e8 07 0d 01 00 00 00\n", "gatt.time-invalid", True),
    ("# characteristic: 2A18\n01 01 00 0f 27 0c 1f 17 3b 3b ff 7f\n", "gatt.time-invalid", True),  # 9999-12-31 + 32767 min
])
def test_errors(text: str, code: str, value_decodes: bool) -> None:
    with pytest.raises(DecodeError) as info:
        decode(text, strict=True)
    assert info.value.standard == "bluetooth-gatt" and info.value.position.startswith("line ")
    if value_decodes:  # the value is kept, its time stamp is the finding
        assert code in [i.code for i in decode(text, strict=False).issues]
    else:
        with pytest.raises(DecodeError) as info:  # tolerant, but no value decodes: nothing to translate
            decode(text, strict=False)
        assert info.value.position.startswith("line ") and "no characteristic value could be decoded" in str(info.value)
    # tolerant with one decodable value (a PLX Spot-check, SpO2 100 %, PR 90 /min): the problem is an issue
    assert code in [i.code for i in decode(text + GOOD_VALUE, strict=False).issues]


GOOD_VALUE = "# characteristic: 2A5F\n00 64 00 5a 00\n"


def test_text_without_a_decodable_value_is_a_decode_error() -> None:
    # issue 4 QA: a README that mentions '# characteristic:' inside a code block decoded with 44 issues
    readme = (Path(__file__).parents[2] / "examples" / "gatt" / "README.md").read_bytes()
    assert CODEC.sniff(readme) == 0  # prose before the header: not a GATT input
    with pytest.raises(DecodeError) as info:  # even when the codec is forced (--from bluetooth-gatt)
        CODEC.decode(readme, source="README.md")
    assert info.value.source == "README.md" and info.value.position == "line 3"
    with pytest.raises(DecodeError, match="no characteristic value"):
        decode("# characteristic: 2A35\n# device: 00:1C:05:FF:E8:74\n", strict=False)  # header, no values


def test_no_header_and_not_text() -> None:
    with pytest.raises(DecodeError, match="characteristic"):
        CODEC.decode(b"00 64 00 5a 00\n")
    with pytest.raises(DecodeError, match="UTF-8"):
        CODEC.decode(b"# characteristic: 2A5F\n\xff\xfe")


def test_pipeline_detects_gatt() -> None:
    from interop import decode as pipeline_decode
    from interop.detect import detect

    raw = (DATA / "gatt_plx_continuous_simple.hex").read_bytes()
    assert detect(raw) == "bluetooth-gatt"
    msg = pipeline_decode(raw)
    assert msg.standard == "bluetooth-gatt" and msg.raw.length == len(raw)


def test_detection_does_not_import_construct() -> None:
    """Registered codec modules import heavy libraries lazily (detection imports every codec module)."""
    import subprocess
    import sys
    import tempfile

    code = ("import sys; from interop.codecs.ieee11073.gatt.codec import GattCodec; "
            "GattCodec().sniff(b'# characteristic: 2A35'); print('construct' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=tempfile.gettempdir())  # not the source tree (pip install . case)
    assert out.stdout.strip() == "False"


def test_cli_readme_exits_2_with_one_line() -> None:
    """`interop translate examples/gatt/README.md`: not an input any codec claims → exit 2, one line."""
    import os
    import subprocess
    import sys
    import tempfile

    readme = Path(__file__).parents[2] / "examples" / "gatt" / "README.md"
    env = {**os.environ, "PYTHONPATH": ""}
    for extra in ([], ["--from", "bluetooth-gatt"]):
        done = subprocess.run([sys.executable, "-m", "interop.cli.main", "translate", str(readme), *extra],
                              capture_output=True, text=True, timeout=60, env=env, cwd=tempfile.gettempdir())
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "README.md" in done.stderr, done.stderr
