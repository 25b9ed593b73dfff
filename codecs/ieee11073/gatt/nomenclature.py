"""MDC terms and units the GATT characteristics map to (the same codes the 20601 path emits).

Each row: reference id -> context-free code (partition * 65536 + term code). Sources:
IEEE 11073-10101 / -10404 (pulse oximeter), -10407 (blood pressure), -10408 (thermometer),
-10415 (scale), -10417 (glucose) nomenclature as republished in the NIST RTMMS Rosetta extract
(../shared/corpus/terminology) and in the HL7 PHD IG (CodeSystem ASN1ToHL7, examples);
MDC_TEMP_AXILLA/GIT from IEEE 11073-10408 (term codes 57380/57384, partition 2); 10420 body
composition terms 57676/57684/57688/57692 and MDC_DEV_SPEC_PROFILE_BCA 4116 (partition 8).
"""

from __future__ import annotations

from functools import cache

from interop.model import MDC_SYSTEM, CodeableConcept, Coding

TERMS: dict[str, int] = {
    # blood pressure (10407)
    "MDC_PRESS_BLD_NONINV": 150020,
    "MDC_PRESS_BLD_NONINV_SYS": 150021,
    "MDC_PRESS_BLD_NONINV_DIA": 150022,
    "MDC_PRESS_BLD_NONINV_MEAN": 150023,
    "MDC_PULS_RATE_NON_INV": 149546,
    "MDC_PRESS_CUFF": 150300,
    "MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS": 8410608,  # PHD IG ASN1ToHL7 8410608.x
    # pulse oximeter (10404)
    "MDC_PULS_OXIM_SAT_O2": 150456,
    "MDC_PULS_OXIM_PULS_RATE": 149530,
    "MDC_PULS_OXIM_PERF_REL": 150448,
    "MDC_PULS_OXIM_DEV_STATUS": 150604,  # PHD IG ASN1ToHL7 150604.x
    "MDC_MODALITY_FAST": 150580,  # term 19508
    "MDC_MODALITY_SLOW": 150584,  # term 19512
    "MDC_MODALITY_SPOT": 150588,  # term 19516
    # thermometer (10408)
    "MDC_TEMP_BODY": 150364,
    "MDC_TEMP_TYMP": 150392,
    "MDC_TEMP_RECT": 188420,
    "MDC_TEMP_ORAL": 188424,
    "MDC_TEMP_EAR": 188428,
    "MDC_TEMP_FINGER": 188432,
    "MDC_TEMP_TOE": 188448,
    "MDC_TEMP_AXILLA": 188452,
    "MDC_TEMP_GIT": 188456,
    # scale (10415)
    "MDC_MASS_BODY_ACTUAL": 188736,
    "MDC_LEN_BODY_ACTUAL": 188740,
    "MDC_RATIO_MASS_BODY_LEN_SQ": 188752,
    # body composition analyzer (10420)
    "MDC_BODY_FAT": 188748,
    "MDC_MASS_BODY_FAT_FREE": 188756,
    "MDC_MASS_BODY_SOFT_LEAN": 188760,
    "MDC_BODY_WATER": 188764,
    # glucose (10417)
    "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD": 160184,
    "MDC_CONC_GLU_CAPILLARY_PLASMA": 160188,
    "MDC_CONC_GLU_VENOUS_WHOLEBLOOD": 160192,
    "MDC_CONC_GLU_VENOUS_PLASMA": 160196,
    "MDC_CONC_GLU_ARTERIAL_WHOLEBLOOD": 160200,
    "MDC_CONC_GLU_ARTERIAL_PLASMA": 160204,
    "MDC_CONC_GLU_CONTROL": 160208,
    "MDC_CONC_GLU_ISF": 160212,
    "MDC_CONC_GLU_UNDETERMINED_WHOLEBLOOD": 160364,
    "MDC_CONC_GLU_UNDETERMINED_PLASMA": 160368,
    "MDC_GLU_METER_DEV_STATUS": 8417752,  # PHD IG ASN1ToHL7 8417752.x
    "MDC_CONC_HBA1C": 160220,
    # glucose context (10417, partition 128 MDC_PART_PHD_DM; the PHD IG meal-context example uses 8417864/8417872)
    "MDC_CTXT_GLU_EXERCISE": 8417760,
    "MDC_CTXT_GLU_CARB_BREAKFAST": 8417768,
    "MDC_CTXT_GLU_CARB_LUNCH": 8417772,
    "MDC_CTXT_GLU_CARB_DINNER": 8417776,
    "MDC_CTXT_GLU_CARB_SNACK": 8417780,
    "MDC_CTXT_GLU_CARB_DRINK": 8417784,
    "MDC_CTXT_GLU_CARB_SUPPER": 8417788,
    "MDC_CTXT_GLU_CARB_BRUNCH": 8417792,
    "MDC_CTXT_MEDICATION_RAPIDACTING": 8417800,
    "MDC_CTXT_MEDICATION_SHORTACTING": 8417804,
    "MDC_CTXT_MEDICATION_INTERMEDIATEACTING": 8417808,
    "MDC_CTXT_MEDICATION_LONGACTING": 8417812,
    "MDC_CTXT_MEDICATION_PREMIX": 8417816,
    "MDC_CTXT_GLU_HEALTH": 8417820,
    "MDC_CTXT_GLU_HEALTH_MINOR": 8417824,
    "MDC_CTXT_GLU_HEALTH_MAJOR": 8417828,
    "MDC_CTXT_GLU_HEALTH_MENSES": 8417832,
    "MDC_CTXT_GLU_HEALTH_STRESS": 8417836,
    "MDC_CTXT_GLU_HEALTH_NONE": 8417840,
    "MDC_CTXT_GLU_MEAL": 8417864,
    "MDC_CTXT_GLU_MEAL_PREPRANDIAL": 8417868,
    "MDC_CTXT_GLU_MEAL_BEDTIME": 8417869,
    "MDC_CTXT_GLU_MEAL_POSTPRANDIAL": 8417872,
    "MDC_CTXT_GLU_MEAL_FASTING": 8417876,
    "MDC_CTXT_GLU_MEAL_CASUAL": 8417880,
    "MDC_CTXT_GLU_TESTER": 8417884,
    "MDC_CTXT_GLU_TESTER_SELF": 8417888,
    "MDC_CTXT_GLU_TESTER_HCP": 8417892,
    "MDC_CTXT_GLU_TESTER_LAB": 8417896,
    # heart rate
    "MDC_ECG_HEART_RATE": 147842,
    "MDC_ECG_TIME_PD_RR_GL": 147240,
    # device (MDC_PART_INFRA, partition 8)
    "MDC_MOC_VMS_MDS_SIMP": 65573,
    "MDC_MOC_VMS_MDS_AHD": 531981,  # application hosting device (PHG): PHD IG PhgDevice type
    "MDC_DEV_SPEC_PROFILE_PULS_OXIM": 528388,
    "MDC_DEV_SPEC_PROFILE_BPM": 528391,
    "MDC_DEV_SPEC_PROFILE_TEMP": 528392,
    "MDC_DEV_SPEC_PROFILE_SCALE": 528399,
    "MDC_DEV_SPEC_PROFILE_GLUCOSE": 528401,
    "MDC_DEV_SPEC_PROFILE_BCA": 528404,
}

UNITS: dict[str, tuple[int, str]] = {
    # MDC unit reference id -> (context-free code, UCUM)
    "MDC_DIM_MMHG": (266016, "mm[Hg]"),
    "MDC_DIM_KILO_PASCAL": (265987, "kPa"),
    "MDC_DIM_BEAT_PER_MIN": (264864, "/min"),
    "MDC_DIM_PERCENT": (262688, "%"),
    "MDC_DIM_DEGC": (268192, "Cel"),
    "MDC_DIM_FAHR": (266560, "[degF]"),
    "MDC_DIM_KILO_G": (263875, "kg"),
    "MDC_DIM_LB": (263904, "[lb_av]"),
    "MDC_DIM_M": (263424, "m"),
    "MDC_DIM_INCH": (263520, "[in_i]"),
    "MDC_DIM_KG_PER_M_SQ": (264096, "kg/m2"),
    "MDC_DIM_MILLI_G_PER_DL": (264274, "mg/dL"),
    "MDC_DIM_MILLI_MOLE_PER_L": (266866, "mmol/L"),
    "MDC_DIM_MILLI_SEC": (264338, "ms"),
    "MDC_DIM_X_G": (263872, "g"),
    "MDC_DIM_MILLI_G": (263890, "mg"),
    "MDC_DIM_MILLI_L": (263762, "mL"),
}


@cache
def coding(refid: str) -> Coding:
    """The MDC Coding of a term or unit reference id."""
    code = TERMS[refid] if refid in TERMS else UNITS[refid][0]
    return Coding(system=MDC_SYSTEM, code=str(code), display=refid)


@cache
def concept(refid: str) -> CodeableConcept:
    """A CodeableConcept holding only the MDC coding of `refid`."""
    return CodeableConcept(codings=(coding(refid),))


def ucum(unit_refid: str) -> str:
    """UCUM code of an MDC unit."""
    return UNITS[unit_refid][1]
