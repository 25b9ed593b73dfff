"""Generate interop/terminology/data/*.csv from the curated source rows below.

In the spirit of pydicom's `_dicom_dict.py`: the shipped CSV files are generated, never edited by
hand; this script is the single place where a row enters the package, each with the public source
its facts come from. Codes are facts of IEEE 11073-10101 and its PHD specializations; where the
standard text itself is not public, the source names the public document (HL7 IG, IHE profile)
or the public transcription that states the code.

    python scripts/build_terminology.py          # rewrite the CSV files
    python scripts/build_terminology.py --check  # exit 1 when the CSV files are out of date

Context-free code = partition * 65536 + term code (IEEE 11073-10101, 5.2).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "interop" / "terminology" / "data"

# ---------------------------------------------------------------------------------------------
# Sources (cited in the `source` column; commits pin what was read)
# ---------------------------------------------------------------------------------------------
PHD_IG = "HL7 PHD IG (HL7/phd @5af8412)"
POCD_IG = "HL7 PoCD IG (HL7/uv-pocd @9be0922)"
ANTIDOTE = "signove/antidote @dbb2742"
A20601 = f"IEEE 11073-20601 Annex A nomenclature, as transcribed in {ANTIDOTE} src/dim/nomenclature.h"
A10404 = f"IEEE 11073-10404, as transcribed in {ANTIDOTE} src/specializations/pulse_oximeter.h"
A10407 = f"IEEE 11073-10407, as transcribed in {ANTIDOTE} src/specializations/blood_pressure_monitor.h"
A10415 = f"IEEE 11073-10415, as transcribed in {ANTIDOTE} src/specializations/weighing_scale.h"
A10417 = f"IEEE 11073-10417, as transcribed in {ANTIDOTE} src/specializations/glucometer.h"
CSR_10441 = "IEEE 11073-10441 nomenclature, as transcribed in CSR Synergy PHDC header csr_bt_phdc_ieee_asn_nom_codes.h"
ROSETTA_MDPNP = "IHE PCD Rosetta (NIST RTMMS), as transcribed in mdpnp/mdpnp data-types/x73-idl .../nomenclature/physio.idl @38fa90b"
PHD_DEVTYPES = f"{PHD_IG} ValueSet DeviceTypes11073MDC (input/fsh/ValueSet.DeviceTypes11073MDC.fsh)"
PHD_TIMESYNC = f"{PHD_IG} ValueSet MDCTimeSyncMethods (input/fsh/ValueSet.MDCTimeSyncMethods.fsh)"
POCD_EX = f"{POCD_IG} example"
PCD01_EX = "IHE PCD-01 ORU^R01 in HL7 PoCD IG mappingv2.md (corpus hl7v2/pocd-philips-intellivue-pcd01.hl7)"
UCUM = "UCUM c/s code (unitsofmeasure.org)"

# ---------------------------------------------------------------------------------------------
# MDC terms: (partition, term_code, refid, display, "ucum|ucum", source)
# ---------------------------------------------------------------------------------------------
BPM = "/min"
MMHG_KPA = "mm[Hg]|kPa"
TEMP_U = "Cel|[degF]"
MASS_U = "kg|[lb_av]"
GLU_U = "mg/dL|mmol/L"

TERMS: list[tuple[int, int, str, str, str, str]] = [
    # --- vital signs, partition 2 (SCADA) ---
    (2, 16770, "MDC_ECG_HEART_RATE", "Heart rate (ECG)", BPM,
     f"{POCD_EX} Observation-HeartRateNumericObservation; {ROSETTA_MDPNP} (as MDC_ECG_CARD_BEAT_RATE)"),
    (2, 18442, "MDC_PULS_RATE", "Pulse rate", BPM, ROSETTA_MDPNP),
    (2, 18458, "MDC_PULS_OXIM_PULS_RATE", "Pulse rate (pulse oximeter)", BPM,
     f"{A10404}; {PHD_IG} example bundle-example-1"),
    (2, 18474, "MDC_PULS_RATE_NON_INV", "Pulse rate (non-invasive BP)", BPM, A10407),
    (2, 18944, "MDC_PRESS_BLD", "Blood pressure (IBP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18945, "MDC_PRESS_BLD_SYS", "Systolic blood pressure (IBP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18946, "MDC_PRESS_BLD_DIA", "Diastolic blood pressure (IBP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18947, "MDC_PRESS_BLD_MEAN", "Mean blood pressure (IBP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18948, "MDC_PRESS_BLD_NONINV", "Non-invasive blood pressure", MMHG_KPA,
     f"{A10407}; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (2, 18949, "MDC_PRESS_BLD_NONINV_SYS", "Systolic blood pressure (NIBP)", MMHG_KPA,
     f"{A10407}; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (2, 18950, "MDC_PRESS_BLD_NONINV_DIA", "Diastolic blood pressure (NIBP)", MMHG_KPA,
     f"{A10407}; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (2, 18951, "MDC_PRESS_BLD_NONINV_MEAN", "Mean blood pressure (NIBP)", MMHG_KPA,
     f"{A10407}; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (2, 18960, "MDC_PRESS_BLD_ART", "Arterial blood pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18961, "MDC_PRESS_BLD_ART_SYS", "Systolic arterial blood pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18962, "MDC_PRESS_BLD_ART_DIA", "Diastolic arterial blood pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18963, "MDC_PRESS_BLD_ART_MEAN", "Mean arterial blood pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18964, "MDC_PRESS_BLD_ART_ABP", "Arterial blood pressure (ABP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18965, "MDC_PRESS_BLD_ART_ABP_SYS", "Systolic arterial blood pressure (ABP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18966, "MDC_PRESS_BLD_ART_ABP_DIA", "Diastolic arterial blood pressure (ABP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18967, "MDC_PRESS_BLD_ART_ABP_MEAN", "Mean arterial blood pressure (ABP)", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18972, "MDC_PRESS_BLD_ART_PULM", "Pulmonary artery pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18973, "MDC_PRESS_BLD_ART_PULM_SYS", "Systolic pulmonary artery pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18974, "MDC_PRESS_BLD_ART_PULM_DIA", "Diastolic pulmonary artery pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 18975, "MDC_PRESS_BLD_ART_PULM_MEAN", "Mean pulmonary artery pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 19012, "MDC_PRESS_BLD_VEN_CENT", "Central venous pressure", MMHG_KPA,
     f"{POCD_EX} Observation-CVPSampleArrayObservation; {ROSETTA_MDPNP}"),
    (2, 19015, "MDC_PRESS_BLD_VEN_CENT_MEAN", "Mean central venous pressure", MMHG_KPA, ROSETTA_MDPNP),
    (2, 19272, "MDC_TEMP", "Temperature", TEMP_U, ROSETTA_MDPNP),
    (2, 19292, "MDC_TEMP_BODY", "Body temperature", TEMP_U, f"{A20601}; {PHD_IG} ProfileConsumers.md"),
    (2, 19296, "MDC_TEMP_CORE", "Core temperature", TEMP_U, ROSETTA_MDPNP),
    (2, 19316, "MDC_TEMP_SKIN", "Skin temperature", TEMP_U, ROSETTA_MDPNP),
    (2, 19320, "MDC_TEMP_TYMP", "Tympanic temperature", TEMP_U, f"IEEE 11073-10408 Table A.1; {ROSETTA_MDPNP}"),
    (2, 19376, "MDC_PULS_OXIM_PERF_REL", "Perfusion index (pulse oximeter)", "", ROSETTA_MDPNP),
    (2, 19380, "MDC_PULS_OXIM_PLETH", "Plethysmogram", "", ROSETTA_MDPNP),
    (2, 19384, "MDC_PULS_OXIM_SAT_O2", "SpO2", "%", f"{A10404}; {PHD_IG} example bundle-example-1"),
    (2, 20490, "MDC_RESP_RATE", "Respiration rate", BPM, f"{CSR_10441}; {ROSETTA_MDPNP}"),
    (2, 28948, "MDC_CONC_GLU_GEN", "Glucose", GLU_U, ROSETTA_MDPNP),
    (2, 29112, "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", "Glucose, capillary whole blood", GLU_U, A10417),
    (2, 53255, "MDC_ECG_STAT_RHY", "ECG rhythm status", "",
     f"{POCD_EX} Observation-RhythmStatusEnumerationObservation; {PCD01_EX}"),
    (2, 57348, "MDC_TEMP_RECT", "Rectal temperature", TEMP_U, ROSETTA_MDPNP),
    (2, 57664, "MDC_MASS_BODY_ACTUAL", "Body weight", MASS_U, f"{A20601}; {A10415}"),
    (2, 57668, "MDC_LEN_BODY_ACTUAL", "Body height", "cm|[in_i]", A10415),
    (2, 57676, "MDC_BODY_FAT", "Body fat", "%", A20601),
    (2, 57680, "MDC_RATIO_MASS_BODY_LEN_SQ", "Body mass index", "kg/m2", A10415),
    # --- ECG waveforms and enumerations used by PoCD / PCD-01 ---
    (2, 256, "MDC_ECG_ELEC_POTL", "ECG lead (unspecified)", "mV", f"{POCD_EX} Observation-ECGSampleArrayObservation"),
    (2, 257, "MDC_ECG_ELEC_POTL_I", "ECG lead I", "mV", f"{POCD_EX} Observation-ECGSampleArrayObservation; {PCD01_EX}"),
    (2, 258, "MDC_ECG_ELEC_POTL_II", "ECG lead II", "mV", f"{POCD_EX} Observation-ECGSampleArrayObservation"),
    (2, 317, "MDC_ECG_ELEC_POTL_III", "ECG lead III", "mV", f"{POCD_EX} Observation-ECGSampleArrayObservation"),
    (2, 16402, "MDC_ECG_SINUS_RHY", "Sinus rhythm", "", f"{POCD_EX} Observation-RhythmStatusEnumerationObservation"),
    # --- pulse oximeter modality (10404) ---
    (2, 19508, "MDC_MODALITY_FAST", "Fast response averaging", "", A10404),
    (2, 19512, "MDC_MODALITY_SLOW", "Slow response averaging", "", A10404),
    (2, 19516, "MDC_MODALITY_SPOT", "Spot-check measurement", "", A10404),
    # --- devices (partition 1, object infrastructure) used in PCD-01 / PoCD ---
    (1, 4174, "MDC_DEV_ANALY_PRESS_BLD_VMD", "Blood pressure analyzer VMD", "", f"{POCD_EX} Device-BloodPressureVmdDevice"),
    (1, 4175, "MDC_DEV_ANALY_PRESS_BLD_CHAN", "Blood pressure analyzer channel", "", f"{POCD_EX} Device-BloodPressureChannelDevice"),
    (1, 4262, "MDC_DEV_ECG_VMD", "ECG VMD", "", f"{POCD_EX} Device-ECGVmdDevice"),
    (1, 4263, "MDC_DEV_ECG_CHAN", "ECG channel", "", f"{POCD_EX} Device-ECGChannelDevice"),
    (1, 4429, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS", "Multi-parameter physiological monitor", "",
     f"{POCD_EX} Device-PhysioMonitorMdsDevice; {PCD01_EX}"),
    (1, 5130, "MDC_DEV_ECG_RESP_VMD", "ECG and respiration VMD", "", PCD01_EX),
    (1, 5150, "MDC_DEV_PRESS_BLD_NONINV_VMD", "Non-invasive blood pressure VMD", "", f"{POCD_EX} Device-NBPVmdDevice"),
    (1, 5151, "MDC_DEV_PRESS_BLD_NONINV_CHAN", "Non-invasive blood pressure channel", "", f"{POCD_EX} Device-NBPChannelDevice"),
    (1, 5203, "MDC_DEV_CARD_RATE_CHAN", "Cardiac rate channel", "", f"{POCD_EX} Device-HeartRateChannelDevice; {PCD01_EX}"),
    (1, 2626, "MDC_ATTR_FILTER_LABEL_STRING", "Filter label", "", PCD01_EX),
    # --- PHD device specializations (partition 8, communication infrastructure) ---
    (8, 4100, "MDC_DEV_SPEC_PROFILE_PULS_OXIM", "Pulse oximeter", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4103, "MDC_DEV_SPEC_PROFILE_BPM", "Blood pressure monitor", "", f"{PHD_DEVTYPES}; {A20601} (as MDC_DEV_SPEC_PROFILE_BP)"),
    (8, 4104, "MDC_DEV_SPEC_PROFILE_TEMP", "Thermometer", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4111, "MDC_DEV_SPEC_PROFILE_SCALE", "Weighing scale", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4113, "MDC_DEV_SPEC_PROFILE_GLUCOSE", "Glucose meter", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4137, "MDC_DEV_SPEC_PROFILE_HF_CARDIO", "Cardiovascular fitness and activity monitor", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4138, "MDC_DEV_SPEC_PROFILE_HF_STRENGTH", "Strength fitness equipment", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4167, "MDC_DEV_SPEC_PROFILE_AI_ACTIVITY_HUB", "Independent living activity hub", "", f"{PHD_DEVTYPES}; {A20601}"),
    (8, 4168, "MDC_DEV_SPEC_PROFILE_AI_MED_MINDER", "Medication monitor", "", f"{PHD_DEVTYPES}; {A20601}"),
    # --- time synchronization (partition 8) ---
    (8, 7936, "MDC_TIME_SYNC_NONE", "No time synchronization", "", f"{PHD_TIMESYNC}; {A20601}"),
    (8, 7937, "MDC_TIME_SYNC_NTPV3", "NTP v3 (RFC 1305)", "", f"{PHD_TIMESYNC}; {A20601}"),
    (8, 7938, "MDC_TIME_SYNC_NTPV4", "NTP v4", "", f"{PHD_TIMESYNC}; {A20601}"),
    (8, 7939, "MDC_TIME_SYNC_SNTPV4", "SNTP v4 (RFC 2030)", "", f"{PHD_TIMESYNC}; {A20601}"),
    (8, 7940, "MDC_TIME_SYNC_SNTPV4330", "SNTP v4 (RFC 4330)", "", f"{PHD_TIMESYNC}; {A20601}"),
    (8, 7941, "MDC_TIME_SYNC_BTV1", "Bluetooth Medical Device Profile", "", f"{PHD_TIMESYNC}; {A20601}"),
]

# Older or alternative reference ids that name the same context-free code: (refid, code, source)
REFID_ALIASES: list[tuple[str, int, str]] = [
    ("MDC_ECG_CARD_BEAT_RATE", 147842, f"{PCD01_EX}; {ROSETTA_MDPNP}"),
    ("MDC_DEV_SPEC_PROFILE_BP", 528391, A20601),
]

# ---------------------------------------------------------------------------------------------
# MDC units, partition 4: (term_code, refid, ucum or "", source)
# ---------------------------------------------------------------------------------------------
UNITS: list[tuple[int, str, str, str]] = [
    (0, "MDC_DIM_NOS", "", "IEEE 11073-10101 (no unit)"),
    (512, "MDC_DIM_DIMLESS", "1", f"{A20601}; {UCUM}"),
    (544, "MDC_DIM_PERCENT", "%", f"{A20601}; {PHD_IG} example bundle-example-1"),
    (736, "MDC_DIM_ANG_DEG", "deg", f"{A20601}; {UCUM}"),
    (1280, "MDC_DIM_X_M", "m", f"{A20601}; {UCUM}"),
    (1297, "MDC_DIM_CENTI_M", "cm", f"{A20601}; {POCD_IG} mappingsdc.md (Height)"),
    (1344, "MDC_DIM_X_FOOT", "[ft_i]", f"{A20601}; {UCUM}"),
    (1376, "MDC_DIM_X_INCH", "[in_i]", f"{A20601}; {POCD_IG} mappingsdc.md (Height)"),
    (1618, "MDC_DIM_MILLI_L", "mL", f"{A20601}; {UCUM}"),
    (1728, "MDC_DIM_X_G", "g", f"{A20601}; {POCD_IG} mappingsdc.md (Weight)"),
    (1731, "MDC_DIM_KILO_G", "kg", f"{A20601}; {POCD_IG} mappingsdc.md (Weight)"),
    (1746, "MDC_DIM_MILLI_G", "mg", f"{A20601}; {UCUM}"),
    (1760, "MDC_DIM_LB", "[lb_av]", f"{A20601}; {POCD_IG} mappingsdc.md (Weight)"),
    (1952, "MDC_DIM_KG_PER_M_SQ", "kg/m2", f"{A20601}; {UCUM}"),
    (2130, "MDC_DIM_MILLI_G_PER_DL", "mg/dL", f"{A20601}; {PHD_IG} example glucose-observation"),
    (2208, "MDC_DIM_MIN", "min", f"{A20601}; {UCUM}"),
    (2240, "MDC_DIM_HR", "h", f"{A20601}; {UCUM}"),
    (2272, "MDC_DIM_DAY", "d", f"{A20601}; {UCUM}"),
    (2368, "MDC_DIM_YR", "a", f"{A20601}; {UCUM}"),
    (2720, "MDC_DIM_BEAT_PER_MIN", "/min", f"{A20601}; {PHD_IG} example bundle-example-1"),
    (2784, "MDC_DIM_RESP_PER_MIN", "/min", f"{A20601}; {UCUM}"),
    (3843, "MDC_DIM_KILO_PASCAL", "kPa", f"{A20601}; {UCUM}"),
    (3872, "MDC_DIM_MMHG", "mm[Hg]", f"{A20601}; {PHD_IG} example compound-numeric-blood-pressure"),
    (3968, "MDC_DIM_X_JOULES", "J", f"{A20601}; {UCUM}"),
    (4032, "MDC_DIM_X_WATT", "W", f"{A20601}; {UCUM}"),
    (4274, "MDC_DIM_MILLI_VOLT", "mV", f"{POCD_EX} Observation-ECGSampleArrayObservation; {UCUM}"),
    (4416, "MDC_DIM_FAHR", "[degF]", f"{A20601}; {UCUM}"),
    (4722, "MDC_DIM_MILLI_MOLE_PER_L", "mmol/L", f"{A20601}; {PHD_IG} example compound-observation-glucose"),
    (6048, "MDC_DIM_DEGC", "Cel", f"{A20601}; {PHD_IG} example temperature-observation"),
    (6560, "MDC_DIM_X_M_PER_MIN", "m/min", f"{A20601}; {UCUM}"),
    (6656, "MDC_DIM_X_STEP", "{step}", f"{A20601}; {UCUM} annotation"),
    (6688, "MDC_DIM_X_FOOT_PER_MIN", "[ft_i]/min", f"{A20601}; {UCUM}"),
    (6720, "MDC_DIM_X_INCH_PER_MIN", "[in_i]/min", f"{A20601}; {UCUM}"),
    (6752, "MDC_DIM_X_STEP_PER_MIN", "{step}/min", f"{A20601}; {UCUM} annotation"),
    (6784, "MDC_DIM_X_CAL", "cal", f"{A20601}; {UCUM}"),
    (6816, "MDC_DIM_RPM", "{rev}/min", f"{A20601}; {UCUM} annotation"),
]

# Alternative unit reference ids for the same code: (refid, term_code, source)
UNIT_ALIASES: list[tuple[str, int, str]] = [
    ("MDC_DIM_INCH", 1376, f"{A20601} (10415 uses MDC_DIM_INCH)"),
    ("MDC_DIM_X_LB", 1760, ROSETTA_MDPNP),
]

# ---------------------------------------------------------------------------------------------
# MDC -> LOINC where the vital-signs profile applies: (mdc code, loinc, display, preferred, source)
# ---------------------------------------------------------------------------------------------
FHIR_VS = "FHIR R4 (4.0.1) vital signs profile"
LOINC_ROWS: list[tuple[int, str, str, bool, str]] = [
    (150456, "2708-6", "Oxygen saturation in Arterial blood", True,
     f"{FHIR_VS} oxygensat; {PHD_IG} example bundle-example-1"),
    (150456, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", False,
     f"{PHD_IG} example bundle-continuousnonin (history @2b89d19); US Core pulse oximetry profile"),
    (149530, "8867-4", "Heart rate", True, f"{FHIR_VS} heartrate; {PHD_IG} example bundle-example-1"),
    (147842, "8867-4", "Heart rate", True, f"{FHIR_VS} heartrate; {POCD_EX} Observation-HeartRateNumericObservation"),
    (150364, "8310-5", "Body temperature", True,
     f"{FHIR_VS} bodytemp; {PHD_IG} ProfileConsumers.md and example temperature-observation"),
    (150020, "85354-9", "Blood pressure panel with all children optional", True,
     f"{FHIR_VS} bp; {PHD_IG} example compound-numeric-blood-pressure; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (150021, "8480-6", "Systolic blood pressure", True,
     f"{FHIR_VS} bp; {PHD_IG} example compound-numeric-blood-pressure; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (150022, "8462-4", "Diastolic blood pressure", True,
     f"{FHIR_VS} bp; {PHD_IG} example compound-numeric-blood-pressure; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (150023, "8478-0", "Mean blood pressure", True,
     f"FHIR R4 ValueSet observation-vitalsignresult; {POCD_EX} Observation-NBPCompoundNumericObservation"),
    (188736, "29463-7", "Body weight", True,
     f"{FHIR_VS} bodyweight; HL7 DK Core IG 3.5.0 example Weight.Poul.230221 (PhdNumericObservation)"),
    (188740, "8302-2", "Body height", True,
     f"{FHIR_VS} bodyheight; {POCD_IG} mappingsdc.md (Height); MDC term by {A10415}"),
    (188752, "39156-5", "Body mass index (BMI) [Ratio]", True,
     f"{FHIR_VS} bmi; MDC term by {A10415}"),
    (151562, "9279-1", "Respiratory rate", True, f"{FHIR_VS} resprate; MDC term by {ROSETTA_MDPNP}"),
]

# LOINC codes that make an Observation a vital sign (FHIR R4 ValueSet observation-vitalsignresult)
VITAL_SIGNS_VS = "FHIR R4 4.0.1 ValueSet observation-vitalsignresult (13 codes)"
VITAL_SIGN_LOINC: list[tuple[str, str, str, str]] = [
    ("85353-1", "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel", "vitalspanel", VITAL_SIGNS_VS),
    ("9279-1", "Respiratory rate", "resprate", VITAL_SIGNS_VS),
    ("8867-4", "Heart rate", "heartrate", VITAL_SIGNS_VS),
    ("2708-6", "Oxygen saturation in Arterial blood", "oxygensat", VITAL_SIGNS_VS),
    ("8310-5", "Body temperature", "bodytemp", VITAL_SIGNS_VS),
    ("8302-2", "Body height", "bodyheight", VITAL_SIGNS_VS),
    ("9843-4", "Head Occipital-frontal circumference", "headcircum", VITAL_SIGNS_VS),
    ("29463-7", "Body weight", "bodyweight", VITAL_SIGNS_VS),
    ("39156-5", "Body mass index (BMI) [Ratio]", "bmi", VITAL_SIGNS_VS),
    ("85354-9", "Blood pressure panel with all children optional", "bp", VITAL_SIGNS_VS),
    ("8480-6", "Systolic blood pressure", "bp", VITAL_SIGNS_VS),
    ("8462-4", "Diastolic blood pressure", "bp", VITAL_SIGNS_VS),
    ("8478-0", "Mean blood pressure", "bp", VITAL_SIGNS_VS),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "oxygensat",
     "FHIR R4 oxygensat profile allows it beside 2708-6; US Core pulse oximetry profile"),
]

# ---------------------------------------------------------------------------------------------
# HL7 v2 tables and their FHIR targets, transcribed from the HL7 v2-to-FHIR IG concept maps
# (HL7/v2-to-fhir @8c9b414 mappings/codesystems/"HL7 Concept Map_ <name> - Sheet1.csv").
# An empty target means the IG gives no FHIR equivalent.
# ---------------------------------------------------------------------------------------------
V2FHIR = "HL7 v2-to-FHIR IG ConceptMap {} (HL7/v2-to-fhir @8c9b414 mappings/codesystems)"
V2_0078: list[tuple[str, str, str, str]] = [  # (flag, v2 text, v3-ObservationInterpretation code or '', display)
    ('<', 'Off scale low', '<', 'Off scale low'),
    ('>', 'Off scale high', '>', 'Off scale high'),
    ('A', 'Abnormal', 'A', 'Abnormal'),
    ('AA', 'Critical abnormal', 'AA', 'Critical abnormal'),
    ('AC', 'Anti-complementary substances present', '', ''),
    ('B', 'Better', 'B', 'Better'),
    ('CAR', 'Carrier', 'CAR', 'Carrier'),
    ('D', 'Significant change down', 'D', 'Significant change down'),
    ('DET', 'Detected', 'DET', 'Detected'),
    ('E', 'Equivocal', 'E', 'Equivocal'),
    ('EX', 'outside threshold', 'EX', 'outside threshold'),
    ('EXP', 'Expected', 'EXP', 'Expected'),
    ('H', 'High', 'H', 'High'),
    ('HH', 'Critical high', 'HH', 'Critical high'),
    ('HM', 'Hold for Medical Review', '', ''),
    ('HU', 'Significantly high', 'HU', 'Significantly high'),
    ('I', 'Intermediate', 'I', 'Intermediate'),
    ('IE', 'Insufficient evidence', 'IE', 'Insufficient evidence'),
    ('IND', 'Indeterminate', 'IND', 'Indeterminate'),
    ('L', 'Low', 'L', 'Low'),
    ('LL', 'Critical low', 'LL', 'Critical low'),
    ('LU', 'Significantly low', 'LU', 'Significantly low'),
    ('MS', 'moderately susceptible', 'MS', 'moderately susceptible'),
    ('N', 'Normal', 'N', 'Normal'),
    ('NCL', 'No CLSI defined breakpoint', 'NCL', 'No CLSI defined breakpoint'),
    ('ND', 'Not Detected', 'ND', 'Not detected'),
    ('NEG', 'Negative', 'NEG', 'Negative'),
    ('NR', 'Non-reactive', 'NR', 'Non-reactive'),
    ('NS', 'Non-susceptible', 'NS', 'Non-susceptible'),
    ('OBX', 'Interpretation qualifiers in separate OBX segments', '', ''),
    ('POS', 'Positive', 'POS', 'Positive'),
    ('QCF', 'Quality Control Failure', '', ''),
    ('R', 'Resistant', 'R', 'Resistant'),
    ('RR', 'Reactive', 'RR', 'Reactive'),
    ('S', 'Susceptible', 'S', 'Susceptible'),
    ('SDD', 'Susceptible-dose dependent', 'SDD', 'Susceptible-dose dependent'),
    ('SYN-R', 'Synergy - resistant', 'SYN-R', 'Synergy - resistant'),
    ('SYN-S', 'Synergy - susceptible', 'SYN-S', 'Synergy - susceptible'),
    ('TOX', 'Cytotoxic substance present', '', ''),
    ('U', 'Significant change up', 'U', 'Significant change up'),
    ('VS', 'very susceptible', 'VS', 'very susceptible'),
    ('UNE', 'Unexpected', 'UNE', 'Unexpected'),
    ('W', 'Worse', 'W', 'Worse'),
    ('WR', 'Weakly reactive', 'WR', 'Weakly reactive'),
]
V2_0085: list[tuple[str, str, str]] = [  # (OBX-11, short v2 text, FHIR Observation.status or '')
    ('A', 'Amended', 'amended'),
    ('B', 'Appended report', ''),
    ('C', 'Correction of a final result', 'corrected'),
    ('D', 'Deletes the OBX record', 'entered-in-error'),
    ('F', 'Final results', 'final'),
    ('I', 'Specimen in lab; results pending', ''),
    ('N', 'Not asked', ''),
    ('O', 'Order detail description only', ''),
    ('P', 'Preliminary results', 'preliminary'),
    ('R', 'Results entered -- not verified', ''),
    ('S', 'Partial results (deprecated)', ''),
    ('V', 'Verified final results', ''),
    ('X', 'Results cannot be obtained for this observation', 'cancelled'),
    ('U', 'Status changed to final without retransmitting results', ''),
    ('W', 'Post original as wrong', 'entered-in-error'),
]
V2_0001: list[tuple[str, str, str]] = [  # (PID-8, v2 text, FHIR administrative-gender)
    ('F', 'Female', 'female'),
    ('M', 'Male', 'male'),
    ('O', 'Other', 'other'),
    ('U', 'Unknown', 'unknown'),
    ('A', 'Ambiguous', 'other'),
    ('N', 'Not applicable', 'other'),
]
V2_0004: list[tuple[str, str, str, str, str]] = [  # (PV1-2, v2 text, code system id, code, display)
    ('E', 'Emergency', 'v3-ActCode', 'EMER', 'emergency'),
    ('I', 'Inpatient', 'v3-ActCode', 'IMP', 'inpatient encounter'),
    ('O', 'Outpatient', 'v3-ActCode', 'AMB', 'ambulatory'),
    ('P', 'Preadmit', 'v3-ActCode', 'PRENC', 'pre-admission'),
    ('R', 'Recurring patient', 'v2-0004', 'R', 'Recurring patient'),
    ('B', 'Obstetrics', 'v2-0004', 'B', 'Obstetrics'),
    ('C', 'Commercial Account', 'v2-0004', 'C', 'Commercial Account'),
    ('N', 'Not Applicable', 'v2-0004', 'N', 'Not Applicable'),
    ('U', 'Unknown', 'v2-0004', 'U', 'Unknown'),
]
V2_0203: list[tuple[str, str]] = [  # (identifier type, v2 text): identity map to v2-0203
    ('ACSN', 'Accession ID'),
    ('AM', 'American Express'),
    ('AMA', 'American Medical Association Number'),
    ('AN', 'Account number'),
    ('ANON', 'Anonymous identifier'),
    ('ANC', 'Account number Creditor'),
    ('AND', 'Account number debitor'),
    ('ANT', 'Temporary Account Number'),
    ('APRN', 'Advanced Practice Registered Nurse number'),
    ('ASID', 'Ancestor Specimen ID'),
    ('BA', 'Bank Account Number'),
    ('BC', 'Bank Card Number'),
    ('BCT', 'Birth Certificate'),
    ('BR', 'Birth registry number'),
    ('BRN', 'Breed Registry Number'),
    ('BSNR', 'Primary physician office number'),
    ('CC', 'Cost Center number'),
    ('CONM', 'Change of Name Document'),
    ('CZ', 'Citizenship Card'),
    ('CY', 'County number'),
    ('DDS', 'Dentist license number'),
    ('DEA', 'Drug Enforcement Administration registration number'),
    ('DI', 'Diner’s Club card'),
    ('DFN', 'Drug Furnishing or prescriptive authority Number'),
    ('DL', 'Driver’s license number'),
    ('DN', 'Doctor number'),
    ('DO', 'Osteopathic License number'),
    ('DP', 'Diplomatic Passport'),
    ('DPM', 'Podiatrist license number'),
    ('DR', 'Donor Registration Number'),
    ('DS', 'Discover Card'),
    ('EI', 'Employee number'),
    ('EN', 'Employer number'),
    ('ESN', 'Staff Enterprise Number'),
    ('FI', 'Facility ID'),
    ('GI', 'Guarantor internal identifier'),
    ('GL', 'General ledger number'),
    ('GN', 'Guarantor external identifier'),
    ('HC', 'Health Card Number'),
    ('JHN', 'Jurisdictional health number (Canada)'),
    ('IND', 'Indigenous/Aboriginal'),
    ('LACSN', 'Laboratory Accession ID'),
    ('LANR', 'Lifelong physician number'),
    ('LI', 'Labor and industries number'),
    ('LN', 'License number'),
    ('LR', 'Local Registry ID'),
    ('MA', 'Patient Medicaid number'),
    ('MB', 'Member Number'),
    ('MC', 'Patient’s Medicare number'),
    ('MCD', 'Practitioner Medicaid number'),
    ('MCN', 'Microchip Number'),
    ('MCR', 'Practitioner Medicare number'),
    ('MCT', 'Marriage Certificate'),
    ('MD', 'Medical License number'),
    ('MI', 'Military ID number'),
    ('MR', 'Medical record number'),
    ('MRT', 'Temporary Medical Record Number'),
    ('MS', 'MasterCard'),
    ('NBSNR', 'Secondary physician office number'),
    ('NCT', 'Naturalization Certificate'),
    ('NE', 'National employer identifier'),
    ('NH', 'National Health Plan Identifier'),
    ('NI', 'National unique individual identifier'),
    ('NII', 'National Insurance Organization Identifier'),
    ('NIIP', 'National Insurance Payor Identifier (Payor)'),
    ('NNxxx', 'National Person Identifier where the xxx is the ISO table 3166 3-character (alphabetic) country code'),
    ('NP', 'Nurse practitioner number'),
    ('NPI', 'National provider identifier'),
    ('OD', 'Optometrist license number'),
    ('PA', 'Physician Assistant number'),
    ('PC', 'Parole Card'),
    ('PCN', 'Penitentiary/correctional institution Number'),
    ('PE', 'Living Subject Enterprise Number'),
    ('PEN', 'Pension Number'),
    ('PI', 'Patient internal identifier'),
    ('PN', 'Person number'),
    ('PNT', 'Temporary Living Subject Number'),
    ('PPIN', 'Medicare/CMS Performing Provider Identification Number'),
    ('PPN', 'Passport number'),
    ('PRC', 'Permanent Resident Card Number'),
    ('PRN', 'Provider number'),
    ('PT', 'Patient external identifier'),
    ('QA', 'QA number'),
    ('RI', 'Resource identifier'),
    ('RPH', 'Pharmacist license number'),
    ('RN', 'Registered Nurse Number'),
    ('RR', 'Railroad Retirement number'),
    ('RRI', 'Regional registry ID'),
    ('RRP', 'Railroad Retirement Provider'),
    ('SID', 'Specimen ID'),
    ('SL', 'State license'),
    ('SN', 'Subscriber Number'),
    ('SP', 'Study Permit'),
    ('SR', 'State registry ID'),
    ('SS', 'Social Security number'),
    ('TAX', 'Tax ID number'),
    ('TN', 'Treaty Number/ (Canada)'),
    ('TPR', 'Temporary Permanent Resident (Canada)'),
    ('U', 'Unspecified identifier'),
    ('UPIN', 'Medicare/CMS (formerly HCFA)’s Universal Physician Identification numbers'),
    ('USID', 'Unique Specimen ID'),
    ('VN', 'Visit number'),
    ('VP', 'Visitor Permit'),
    ('VS', 'VISA'),
    ('WC', 'WIC identifier'),
    ('WCN', 'Workers’ Comp Number'),
    ('WP', 'Work Permit'),
    ('XX', 'Organization identifier'),
]
# ---------------------------------------------------------------------------------------------
# IEEE 11073 measurement status -> FHIR, per the HL7 PoCD IG. Security labels: RELIABLE, UNRELIABLE,
# UNCERTREL, HRELIABLE are v3-ObservationValue codes, HTEST a v3-ActReason code (FHIR R5 ValueSet
# security-labels). Interpretations other than < > come from the PoCD IG CodeSystem measurement-status
# (input/vocabulary/CodeSystem-measurement-status.xml, whose codes are used where the page text differs).
# ---------------------------------------------------------------------------------------------
OBSV = "v3-ObservationValue"
ACTREASON = "v3-ActReason"
MSTAT = "measurement-status"
V3INTERP = "v3-ObservationInterpretation"
POCD_DIM = f"{POCD_IG} mappingdim.md, Measurement Status"
POCD_V2 = f"{POCD_IG} mappingv2.md, OBX-8 Abnormal Flags"

# (bit, MeasurementStatus name, security system, security code, dataAbsentReason, interpretation code)
MEASUREMENT_STATUS: list[tuple[int, str, str, str, str, str]] = [
    (0, "invalid", OBSV, "UNRELIABLE", "error", ""),
    (1, "questionable", OBSV, "UNCERTREL", "", "questionable"),
    (2, "not-available", "", "", "not-performed", ""),
    (3, "calibration-ongoing", OBSV, "UNCERTREL", "", "calibration-ongoing"),
    (4, "test-data", ACTREASON, "HTEST", "", ""),
    (5, "demo-data", ACTREASON, "HTEST", "", ""),
    (8, "validated-data", OBSV, "HRELIABLE", "", "validated-data"),
    (9, "early-indication", "", "", "", "early-indication"),
    (10, "msmt-ongoing", "", "", "temp-unknown", "msmt-ongoing"),
    (14, "msmt-state-in-alarm", "", "", "", "in-alarm"),
    (15, "msmt-state-al-inhibited", "", "", "", "alarm-inhibited"),
]

# PCD-01 OBX-8 flags: (flag, meaning, OBX-11 the flag goes with, security system, security code,
# dataAbsentReason, interpretation system, interpretation code)
PCD01_OBX8: list[tuple[str, str, str, str, str, str, str, str]] = [
    ("INV", "invalid(0)", "X", OBSV, "UNRELIABLE", "error", "", ""),
    ("QUES", "questionable(1)", "R", OBSV, "UNCERTREL", "", MSTAT, "questionable"),
    ("NAV", "not-available(2) / temporarily not available", "X", "", "", "temp-unknown", "", ""),
    ("CAL", "calibration-ongoing(3)", "R", OBSV, "UNCERTREL", "", MSTAT, "calibration-ongoing"),
    ("TEST", "test-data(4)", "R", ACTREASON, "HTEST", "", "", ""),
    ("DEMO", "demo-data(5)", "R", ACTREASON, "HTEST", "", "", ""),
    ("VAL", "validated-data(8)", "F", OBSV, "HRELIABLE", "", MSTAT, "validated-data"),
    ("EARLY", "early-indication(9)", "R", "", "", "", MSTAT, "early-indication"),
    ("BUSY", "msmt-ongoing(10)", "X", "", "", "temp-unknown", MSTAT, "msmt-ongoing"),
    ("ALACT", "msmt-state-in-alarm(14)", "R", "", "", "", MSTAT, "in-alarm"),
    ("ALINH", "msmt-state-al-inhibited(15)", "R", "", "", "", MSTAT, "alarm-inhibited"),
    ("NI", "no information", "", "", "", "unknown", "", ""),
    ("OFF", "measurement function deactivated by user", "", "", "", "not-performed", "", ""),
    (">", "above absolute high-off instrument scale", "", "", "", "", V3INTERP, ">"),
    ("<", "below absolute low-off instrument scale", "", "", "", "", V3INTERP, "<"),
    ("PN", "alert priority: no alarm", "", "", "", "", "", ""),
    ("PL", "alert priority: low", "", "", "", "", "", ""),
    ("PM", "alert priority: medium", "", "", "", "", "", ""),
    ("PH", "alert priority: high", "", "", "", "", "", ""),
]


# ---------------------------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------------------------
def _csv(header: list[str], rows: list[list[object]]) -> str:
    """Render rows as CSV text with LF line ends (stable across platforms)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _check_terms() -> None:
    """Refuse duplicate codes/refids and out-of-range term codes."""
    seen_codes: dict[int, str] = {}
    seen_refids: set[str] = set()
    for part, term_code, refid, _display, _ucum, source in TERMS:
        if not 0 <= term_code < 65536 or not 0 <= part < 65536:
            raise SystemExit(f"bad code for {refid}")
        code = part * 65536 + term_code
        if code in seen_codes:
            raise SystemExit(f"duplicate code {code}: {refid} and {seen_codes[code]}")
        if refid in seen_refids:
            raise SystemExit(f"duplicate refid {refid}")
        if not source:
            raise SystemExit(f"{refid} has no source")
        seen_codes[code] = refid
        seen_refids.add(refid)
    for alias, code, _ in REFID_ALIASES:
        if code not in seen_codes or alias in seen_refids:
            raise SystemExit(f"bad alias {alias}")
    for code, *_ in LOINC_ROWS:
        if code not in seen_codes:
            raise SystemExit(f"LOINC row for unknown MDC code {code}")


def render() -> dict[str, str]:
    """All generated files: name -> text."""
    _check_terms()
    terms = sorted(TERMS, key=lambda t: t[0] * 65536 + t[1])
    files = {
        "mdc_terms.csv": _csv(
            ["code", "partition", "term_code", "refid", "display", "ucum_units", "source"],
            [[p * 65536 + t, p, t, r, d, u, s] for p, t, r, d, u, s in terms],
        ),
        "mdc_refid_aliases.csv": _csv(
            ["refid", "code", "source"], [list(a) for a in sorted(REFID_ALIASES)]
        ),
        "mdc_units.csv": _csv(
            ["code", "term_code", "refid", "ucum", "source"],
            [[4 * 65536 + t, t, r, u, s] for t, r, u, s in sorted(UNITS)],
        ),
        "mdc_unit_aliases.csv": _csv(
            ["refid", "code", "source"], [[r, 4 * 65536 + t, s] for r, t, s in sorted(UNIT_ALIASES)]
        ),
        "loinc_vitals.csv": _csv(
            ["mdc_code", "loinc", "display", "preferred", "source"],
            [[c, lo, d, "1" if p else "0", s] for c, lo, d, p, s in LOINC_ROWS],
        ),
        "vital_signs_loinc.csv": _csv(
            ["loinc", "display", "profile", "source"], [list(r) for r in VITAL_SIGN_LOINC]
        ),
        "v2_0078.csv": _csv(
            ["code", "display", "fhir_system", "fhir_code", "fhir_display", "source"],
            [[c, d, V3INTERP if fc else "", fc, fd, V2FHIR.format("InterpretationCodes")] for c, d, fc, fd in V2_0078],
        ),
        "v2_0085.csv": _csv(
            ["code", "display", "fhir_status", "source"],
            [[c, d, st, V2FHIR.format("ObservationResultStatusCodesInterpretation")] for c, d, st in V2_0085],
        ),
        "v2_0001.csv": _csv(
            ["code", "display", "fhir_gender", "source"],
            [[c, d, g, V2FHIR.format("AdministrativeSex")] for c, d, g in V2_0001],
        ),
        "v2_0004.csv": _csv(
            ["code", "display", "fhir_system", "fhir_code", "fhir_display", "source"],
            [[c, d, cs, fc, fd, V2FHIR.format("PatientClass[EncounterClass]")] for c, d, cs, fc, fd in V2_0004],
        ),
        "v2_0203.csv": _csv(
            ["code", "display", "source"], [[c, d, V2FHIR.format("IdentifierType")] for c, d in V2_0203]
        ),
        "measurement_status.csv": _csv(
            ["bit", "name", "security_system", "security_code", "data_absent_reason", "interpretation_system",
             "interpretation_code", "source"],
            [[b, n, ss, sc, dar, MSTAT if ic else "", ic, POCD_DIM] for b, n, ss, sc, dar, ic in MEASUREMENT_STATUS],
        ),
        "pcd01_obx8.csv": _csv(
            ["flag", "meaning", "obx11", "security_system", "security_code", "data_absent_reason",
             "interpretation_system", "interpretation_code", "source"],
            [[*row, POCD_V2] for row in PCD01_OBX8],
        ),
    }
    return files


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the generated files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if any generated file differs")
    args = ap.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = DATA / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            DATA.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
