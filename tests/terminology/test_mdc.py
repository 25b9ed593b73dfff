"""MDC terms, units and the MDC -> LOINC vital-signs map: exact pairs from the standards and IGs."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interop.terminology import mdc

ROOT = Path(__file__).resolve().parents[2]

# (code, refid, UCUM units the term must allow, LOINC the vital-signs profile asks for)
# Sources: HL7 PHD IG examples bundle-example-1, compound-numeric-blood-pressure,
# temperature-observation (HL7/phd @5af8412); HL7 PoCD IG examples Observation-HeartRateNumericObservation,
# Observation-NBPCompoundNumericObservation (HL7/uv-pocd @9be0922); IEEE 11073-10404/10407/10415
# code values (signove/antidote specialization headers); FHIR R4 vital signs profiles.
VITALS = [
    (150456, "MDC_PULS_OXIM_SAT_O2", {"%"}, "2708-6"),
    (149530, "MDC_PULS_OXIM_PULS_RATE", {"/min"}, "8867-4"),
    (147842, "MDC_ECG_HEART_RATE", {"/min"}, "8867-4"),
    (151562, "MDC_RESP_RATE", {"/min"}, "9279-1"),
    (150364, "MDC_TEMP_BODY", {"Cel", "[degF]"}, "8310-5"),
    (150020, "MDC_PRESS_BLD_NONINV", {"mm[Hg]", "kPa"}, "85354-9"),
    (150021, "MDC_PRESS_BLD_NONINV_SYS", {"mm[Hg]", "kPa"}, "8480-6"),
    (150022, "MDC_PRESS_BLD_NONINV_DIA", {"mm[Hg]", "kPa"}, "8462-4"),
    (150023, "MDC_PRESS_BLD_NONINV_MEAN", {"mm[Hg]", "kPa"}, "8478-0"),
    (188736, "MDC_MASS_BODY_ACTUAL", {"kg", "[lb_av]"}, "29463-7"),
    (188740, "MDC_LEN_BODY_ACTUAL", {"cm", "[in_i]"}, "8302-2"),
    (188752, "MDC_RATIO_MASS_BODY_LEN_SQ", {"kg/m2"}, "39156-5"),
]


@pytest.mark.parametrize(("code", "refid", "ucum", "loinc"), VITALS)
def test_vital_sign_pairs(code: int, refid: str, ucum: set[str], loinc: str) -> None:
    t = mdc.term(code)
    assert t is not None and t.refid == refid and t.code == code
    assert t.code == t.partition * 65536 + t.term_code
    assert ucum <= set(t.ucum_units)
    assert mdc.term_by_refid(refid) == t
    assert mdc.term(str(code)) == t
    assert mdc.loinc_for(code)[0] == loinc
    assert mdc.is_vital_sign_loinc(loinc)


def test_spo2_loinc_alternatives() -> None:
    # PHD IG bundle-example-1 uses 2708-6 (the R4 oxygensat profile code); older PHD IG examples 59408-5.
    assert mdc.loinc_for(150456) == ("2708-6", "Oxygen saturation in Arterial blood")
    assert [c for c, _ in mdc.loincs_for(150456)] == ["2708-6", "59408-5"]


def test_non_vitals_have_no_loinc() -> None:
    assert mdc.loinc_for(160184) is None  # capillary glucose: not a vital sign
    assert mdc.loinc_for(528391) is None
    assert not mdc.is_vital_sign_loinc("2339-0")  # glucose LOINC
    assert mdc.vital_sign_profile("8480-6") == "bp"


@pytest.mark.parametrize(
    ("code", "refid", "ucum"),
    [  # IEEE 11073-20601 Annex A unit codes (partition 4), UCUM as in the PHD / PoCD IG examples
        (266016, "MDC_DIM_MMHG", "mm[Hg]"),
        (265987, "MDC_DIM_KILO_PASCAL", "kPa"),
        (264864, "MDC_DIM_BEAT_PER_MIN", "/min"),
        (264928, "MDC_DIM_RESP_PER_MIN", "/min"),
        (262688, "MDC_DIM_PERCENT", "%"),
        (268192, "MDC_DIM_DEGC", "Cel"),
        (266560, "MDC_DIM_FAHR", "[degF]"),
        (263875, "MDC_DIM_KILO_G", "kg"),
        (263904, "MDC_DIM_LB", "[lb_av]"),
        (263441, "MDC_DIM_CENTI_M", "cm"),
        (263520, "MDC_DIM_X_INCH", "[in_i]"),
        (264096, "MDC_DIM_KG_PER_M_SQ", "kg/m2"),
        (264274, "MDC_DIM_MILLI_G_PER_DL", "mg/dL"),
        (266866, "MDC_DIM_MILLI_MOLE_PER_L", "mmol/L"),
        (266418, "MDC_DIM_MILLI_VOLT", "mV"),
    ],
)
def test_unit_pairs(code: int, refid: str, ucum: str) -> None:
    u = mdc.unit(code)
    assert u == mdc.MdcUnit(code, refid, ucum)
    assert mdc.unit(str(code)) == u
    assert mdc.unit_by_refid(refid) == u


def test_unit_by_ucum_and_aliases() -> None:
    assert mdc.unit_by_ucum("mm[Hg]").code == 266016
    assert mdc.unit_by_ucum("/min").refid == "MDC_DIM_BEAT_PER_MIN"  # preferred among PER_MIN, BEAT, PULS, RESP
    assert mdc.unit_by_ucum("mmHg") is None  # UCUM is case- and bracket-exact
    assert mdc.unit_by_refid("MDC_DIM_INCH").code == 263520
    assert mdc.unit(262144).ucum is None  # MDC_DIM_NOS has no UCUM equivalent


def test_refid_aliases() -> None:
    # PCD-01 sample (PoCD IG mappingv2.md) sends 147842^MDC_ECG_CARD_BEAT_RATE
    assert mdc.term_by_refid("MDC_ECG_CARD_BEAT_RATE").code == 147842
    # IEEE 11073-20601 Annex A spells 528391 MDC_DEV_SPEC_PROFILE_BP
    assert mdc.term_by_refid("MDC_DEV_SPEC_PROFILE_BP").refid == "MDC_DEV_SPEC_PROFILE_BPM"


def test_pcd01_device_codes() -> None:
    # HL7 PoCD IG mappingv2.md PCD-01 sample and PoCD IG Device examples
    assert mdc.term(69965).refid == "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS"
    assert mdc.term(70666).refid == "MDC_DEV_ECG_RESP_VMD"
    assert mdc.term(70739).refid == "MDC_DEV_CARD_RATE_CHAN"
    assert mdc.term(68162).refid == "MDC_ATTR_FILTER_LABEL_STRING"
    assert mdc.term(184327).refid == "MDC_ECG_STAT_RHY"


@pytest.mark.parametrize("bad", [None, "", "abc", "1.5", "-3", " ", "１２", 1.5, True, b"150456", object()])
def test_bad_input_gives_none(bad: object) -> None:
    assert mdc.term(bad) is None  # type: ignore[arg-type]
    assert mdc.unit(bad) is None  # type: ignore[arg-type]
    assert mdc.loinc_for(bad) is None  # type: ignore[arg-type]
    assert mdc.term_by_refid(bad) is None or isinstance(bad, str)  # type: ignore[arg-type]


@given(st.one_of(st.integers(), st.text(max_size=12)))
def test_lookups_never_raise(x: int | str) -> None:
    mdc.term(x)
    mdc.unit(x)
    mdc.loinc_for(x)
    if isinstance(x, str):
        mdc.term_by_refid(x)
        mdc.unit_by_refid(x)
        mdc.unit_by_ucum(x)
        mdc.is_vital_sign_loinc(x)


def test_codes_are_consistent() -> None:
    t = mdc._tables()
    for code, term in t.terms.items():
        assert code == term.partition * 65536 + term.term_code
        assert all(u == u.strip() and u for u in term.ucum_units)
    for code, u in t.units.items():
        assert code >> 16 == 4 and u.refid.startswith("MDC_DIM_")
    for code in t.loinc_all:
        assert code in t.terms
    for codes in t.loinc.values():
        assert mdc.is_vital_sign_loinc(codes[0])
    ucums = {u.ucum for u in t.units.values() if u.ucum}
    assert ucums == set(t.units_by_ucum)  # every UCUM code maps back to exactly one preferred unit
    for refid, term in t.terms_by_refid.items():
        assert refid == term.refid or refid not in {x.refid for x in t.terms.values()}


def test_method_and_site_variants_carry_the_vital_sign_loinc() -> None:
    # FHIR R4 vital signs: one LOINC per vital sign whatever the method/site (DK Core IG lists the variants)
    assert mdc.loinc_for(mdc.term_by_refid("MDC_TTHOR_RESP_RATE").code)[0] == "9279-1"
    assert mdc.loinc_for(mdc.term_by_refid("MDC_TEMP_ORAL").code)[0] == "8310-5"
    assert mdc.loinc_for(mdc.term_by_refid("MDC_PULS_RATE_NON_INV").code)[0] == "8867-4"
    assert mdc.loinc_for(mdc.term_by_refid("MDC_TEMP_SKIN").code) is None  # skin temperature is not body temperature


def test_generated_files_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("build_terminology", ROOT / "scripts" / "build_terminology.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, text in mod.render().items():
        assert (mdc.DATA / name).read_text(encoding="utf-8") == text, name


def test_every_row_names_its_source() -> None:
    import csv

    for path in mdc.DATA.glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows, path.name
        assert all(r["source"].strip() for r in rows), path.name


def test_load_time_benchmark() -> None:
    mdc._tables.cache_clear()
    t0 = time.perf_counter()
    mdc.load()
    ms = (time.perf_counter() - t0) * 1000
    print(f"\nterminology load: {ms:.2f} ms, {len(mdc._tables().terms)} terms, {len(mdc._tables().units)} units")


def test_every_mdc_code_of_the_pocd_pcd01_sample_is_known() -> None:
    # corpus hl7v2/pocd-philips-intellivue-pcd01.hl7 (HL7 PoCD IG mappingv2.md): OBR-4, OBX-3 and OBX-6 codes
    for code, refid in [(69965, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS"), (70666, "MDC_DEV_ECG_RESP_VMD"),
                        (70739, "MDC_DEV_CARD_RATE_CHAN"), (147842, "MDC_ECG_CARD_BEAT_RATE"),
                        (184327, "MDC_ECG_STAT_RHY"), (69121, "MDC_OBS_WAVE_CTS"),
                        (68162, "MDC_ATTR_FILTER_LABEL_STRING"), (131329, "MDC_ECG_ELEC_POTL_I")]:
        assert mdc.term(code) is not None and mdc.term_by_refid(refid) == mdc.term(code)
    assert mdc.unit(264864).refid == "MDC_DIM_BEAT_PER_MIN"
