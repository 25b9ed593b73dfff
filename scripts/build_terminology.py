"""Generate interop/terminology/data/*.csv from the curated source rows below.

In the spirit of pydicom's `_dicom_dict.py`: the shipped CSV files are generated, never edited by
hand; this script is the single place where a row enters the package, each with the public source
its facts come from. Codes are facts of IEEE 11073-10101 and its PHD specializations; where the
standard text itself is not public, the source names the public document (HL7 IG, IHE profile)
or the public transcription that states the code.

    python scripts/build_terminology.py          # rewrite the CSV files
    python scripts/build_terminology.py --check  # exit 1 when the CSV files are out of date
    python scripts/build_terminology.py --antidote DIR --mdrepo DIR --dkcore DIR
                                                 # re-read public sources, report disagreeing codes

Context-free code = partition * 65536 + term code (IEEE 11073-10101, 5.2).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
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
CSR_10441 = ("IEEE 11073-10441 nomenclature, as transcribed in the CSR Synergy PHDC header "
             "csr_bt_phdc_ieee_asn_nom_codes.h (found by code search, repository not recorded)")
ROSETTA_MDPNP = "IHE PCD Rosetta (NIST RTMMS), as transcribed in mdpnp/mdpnp data-types/x73-idl .../nomenclature/physio.idl @38fa90b"
ROSETTA_NBP = ("IHE PCD Rosetta (NIST RTMMS) group CVS_HEMO_NBP (non-invasive blood pressure), as republished in "
               "coockiejr/rtmms @0e88706 public/docs (corpus terminology/rtmms_rosetta_terms_extract.csv); OpenICE "
               "(mdpnp/mdpnp) reads Philips NOM_PRESS_BLD_NONINV_SYS/DIA as MDC_PRESS_CUFF_SYS/DIA; sent by Mindray "
               "VS-900 (tests/data/hl7v2/pcd01-mindray-vs900.hl7)")
ROSETTA_TEMP_AXIL = ("IHE PCD Rosetta (NIST RTMMS) reference id MDC_TEMP_AXIL (status unregistered, contributed by GE, "
                     "group TEMP, units MDC_DIM_DEGC / MDC_DIM_FAHR), as republished in coockiejr/rtmms @0e88706 "
                     "public/docs (corpus terminology/rtmms_rosetta_terms_extract.csv); the code 188496 (partition 2, "
                     "term 57424) as sent by Mindray VS-900 (tests/data/hl7v2/pcd01-mindray-vs900.hl7, OBX-3 "
                     "188496^MDC_TEMP_AXIL^MDC)")
ROSETTA_CO2 = ("IHE PCD Rosetta (NIST RTMMS) group GASMON_CO2 (units MDC_DIM_PERCENT, MDC_DIM_KILO_PASCAL, "
               "MDC_DIM_MMHG), as republished in coockiejr/rtmms @0e88706 public/docs (corpus "
               "terminology/rtmms_rosetta_terms_extract.csv)")
FHIR_R6_SYS = ("FHIR R6 (6.0.0-ballot3) ValueSet observation-vitalsign-systolicbp (arterial systolic BP codes for "
               "Observation.component.code: 8480-6 and the invasive 76215-3 'Invasive Systolic blood pressure')")
FHIR_R6_DIA = ("FHIR R6 (6.0.0-ballot3) ValueSet observation-vitalsign-diastolicbp (arterial diastolic BP codes for "
               "Observation.component.code: 8462-4 and the invasive 76213-8 'Invasive Diastolic blood pressure')")
PHD_DEVTYPES = f"{PHD_IG} ValueSet DeviceTypes11073MDC (input/fsh/ValueSet.DeviceTypes11073MDC.fsh)"
PHD_TIMESYNC = f"{PHD_IG} ValueSet MDCTimeSyncMethods (input/fsh/ValueSet.MDCTimeSyncMethods.fsh)"
POCD_EX = f"{POCD_IG} example"
PCD01_EX = "IHE PCD-01 ORU^R01 in HL7 PoCD IG mappingv2.md (corpus hl7v2/pocd-philips-intellivue-pcd01.hl7)"
UCUM = "UCUM c/s code (unitsofmeasure.org)"
ISO10101 = ("ISO/IEEE 11073-10101:2004 Annex B, as transcribed in wlbaker/mdrepo @766a390 "
            "intfcode/intellivue/Shared/Nomenclature")
DKCORE = "HL7 DK Core IG ValueSet dk-core-IEEEBasicObservation (hl7dk/dk-core @8322003 input/fsh/valueSets.fsh)"
FREESCALE = ("IEEE 11073-10417 nomenclature, as transcribed in cdealti/zigbee_firmware "
             ".../BeeApps/HC/NomenclatureCodes.h (Freescale)")
A10420_TX = ("IEEE 11073-10420 code value; four independent public PHD implementations agree "
             "(found by code search, repository not recorded)")
ANTIDOTE_PEDOMETER = f"{ANTIDOTE} tests/resources/apdu/pedometer (corpus ieee11073/antidote_pedometer_*)"

# ---------------------------------------------------------------------------------------------
# MDC terms: (partition, term_code, refid, display, "ucum|ucum", source)
# ---------------------------------------------------------------------------------------------
TERMS: list[tuple[int, int, str, str, str, str]] = [
    # Vital signs and physiological monitoring (partition 2, SCADA)
    (2, 16770, 'MDC_ECG_HEART_RATE', 'Heart rate (ECG)', '/min', f"{ISO10101}; {DKCORE}; {POCD_IG} examples"),
    (2, 18442, 'MDC_PULS_RATE', 'Pulse rate', '/min', f"{ISO10101}; {DKCORE}; {ROSETTA_MDPNP}"),
    (2, 18450, 'MDC_BLD_PULS_RATE_INV', 'Pulse rate (invasive)', '/min', f"{ISO10101}; {DKCORE}"),
    (2, 18458, 'MDC_PULS_OXIM_PULS_RATE', 'Pulse rate (pulse oximeter)', '/min', f"{A10404}; {ISO10101}; {DKCORE}; {PHD_IG} example bundle-example-1"),
    (2, 18474, 'MDC_PULS_RATE_NON_INV', 'Pulse rate (non-invasive BP)', '/min', f"{A10407}; {ISO10101}; {DKCORE}"),
    (2, 18482, 'MDC_TTHOR_HEART_RATE', 'Heart rate (transthoracic impedance)', '/min', DKCORE),
    (2, 18490, 'MDC_PALPATION_HEART_RATE', 'Heart rate (palpation)', '/min', DKCORE),
    (2, 20490, 'MDC_RESP_RATE', 'Respiration rate', '/min', f"{ISO10101}; {DKCORE}; {CSR_10441}"),
    (2, 20498, 'MDC_AWAY_RESP_RATE', 'Respiration rate (airway flow)', '/min', f"{ISO10101}; {DKCORE}"),
    (2, 20506, 'MDC_TTHOR_RESP_RATE', 'Respiration rate (transthoracic impedance)', '/min', f"{ISO10101}; {DKCORE}"),
    (2, 20522, 'MDC_CO2_RESP_RATE', 'Respiration rate (CO2)', '/min', f"{ISO10101}; {DKCORE}"),
    (2, 20530, 'MDC_PRESS_RESP_RATE', 'Respiration rate (pressure)', '/min', f"{ISO10101}; {DKCORE}"),
    (2, 20578, 'MDC_ACOUSTIC_RESP_RATE', 'Respiration rate (acoustic)', '/min', DKCORE),
    (2, 20586, 'MDC_PULS_OXIM_PLETH_RESP_RATE', 'Respiration rate (plethysmogram)', '/min', DKCORE),
    (2, 19384, 'MDC_PULS_OXIM_SAT_O2', 'SpO2', '%', f"{A10404}; {ISO10101}; {DKCORE}; {PHD_IG} example bundle-example-1"),
    (2, 19252, 'MDC_SAT_O2_ART', 'Arterial oxygen saturation', '%', f"{ISO10101}; {DKCORE}"),
    (2, 19260, 'MDC_SAT_O2_VEN', 'Venous oxygen saturation', '%', ISO10101),
    (2, 19248, 'MDC_SAT_O2_QUAL', 'SpO2 signal quality', '', f"{ISO10101}; {PHD_IG} example bundle-continuousnonin"),
    (2, 19376, 'MDC_PULS_OXIM_PERF_REL', 'Perfusion index (pulse oximeter)', '', ISO10101),
    (2, 19380, 'MDC_PULS_OXIM_PLETH', 'Plethysmogram', '', f"{ISO10101}; {PHD_IG} example rtsa-example"),
    (2, 19416, 'MDC_BLD_PERF_INDEX', 'Perfusion index', '%', ISO10101),
    (2, 20656, 'MDC_AWAY_CO2_ET', 'End-tidal CO2', 'mm[Hg]|kPa', ISO10101),
    # capnography concentrations (units %, kPa, mm[Hg] as the IHE PCD Rosetta lists them for group GASMON_CO2)
    (2, 20628, 'MDC_CONC_AWAY_CO2', 'Airway CO2 concentration', '%|kPa|mm[Hg]', f"{ISO10101}; {ROSETTA_CO2}"),
    (2, 20636, 'MDC_CONC_AWAY_CO2_ET', 'End-tidal CO2 concentration', '%|kPa|mm[Hg]', f"{ISO10101}; {ROSETTA_CO2}"),
    (2, 20640, 'MDC_CONC_AWAY_CO2_EXP', 'Expired CO2 concentration', '%|kPa|mm[Hg]', f"{ISO10101}; {ROSETTA_CO2}"),
    (2, 20644, 'MDC_CONC_AWAY_CO2_INSP', 'Inspired CO2 concentration', '%|kPa|mm[Hg]', f"{ISO10101}; {ROSETTA_CO2}"),
    (2, 22784, 'MDC_CIRCUM_HEAD', 'Head circumference', 'cm|[in_i]', f"{ISO10101}; {DKCORE}"),
    (2, 57672, 'MDC_AREA_BODY_SURF_ACTUAL', 'Body surface area', 'm2', ISO10101),
    # Non-invasive blood pressure (IEEE 11073-10407)
    (2, 18948, 'MDC_PRESS_BLD_NONINV', 'Non-invasive blood pressure', 'mm[Hg]|kPa', f"{A10407}; {ISO10101}; {DKCORE}; {PHD_IG} example bloodPress-1.0.1; {POCD_IG} examples"),
    (2, 18949, 'MDC_PRESS_BLD_NONINV_SYS', 'Systolic blood pressure (NIBP)', 'mm[Hg]|kPa', f"{A10407}; {ISO10101}; {DKCORE}; {PHD_IG} example bloodPress-1.0.1; {POCD_IG} examples"),
    (2, 18950, 'MDC_PRESS_BLD_NONINV_DIA', 'Diastolic blood pressure (NIBP)', 'mm[Hg]|kPa', f"{A10407}; {ISO10101}; {DKCORE}; {PHD_IG} example bloodPress-1.0.1; {POCD_IG} examples"),
    (2, 18951, 'MDC_PRESS_BLD_NONINV_MEAN', 'Mean blood pressure (NIBP)', 'mm[Hg]|kPa', f"{A10407}; {ISO10101}; {DKCORE}; {PHD_IG} example bloodPress-1.0.1; {POCD_IG} examples"),
    (2, 19228, 'MDC_PRESS_CUFF', 'Cuff pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 19229, 'MDC_PRESS_CUFF_SYS', 'Systolic cuff pressure (NIBP)', 'mm[Hg]|kPa', ROSETTA_NBP),
    (2, 19230, 'MDC_PRESS_CUFF_DIA', 'Diastolic cuff pressure (NIBP)', 'mm[Hg]|kPa', ROSETTA_NBP),
    (2, 19231, 'MDC_PRESS_CUFF_MEAN', 'Mean cuff pressure (NIBP)', 'mm[Hg]|kPa', ROSETTA_NBP),
    # Invasive blood pressure
    (2, 18944, 'MDC_PRESS_BLD', 'Blood pressure (IBP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18945, 'MDC_PRESS_BLD_SYS', 'Systolic blood pressure (IBP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18946, 'MDC_PRESS_BLD_DIA', 'Diastolic blood pressure (IBP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18947, 'MDC_PRESS_BLD_MEAN', 'Mean blood pressure (IBP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18960, 'MDC_PRESS_BLD_ART', 'Arterial blood pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18961, 'MDC_PRESS_BLD_ART_SYS', 'Systolic arterial blood pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18962, 'MDC_PRESS_BLD_ART_DIA', 'Diastolic arterial blood pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18963, 'MDC_PRESS_BLD_ART_MEAN', 'Mean arterial blood pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18964, 'MDC_PRESS_BLD_ART_ABP', 'Arterial blood pressure (ABP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18965, 'MDC_PRESS_BLD_ART_ABP_SYS', 'Systolic arterial blood pressure (ABP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18966, 'MDC_PRESS_BLD_ART_ABP_DIA', 'Diastolic arterial blood pressure (ABP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18967, 'MDC_PRESS_BLD_ART_ABP_MEAN', 'Mean arterial blood pressure (ABP)', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18972, 'MDC_PRESS_BLD_ART_PULM', 'Pulmonary artery pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18973, 'MDC_PRESS_BLD_ART_PULM_SYS', 'Systolic pulmonary artery pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18974, 'MDC_PRESS_BLD_ART_PULM_DIA', 'Diastolic pulmonary artery pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18975, 'MDC_PRESS_BLD_ART_PULM_MEAN', 'Mean pulmonary artery pressure', 'mm[Hg]|kPa', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 18980, 'MDC_PRESS_BLD_ART_PULM_WEDGE', 'Pulmonary artery wedge pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18956, 'MDC_PRESS_BLD_AORT', 'Aortic pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18957, 'MDC_PRESS_BLD_AORT_SYS', 'Systolic aortic pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18958, 'MDC_PRESS_BLD_AORT_DIA', 'Diastolic aortic pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18959, 'MDC_PRESS_BLD_AORT_MEAN', 'Mean aortic pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18992, 'MDC_PRESS_BLD_ATR_LEFT', 'Left atrial pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18995, 'MDC_PRESS_BLD_ATR_LEFT_MEAN', 'Mean left atrial pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18996, 'MDC_PRESS_BLD_ATR_RIGHT', 'Right atrial pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 18999, 'MDC_PRESS_BLD_ATR_RIGHT_MEAN', 'Mean right atrial pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 19012, 'MDC_PRESS_BLD_VEN_CENT', 'Central venous pressure', 'mm[Hg]|kPa', f"{ISO10101}; {POCD_IG} examples"),
    (2, 19013, 'MDC_PRESS_BLD_VEN_CENT_SYS', 'Systolic central venous pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 19014, 'MDC_PRESS_BLD_VEN_CENT_DIA', 'Diastolic central venous pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 19015, 'MDC_PRESS_BLD_VEN_CENT_MEAN', 'Mean central venous pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 22536, 'MDC_PRESS_INTRA_CRAN', 'Intracranial pressure', 'mm[Hg]|kPa', ISO10101),
    (2, 22539, 'MDC_PRESS_INTRA_CRAN_MEAN', 'Mean intracranial pressure', 'mm[Hg]|kPa', ISO10101),
    # Temperature (IEEE 11073-10408 and PoC)
    (2, 19272, 'MDC_TEMP', 'Temperature', 'Cel|[degF]', f"{ISO10101}; {ROSETTA_MDPNP}"),
    (2, 19292, 'MDC_TEMP_BODY', 'Body temperature', 'Cel|[degF]', f"{A20601}; {ISO10101}; {DKCORE}; {PHD_IG} example temperature-observation"),
    (2, 19296, 'MDC_TEMP_CORE', 'Core temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 19316, 'MDC_TEMP_SKIN', 'Skin temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 19320, 'MDC_TEMP_TYMP', 'Tympanic temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 19300, 'MDC_TEMP_ESOPH', 'Oesophageal temperature', 'Cel|[degF]', ISO10101),
    (2, 19308, 'MDC_TEMP_NASOPH', 'Nasopharyngeal temperature', 'Cel|[degF]', ISO10101),
    (2, 19280, 'MDC_TEMP_ART', 'Arterial blood temperature', 'Cel|[degF]', ISO10101),
    (2, 19324, 'MDC_TEMP_VEN', 'Venous blood temperature', 'Cel|[degF]', ISO10101),
    (2, 57364, 'MDC_TEMP_BLD', 'Blood temperature', 'Cel|[degF]', ISO10101),
    (2, 57368, 'MDC_TEMP_DIFF', 'Temperature difference', 'Cel|[degF]', ISO10101),
    (2, 57348, 'MDC_TEMP_RECT', 'Rectal temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 57352, 'MDC_TEMP_ORAL', 'Oral temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 57356, 'MDC_TEMP_EAR', 'Ear temperature', 'Cel|[degF]', f"{ISO10101}; {DKCORE}"),
    (2, 57360, 'MDC_TEMP_FINGER', 'Finger temperature', 'Cel|[degF]', ISO10101),
    (2, 57376, 'MDC_TEMP_TOE', 'Toe temperature', 'Cel|[degF]', ISO10101),
    (2, 57380, 'MDC_TEMP_AXILLA', 'Axillary temperature', 'Cel|[degF]', DKCORE),
    (2, 57384, 'MDC_TEMP_GIT', 'Gastro-intestinal tract temperature', 'Cel|[degF]', DKCORE),
    (2, 57424, 'MDC_TEMP_AXIL', 'Axillary temperature (Rosetta, unregistered)', 'Cel|[degF]', ROSETTA_TEMP_AXIL),
    # Weighing scale (10415) and body composition analyser (10420)
    (2, 57664, 'MDC_MASS_BODY_ACTUAL', 'Body weight', 'kg|[lb_av]', f"{A20601}; {ISO10101}; {DKCORE}"),
    (2, 57668, 'MDC_LEN_BODY_ACTUAL', 'Body height', 'cm|[in_i]', f"{A10415}; {ISO10101}; {DKCORE}"),
    (2, 57680, 'MDC_RATIO_MASS_BODY_LEN_SQ', 'Body mass index', 'kg/m2', f"{A10415}; {DKCORE}"),
    (2, 57676, 'MDC_BODY_FAT', 'Body fat', '%', A20601),
    (2, 57684, 'MDC_MASS_BODY_FAT_FREE', 'Fat-free mass', 'kg|[lb_av]', A10420_TX),
    (2, 57688, 'MDC_MASS_BODY_SOFT_LEAN', 'Soft lean mass', 'kg|[lb_av]', A10420_TX),
    (2, 57692, 'MDC_BODY_WATER', 'Body water', 'kg|[lb_av]', A10420_TX),
    # Glucose meter (10417), partition 2
    (2, 28948, 'MDC_CONC_GLU_GEN', 'Glucose', 'mg/dL|mmol/L', f"{ISO10101}; {FREESCALE}"),
    (2, 29112, 'MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD', 'Glucose, capillary whole blood', 'mg/dL|mmol/L', f"{A10417}; {PHD_IG} example compound-observation-glucose; {FREESCALE}"),
    (2, 29116, 'MDC_CONC_GLU_CAPILLARY_PLASMA', 'Glucose, capillary plasma', 'mg/dL|mmol/L', FREESCALE),
    (2, 29120, 'MDC_CONC_GLU_VENOUS_WHOLEBLOOD', 'Glucose, venous whole blood', 'mg/dL|mmol/L', FREESCALE),
    (2, 29124, 'MDC_CONC_GLU_VENOUS_PLASMA', 'Glucose, venous plasma', 'mg/dL|mmol/L', FREESCALE),
    (2, 29128, 'MDC_CONC_GLU_ARTERIAL_WHOLEBLOOD', 'Glucose, arterial whole blood', 'mg/dL|mmol/L', FREESCALE),
    (2, 29132, 'MDC_CONC_GLU_ARTERIAL_PLASMA', 'Glucose, arterial plasma', 'mg/dL|mmol/L', FREESCALE),
    (2, 29136, 'MDC_CONC_GLU_CONTROL', 'Glucose, control solution', 'mg/dL|mmol/L', FREESCALE),
    (2, 29140, 'MDC_CONC_GLU_ISF', 'Glucose, interstitial fluid', 'mg/dL|mmol/L', FREESCALE),
    (2, 29296, 'MDC_CONC_GLU_UNDETERMINED_PLASMA', 'Glucose, plasma, sample type undetermined', 'mg/dL|mmol/L', f"{PHD_IG} example glucose-observation"),
    (2, 29148, 'MDC_CONC_HBA1C', 'HbA1c', '%', FREESCALE),
    # ECG (PoCD, PCD-01)
    (2, 256, 'MDC_ECG_ELEC_POTL', 'ECG lead, unspecified', 'mV', f"{ISO10101}; {POCD_IG} examples"),
    (2, 257, 'MDC_ECG_ELEC_POTL_I', 'ECG lead I', 'mV', f"{ISO10101}; {PHD_IG} example rtsa-example-2; {POCD_IG} examples"),
    (2, 258, 'MDC_ECG_ELEC_POTL_II', 'ECG lead II', 'mV', f"{ISO10101}; {POCD_IG} examples"),
    (2, 317, 'MDC_ECG_ELEC_POTL_III', 'ECG lead III', 'mV', f"{ISO10101}; {POCD_IG} examples"),
    (2, 318, 'MDC_ECG_ELEC_POTL_AVR', 'ECG lead aVR', 'mV', ISO10101),
    (2, 319, 'MDC_ECG_ELEC_POTL_AVL', 'ECG lead aVL', 'mV', ISO10101),
    (2, 320, 'MDC_ECG_ELEC_POTL_AVF', 'ECG lead aVF', 'mV', ISO10101),
    (2, 259, 'MDC_ECG_ELEC_POTL_V1', 'ECG lead V1', 'mV', ISO10101),
    (2, 260, 'MDC_ECG_ELEC_POTL_V2', 'ECG lead V2', 'mV', ISO10101),
    (2, 261, 'MDC_ECG_ELEC_POTL_V3', 'ECG lead V3', 'mV', ISO10101),
    (2, 262, 'MDC_ECG_ELEC_POTL_V4', 'ECG lead V4', 'mV', ISO10101),
    (2, 263, 'MDC_ECG_ELEC_POTL_V5', 'ECG lead V5', 'mV', ISO10101),
    (2, 264, 'MDC_ECG_ELEC_POTL_V6', 'ECG lead V6', 'mV', ISO10101),
    (2, 53255, 'MDC_ECG_STAT_RHY', 'ECG rhythm status', '', f"{ISO10101}; {POCD_IG} examples"),
    (2, 53254, 'MDC_ECG_STAT_ECT', 'ECG ectopic status', '', ISO10101),
    (2, 16402, 'MDC_ECG_SINUS_RHY', 'Sinus rhythm', '', f"{ISO10101}; {POCD_IG} examples"),
    (2, 16393, 'MDC_ECG_PACED_RHY', 'Paced rhythm', '', ISO10101),
    (2, 16993, 'MDC_ECG_V_P_C_CNT', 'PVC count', '', ISO10101),
    (2, 16994, 'MDC_ECG_V_P_C_RATE', 'PVC rate', '/min', ISO10101),
    (2, 16554, 'MDC_ECG_PACED_BEAT_RATE', 'Paced beat rate', '/min', ISO10101),
    # Pulse oximeter (10404) status and modality
    (2, 19532, 'MDC_PULS_OXIM_DEV_STATUS', 'Pulse oximeter device and sensor status', '', f"{PHD_IG} example bits-observation"),
    (2, 19508, 'MDC_MODALITY_FAST', 'Fast response averaging', '', A10404),
    (2, 19512, 'MDC_MODALITY_SLOW', 'Slow response averaging', '', A10404),
    (2, 19516, 'MDC_MODALITY_SPOT', 'Spot-check measurement', '', f"{A10404}; {PHD_IG} example bundle-example-1"),
    # Devices: MDS / VMD / channel types used in IHE PCD-01 and the PoCD IG (partition 1)
    (1, 3585, 'MDC_OBS_WAVE_CTS', 'Continuous waveform observation (OBR-4 of a waveform order)', '', f"{PCD01_EX} OBR-4"),
    (1, 4429, 'MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS', 'Multi-parameter physiological monitor MDS', '', f"{ISO10101}; {POCD_IG} examples; {PCD01_EX}"),
    (1, 4430, 'MDC_DEV_MON_PHYSIO_MULTI_PARAM_VMD', 'Multi-parameter physiological monitor VMD', '', ISO10101),
    (1, 4431, 'MDC_DEV_MON_PHYSIO_MULTI_PARAM_CHAN', 'Multi-parameter physiological monitor channel', '', ISO10101),
    (1, 4509, 'MDC_DEV_SYS_PHYSIO_MULTI_PARAM_MDS', 'Multi-parameter physiological system MDS', '', ISO10101),
    (1, 5209, 'MDC_DEV_SYS_VS_CONFIG_MDS', 'Configurable vital signs system MDS', '', ISO10101),
    (1, 5213, 'MDC_DEV_SYS_VS_UNCONFIG_MDS', 'Non-configurable vital signs system MDS', '', ISO10101),
    (1, 4262, 'MDC_DEV_ECG_VMD', 'ECG VMD', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 4263, 'MDC_DEV_ECG_CHAN', 'ECG channel', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 5130, 'MDC_DEV_ECG_RESP_VMD', 'ECG and respiration VMD', '', f"{ISO10101}; {PCD01_EX}"),
    (1, 5131, 'MDC_DEV_ECG_RESP_CHAN', 'ECG and respiration channel', '', ISO10101),
    (1, 5202, 'MDC_DEV_CARD_RATE_VMD', 'Cardiac rate VMD', '', ISO10101),
    (1, 5203, 'MDC_DEV_CARD_RATE_CHAN', 'Cardiac rate channel', '', f"{ISO10101}; {POCD_IG} examples; {PCD01_EX}"),
    (1, 5150, 'MDC_DEV_PRESS_BLD_NONINV_VMD', 'Non-invasive blood pressure VMD', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 5151, 'MDC_DEV_PRESS_BLD_NONINV_CHAN', 'Non-invasive blood pressure channel', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 4174, 'MDC_DEV_ANALY_PRESS_BLD_VMD', 'Blood pressure analyser VMD', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 4175, 'MDC_DEV_ANALY_PRESS_BLD_CHAN', 'Blood pressure analyser channel', '', f"{ISO10101}; {POCD_IG} examples"),
    (1, 4318, 'MDC_DEV_METER_PRESS_BLD_VMD', 'Blood pressure meter VMD', '', ISO10101),
    (1, 4319, 'MDC_DEV_METER_PRESS_BLD_CHAN', 'Blood pressure meter channel', '', ISO10101),
    (1, 4106, 'MDC_DEV_ANALY_SAT_O2_VMD', 'Oxygen saturation analyser VMD', '', ISO10101),
    (1, 4107, 'MDC_DEV_ANALY_SAT_O2_CHAN', 'Oxygen saturation analyser channel', '', ISO10101),
    (1, 5138, 'MDC_DEV_PULS_VMD', 'Pulse VMD', '', ISO10101),
    (1, 5139, 'MDC_DEV_PULS_CHAN', 'Pulse channel', '', ISO10101),
    (1, 4366, 'MDC_DEV_METER_TEMP_VMD', 'Temperature meter VMD', '', ISO10101),
    (1, 4367, 'MDC_DEV_METER_TEMP_CHAN', 'Temperature meter channel', '', ISO10101),
    (1, 4186, 'MDC_DEV_ANALY_RESP_RATE_VMD', 'Respiration rate analyser VMD', '', ISO10101),
    (1, 4187, 'MDC_DEV_ANALY_RESP_RATE_CHAN', 'Respiration rate analyser channel', '', ISO10101),
    (1, 4114, 'MDC_DEV_ANALY_CONC_GAS_MULTI_PARAM_VMD', 'Multi-gas analyser VMD', '', ISO10101),
    (1, 4115, 'MDC_DEV_ANALY_CONC_GAS_MULTI_PARAM_CHAN', 'Multi-gas analyser channel', '', ISO10101),
    (1, 4134, 'MDC_DEV_ANALY_CARD_OUTPUT_VMD', 'Cardiac output analyser VMD', '', ISO10101),
    (1, 4135, 'MDC_DEV_ANALY_CARD_OUTPUT_CHAN', 'Cardiac output analyser channel', '', ISO10101),
    (1, 4449, 'MDC_DEV_PUMP_INFUS_MDS', 'Infusion pump MDS', '', ISO10101),
    (1, 4450, 'MDC_DEV_PUMP_INFUS_VMD', 'Infusion pump VMD', '', ISO10101),
    (1, 4451, 'MDC_DEV_PUMP_INFUS_CHAN', 'Infusion pump channel', '', ISO10101),
    (1, 4465, 'MDC_DEV_SYS_PT_VENT_MDS', 'Ventilator MDS', '', ISO10101),
    (1, 4466, 'MDC_DEV_SYS_PT_VENT_VMD', 'Ventilator VMD', '', ISO10101),
    (1, 4467, 'MDC_DEV_SYS_PT_VENT_CHAN', 'Ventilator channel', '', ISO10101),
    # Managed object classes (partition 1, IEEE 11073-20601 Annex A)
    (1, 4, 'MDC_MOC_VMO_METRIC', 'Metric object', '', f"{A20601}; {ISO10101}"),
    (1, 5, 'MDC_MOC_VMO_METRIC_ENUM', 'Enumeration object', '', f"{A20601}; {ISO10101}"),
    (1, 6, 'MDC_MOC_VMO_METRIC_NU', 'Numeric object', '', f"{A20601}; {ISO10101}"),
    (1, 9, 'MDC_MOC_VMO_METRIC_SA_RT', 'Real-time sample array object', '', f"{A20601}; {ISO10101}"),
    (1, 16, 'MDC_MOC_SCAN', 'Scanner object', '', f"{A20601}; {ISO10101}"),
    (1, 17, 'MDC_MOC_SCAN_CFG', 'Configurable scanner object', '', f"{A20601}; {ISO10101}"),
    (1, 18, 'MDC_MOC_SCAN_CFG_EPI', 'Episodic configurable scanner', '', f"{A20601}; {ISO10101}"),
    (1, 19, 'MDC_MOC_SCAN_CFG_PERI', 'Periodic configurable scanner', '', f"{A20601}; {ISO10101}"),
    (1, 37, 'MDC_MOC_VMS_MDS_SIMP', 'Simple MDS (personal health device)', '', f"{A20601}; {ISO10101}; {DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (1, 61, 'MDC_MOC_VMO_PMSTORE', 'PM-store object', '', f"{A20601}; {ISO10101}"),
    (1, 62, 'MDC_MOC_PM_SEGMENT', 'PM-segment object', '', f"{A20601}; {ISO10101}"),
    # Attributes, actions and notifications (partition 1, IEEE 11073-20601 Annex A)
    (1, 2323, 'MDC_ATTR_CONFIRM_MODE', 'Attribute: confirm mode', '', f"{A20601}; {ISO10101}"),
    (1, 2324, 'MDC_ATTR_CONFIRM_TIMEOUT', 'Attribute: confirm timeout', '', f"{A20601}; {ISO10101}"),
    (1, 2337, 'MDC_ATTR_ID_HANDLE', 'Attribute: id handle', '', f"{A20601}; {ISO10101}"),
    (1, 2338, 'MDC_ATTR_ID_INSTNO', 'Attribute: id instno', '', f"{A20601}; {ISO10101}"),
    (1, 2343, 'MDC_ATTR_ID_LABEL_STRING', 'Attribute: id label string', '', f"{A20601}; {ISO10101}"),
    (1, 2344, 'MDC_ATTR_ID_MODEL', 'Attribute: id model', '', f"{A20601}; {ISO10101}"),
    (1, 2347, 'MDC_ATTR_ID_PHYSIO', 'Attribute: id physio', '', f"{A20601}; {ISO10101}"),
    (1, 2349, 'MDC_ATTR_ID_PROD_SPECN', 'Attribute: id prod specn', '', f"{A20601}; {ISO10101}"),
    (1, 2351, 'MDC_ATTR_ID_TYPE', 'Attribute: id type', '', f"{A20601}; {ISO10101}"),
    (1, 2369, 'MDC_ATTR_METRIC_STORE_CAPAC_CNT', 'Attribute: metric store capac cnt', '', f"{A20601}; {ISO10101}"),
    (1, 2371, 'MDC_ATTR_METRIC_STORE_SAMPLE_ALG', 'Attribute: metric store sample alg', '', f"{A20601}; {ISO10101}"),
    (1, 2372, 'MDC_ATTR_METRIC_STORE_USAGE_CNT', 'Attribute: metric store usage cnt', '', f"{A20601}; {ISO10101}"),
    (1, 2375, 'MDC_ATTR_MSMT_STAT', 'Attribute: msmt stat', '', f"{A20601}; {ISO10101}"),
    (1, 2378, 'MDC_ATTR_NU_ACCUR_MSMT', 'Attribute: nu accur msmt', '', f"{A20601}; {ISO10101}; {PHD_IG} example numeric-spotnumeric"),
    (1, 2379, 'MDC_ATTR_NU_CMPD_VAL_OBS', 'Attribute: nu cmpd val obs', '', f"{A20601}; {ISO10101}"),
    (1, 2384, 'MDC_ATTR_NU_VAL_OBS', 'Attribute: nu val obs', '', f"{A20601}; {ISO10101}"),
    (1, 2385, 'MDC_ATTR_NUM_SEG', 'Attribute: num seg', '', f"{A20601}; {ISO10101}"),
    (1, 2387, 'MDC_ATTR_OP_STAT', 'Attribute: op stat', '', f"{A20601}; {ISO10101}"),
    (1, 2389, 'MDC_ATTR_POWER_STAT', 'Attribute: power stat', '', f"{A20601}; {ISO10101}"),
    (1, 2413, 'MDC_ATTR_SA_SPECN', 'Attribute: sa specn', '', f"{A20601}; {ISO10101}"),
    (1, 2415, 'MDC_ATTR_SCALE_SPECN_I16', 'Attribute: scale specn i16', '', f"{A20601}; {ISO10101}"),
    (1, 2416, 'MDC_ATTR_SCALE_SPECN_I32', 'Attribute: scale specn i32', '', f"{A20601}; {ISO10101}"),
    (1, 2417, 'MDC_ATTR_SCALE_SPECN_I8', 'Attribute: scale specn i8', '', f"{A20601}; {ISO10101}"),
    (1, 2421, 'MDC_ATTR_SCAN_REP_PD', 'Attribute: scan rep pd', '', f"{A20601}; {ISO10101}"),
    (1, 2427, 'MDC_ATTR_SEG_USAGE_CNT', 'Attribute: seg usage cnt', '', f"{A20601}; {ISO10101}"),
    (1, 2436, 'MDC_ATTR_SYS_ID', 'Attribute: sys id', '', f"{A20601}; {ISO10101}"),
    (1, 2438, 'MDC_ATTR_SYS_TYPE', 'Attribute: sys type', '', f"{A20601}; {ISO10101}"),
    (1, 2439, 'MDC_ATTR_TIME_ABS', 'Attribute: time abs', '', f"{A20601}; {ISO10101}; {DKCORE}; {PHD_IG} example bundle-example-1"),
    (1, 2440, 'MDC_ATTR_TIME_BATT_REMAIN', 'Attribute: time batt remain', '', f"{A20601}; {ISO10101}"),
    (1, 2442, 'MDC_ATTR_TIME_END_SEG', 'Attribute: time end seg', '', f"{A20601}; {ISO10101}"),
    (1, 2445, 'MDC_ATTR_TIME_PD_SAMP', 'Attribute: time pd samp', '', f"{A20601}; {ISO10101}"),
    (1, 2447, 'MDC_ATTR_TIME_REL', 'Attribute: time rel', '', f"{A20601}; {ISO10101}"),
    (1, 2448, 'MDC_ATTR_TIME_STAMP_ABS', 'Attribute: time stamp abs', '', f"{A20601}; {ISO10101}"),
    (1, 2449, 'MDC_ATTR_TIME_STAMP_REL', 'Attribute: time stamp rel', '', f"{A20601}; {ISO10101}"),
    (1, 2450, 'MDC_ATTR_TIME_START_SEG', 'Attribute: time start seg', '', f"{A20601}; {ISO10101}"),
    (1, 2453, 'MDC_ATTR_TX_WIND', 'Attribute: tx wind', '', f"{A20601}; {ISO10101}"),
    (1, 2454, 'MDC_ATTR_UNIT_CODE', 'Attribute: unit code', '', f"{A20601}; {ISO10101}"),
    (1, 2457, 'MDC_ATTR_UNIT_LABEL_STRING', 'Attribute: unit label string', '', f"{A20601}; {ISO10101}"),
    (1, 2460, 'MDC_ATTR_VAL_BATT_CHARGE', 'Attribute: val batt charge', '', f"{A20601}; {ISO10101}; {DKCORE}; {PHD_IG} example bundle-continuousnonin"),
    (1, 2462, 'MDC_ATTR_VAL_ENUM_OBS', 'Attribute: val enum obs', '', f"{A20601}; {ISO10101}"),
    (1, 2536, 'MDC_ATTR_TIME_REL_HI_RES', 'Attribute: time rel hi res', '', f"{A20601}; {ISO10101}"),
    (1, 2537, 'MDC_ATTR_TIME_STAMP_REL_HI_RES', 'Attribute: time stamp rel hi res', '', f"{A20601}; {ISO10101}"),
    (1, 2628, 'MDC_ATTR_DEV_CONFIG_ID', 'Attribute: dev config id', '', A20601),
    (1, 2629, 'MDC_ATTR_MDS_TIME_INFO', 'Attribute: mds time info', '', A20601),
    (1, 2630, 'MDC_ATTR_METRIC_SPEC_SMALL', 'Attribute: metric spec small', '', A20601),
    (1, 2631, 'MDC_ATTR_SOURCE_HANDLE_REF', 'Attribute: source handle ref', '', A20601),
    (1, 2632, 'MDC_ATTR_SIMP_SA_OBS_VAL', 'Attribute: simp sa obs val', '', A20601),
    (1, 2633, 'MDC_ATTR_ENUM_OBS_VAL_SIMP_OID', 'Attribute: enum obs val simp oid', '', A20601),
    (1, 2634, 'MDC_ATTR_ENUM_OBS_VAL_SIMP_STR', 'Attribute: enum obs val simp str', '', A20601),
    (1, 2635, 'MDC_ATTR_REG_CERT_DATA_LIST', 'Attribute: reg cert data list', '', A20601),
    (1, 2636, 'MDC_ATTR_NU_VAL_OBS_BASIC', 'Attribute: nu val obs basic', '', A20601),
    (1, 2637, 'MDC_ATTR_PM_STORE_CAPAB', 'Attribute: pm store capab', '', A20601),
    (1, 2638, 'MDC_ATTR_PM_SEG_MAP', 'Attribute: pm seg map', '', A20601),
    (1, 2639, 'MDC_ATTR_PM_SEG_PERSON_ID', 'Attribute: pm seg person id', '', A20601),
    (1, 2640, 'MDC_ATTR_SEG_STATS', 'Attribute: seg stats', '', A20601),
    (1, 2641, 'MDC_ATTR_SEG_FIXED_DATA', 'Attribute: seg fixed data', '', A20601),
    (1, 2642, 'MDC_ATTR_PM_SEG_ELEM_STAT_ATTR', 'Attribute: pm seg elem stat attr', '', A20601),
    (1, 2643, 'MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP', 'Attribute: scan handle attr val map', '', A20601),
    (1, 2644, 'MDC_ATTR_SCAN_REP_PD_MIN', 'Attribute: scan rep pd min', '', A20601),
    (1, 2645, 'MDC_ATTR_ATTRIBUTE_VAL_MAP', 'Attribute: attribute val map', '', A20601),
    (1, 2646, 'MDC_ATTR_NU_VAL_OBS_SIMP', 'Attribute: nu val obs simp', '', A20601),
    (1, 2647, 'MDC_ATTR_PM_STORE_LABEL_STRING', 'Attribute: pm store label string', '', A20601),
    (1, 2648, 'MDC_ATTR_PM_SEG_LABEL_STRING', 'Attribute: pm seg label string', '', A20601),
    (1, 2649, 'MDC_ATTR_TIME_PD_MSMT_ACTIVE', 'Attribute: time pd msmt active', '', A20601),
    (1, 2650, 'MDC_ATTR_SYS_TYPE_SPEC_LIST', 'Attribute: sys type spec list', '', A20601),
    (1, 2655, 'MDC_ATTR_METRIC_ID_PART', 'Attribute: metric id part', '', A20601),
    (1, 2656, 'MDC_ATTR_ENUM_OBS_VAL_PART', 'Attribute: enum obs val part', '', A20601),
    (1, 2657, 'MDC_ATTR_SUPPLEMENTAL_TYPES', 'Attribute: supplemental types', '', f"{A20601}; {PHD_IG} example bundle-example-1"),
    (1, 2658, 'MDC_ATTR_TIME_ABS_ADJUST', 'Attribute: time abs adjust', '', A20601),
    (1, 2659, 'MDC_ATTR_CLEAR_TIMEOUT', 'Attribute: clear timeout', '', A20601),
    (1, 2660, 'MDC_ATTR_TRANSFER_TIMEOUT', 'Attribute: transfer timeout', '', A20601),
    (1, 2661, 'MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR', 'Attribute: enum obs val simp bit str', '', A20601),
    (1, 2662, 'MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR', 'Attribute: enum obs val basic bit str', '', A20601),
    (1, 2675, 'MDC_ATTR_METRIC_STRUCT_SMALL', 'Attribute: metric struct small', '', A20601),
    (1, 2676, 'MDC_ATTR_NU_CMPD_VAL_OBS_SIMP', 'Attribute: nu cmpd val obs simp', '', A20601),
    (1, 2677, 'MDC_ATTR_NU_CMPD_VAL_OBS_BASIC', 'Attribute: nu cmpd val obs basic', '', A20601),
    (1, 2678, 'MDC_ATTR_ID_PHYSIO_LIST', 'Attribute: id physio list', '', A20601),
    (1, 2679, 'MDC_ATTR_SCAN_HANDLE_LIST', 'Attribute: scan handle list', '', A20601),
    (1, 3084, 'MDC_ACT_SEG_CLR', 'Action: seg clr', '', f"{A20601}; {ISO10101}"),
    (1, 3085, 'MDC_ACT_SEG_GET_INFO', 'Action: seg get info', '', A20601),
    (1, 3095, 'MDC_ACT_SET_TIME', 'Action: set time', '', f"{A20601}; {ISO10101}"),
    (1, 3099, 'MDC_ACT_DATA_REQUEST', 'Action: data request', '', A20601),
    (1, 3100, 'MDC_ACT_SEG_TRIG_XFER', 'Action: seg trig xfer', '', A20601),
    (1, 3356, 'MDC_NOTI_CONFIG', 'Event: config', '', A20601),
    (1, 3357, 'MDC_NOTI_SCAN_REPORT_FIXED', 'Event: scan report fixed', '', A20601),
    (1, 3358, 'MDC_NOTI_SCAN_REPORT_VAR', 'Event: scan report var', '', A20601),
    (1, 3359, 'MDC_NOTI_SCAN_REPORT_MP_FIXED', 'Event: scan report mp fixed', '', A20601),
    (1, 3360, 'MDC_NOTI_SCAN_REPORT_MP_VAR', 'Event: scan report mp var', '', A20601),
    (1, 3361, 'MDC_NOTI_SEGMENT_DATA', 'Event: segment data', '', A20601),
    (1, 3362, 'MDC_NOTI_UNBUF_SCAN_REPORT_VAR', 'Event: unbuf scan report var', '', A20601),
    (1, 3363, 'MDC_NOTI_UNBUF_SCAN_REPORT_FIXED', 'Event: unbuf scan report fixed', '', A20601),
    (1, 3364, 'MDC_NOTI_UNBUF_SCAN_REPORT_GROUPED', 'Event: unbuf scan report grouped', '', A20601),
    (1, 3365, 'MDC_NOTI_UNBUF_SCAN_REPORT_MP_VAR', 'Event: unbuf scan report mp var', '', A20601),
    (1, 3366, 'MDC_NOTI_UNBUF_SCAN_REPORT_MP_FIXED', 'Event: unbuf scan report mp fixed', '', A20601),
    (1, 3367, 'MDC_NOTI_UNBUF_SCAN_REPORT_MP_GROUPED', 'Event: unbuf scan report mp grouped', '', A20601),
    (1, 3368, 'MDC_NOTI_BUF_SCAN_REPORT_VAR', 'Event: buf scan report var', '', A20601),
    (1, 3369, 'MDC_NOTI_BUF_SCAN_REPORT_FIXED', 'Event: buf scan report fixed', '', A20601),
    (1, 3370, 'MDC_NOTI_BUF_SCAN_REPORT_GROUPED', 'Event: buf scan report grouped', '', A20601),
    (1, 3371, 'MDC_NOTI_BUF_SCAN_REPORT_MP_VAR', 'Event: buf scan report mp var', '', A20601),
    (1, 3372, 'MDC_NOTI_BUF_SCAN_REPORT_MP_FIXED', 'Event: buf scan report mp fixed', '', A20601),
    (1, 3373, 'MDC_NOTI_BUF_SCAN_REPORT_MP_GROUPED', 'Event: buf scan report mp grouped', '', A20601),
    # Attributes the PHD IG / DK Core IG report as observations or device properties (partition 1 and 8)
    (1, 2626, 'MDC_ATTR_FILTER_LABEL_STRING', 'Filter label', '', PCD01_EX),
    (1, 2524, 'MDC_ATTR_PT_HEIGHT', 'Patient height (attribute)', 'cm|[in_i]', ISO10101),
    (1, 2527, 'MDC_ATTR_PT_WEIGHT', 'Patient weight (attribute)', 'kg|[lb_av]|g', ISO10101),
    (1, 2390, 'MDC_ATTR_PT_BSA', 'Patient body surface area (attribute)', 'm2', ISO10101),
    (1, 2684, 'MDC_TIME_SYNC_PROTOCOL', 'Time synchronization protocol', '', f"{DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (1, 2685, 'MDC_TIME_SYNC_ACCURACY', 'Time synchronization accuracy', '', f"{PHD_IG} example bundle-example-1"),
    (1, 2686, 'MDC_TIME_RES_ABS', 'Absolute time resolution', '', f"{PHD_IG} example bundle-example-1"),
    (1, 2687, 'MDC_TIME_RES_REL', 'Relative time resolution', '', f"{PHD_IG} example bundle-example-1"),
    (8, 7686, 'MDC_ID_PROD_SPEC_HW', 'Hardware revision', '', f"{DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (8, 7687, 'MDC_ID_PROD_SPEC_SW', 'Software revision', '', f"{DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (8, 7688, 'MDC_ID_PROD_SPEC_FW', 'Firmware revision', '', f"{DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (8, 7693, 'MDC_MOC_VMS_MDS_AHD', 'Application hosting device (PHG) MDS', '', f"{DKCORE}; {PHD_IG} example bundle-example-1"),
    (8, 8064, 'MDC_REG_CERT_DATA_CONTINUA_VERSION', 'Continua version', '', f"{DKCORE}; {PHD_IG} example bundle-example-1"),
    (8, 8065, 'MDC_REG_CERT_DATA_CONTINUA_CERT_DEV_LIST', 'Continua certified device list', '', f"{DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832"),
    (8, 8067, 'MDC_REG_CERT_DATA_CONTINUA_AHD_CERT_LIST', 'Continua certified AHD interfaces', '', f"{DKCORE}; {PHD_IG} example bundle-example-1"),
    # PHD device specializations (partition 8)
    (8, 4100, 'MDC_DEV_SPEC_PROFILE_PULS_OXIM', 'Pulse oximeter', '', f"{A20601}; {ISO10101}; {PHD_IG} example bundle-example-1; {PHD_DEVTYPES}"),
    (8, 4103, 'MDC_DEV_SPEC_PROFILE_BPM', 'Blood pressure monitor', '', PHD_DEVTYPES),
    (8, 4104, 'MDC_DEV_SPEC_PROFILE_TEMP', 'Thermometer', '', f"{A20601}; {ISO10101}; {PHD_DEVTYPES}"),
    (8, 4111, 'MDC_DEV_SPEC_PROFILE_SCALE', 'Weighing scale', '', f"{A20601}; {ISO10101}; {DKCORE}; {PHD_DEVTYPES}"),
    (8, 4113, 'MDC_DEV_SPEC_PROFILE_GLUCOSE', 'Glucose meter', '', f"{A20601}; {PHD_IG} example phd-00601900010E9234.F45EABA80832; {PHD_DEVTYPES}"),
    (8, 4115, 'MDC_DEV_SPEC_PROFILE_INSULIN_PUMP', 'Insulin pump', '', PHD_DEVTYPES),
    (8, 4116, 'MDC_DEV_SPEC_PROFILE_BCA', 'Body composition analyser', '', PHD_DEVTYPES),
    (8, 4117, 'MDC_DEV_SPEC_PROFILE_PEAK_FLOW', 'Peak expiratory flow monitor', '', PHD_DEVTYPES),
    (8, 4137, 'MDC_DEV_SPEC_PROFILE_HF_CARDIO', 'Cardiovascular fitness and activity monitor', '', f"{A20601}; {PHD_DEVTYPES}"),
    (8, 4138, 'MDC_DEV_SPEC_PROFILE_HF_STRENGTH', 'Strength fitness equipment', '', f"{A20601}; {PHD_DEVTYPES}"),
    (8, 4167, 'MDC_DEV_SPEC_PROFILE_AI_ACTIVITY_HUB', 'Independent living activity hub', '', f"{A20601}; {PHD_DEVTYPES}"),
    (8, 4168, 'MDC_DEV_SPEC_PROFILE_AI_MED_MINDER', 'Medication monitor', '', f"{A20601}; {PHD_DEVTYPES}"),
    (8, 4169, 'MDC_DEV_SPEC_PROFILE_GENERIC', 'Generic 11073-10206 device', '', f"{DKCORE}; {PHD_IG} example bundle-example-1; {PHD_DEVTYPES}"),
    (8, 4213, 'MDC_DEV_SUB_SPEC_PROFILE_FALL_SENSOR', 'Fall sensor', '', PHD_DEVTYPES),
    (8, 4214, 'MDC_DEV_SUB_SPEC_PROFILE_PERS_SENSOR', 'Personal emergency sensor', '', PHD_DEVTYPES),
    (8, 4215, 'MDC_DEV_SUB_SPEC_PROFILE_SMOKE_SENSOR', 'Smoke sensor', '', PHD_DEVTYPES),
    (8, 4216, 'MDC_DEV_SUB_SPEC_PROFILE_CO_SENSOR', 'Carbon monoxide sensor', '', PHD_DEVTYPES),
    (8, 4217, 'MDC_DEV_SUB_SPEC_PROFILE_WATER_SENSOR', 'Water sensor', '', PHD_DEVTYPES),
    (8, 4218, 'MDC_DEV_SUB_SPEC_PROFILE_GAS_SENSOR', 'Gas sensor', '', PHD_DEVTYPES),
    (8, 4219, 'MDC_DEV_SUB_SPEC_PROFILE_MOTION_SENSOR', 'Motion sensor', '', PHD_DEVTYPES),
    (8, 4220, 'MDC_DEV_SUB_SPEC_PROFILE_PROPEXIT_SENSOR', 'Property exit sensor', '', PHD_DEVTYPES),
    (8, 4221, 'MDC_DEV_SUB_SPEC_PROFILE_ENURESIS_SENSOR', 'Enuresis sensor', '', PHD_DEVTYPES),
    (8, 4222, 'MDC_DEV_SUB_SPEC_PROFILE_CONTACTCLOSURE_SENSOR', 'Contact closure sensor', '', PHD_DEVTYPES),
    (8, 4223, 'MDC_DEV_SUB_SPEC_PROFILE_USAGE_SENSOR', 'Usage sensor', '', PHD_DEVTYPES),
    (8, 4224, 'MDC_DEV_SUB_SPEC_PROFILE_SWITCH_SENSOR', 'Switch sensor', '', PHD_DEVTYPES),
    (8, 4225, 'MDC_DEV_SUB_SPEC_PROFILE_DOSAGE_SENSOR', 'Dosage sensor', '', PHD_DEVTYPES),
    (8, 4226, 'MDC_DEV_SUB_SPEC_PROFILE_TEMP_SENSOR', 'Temperature sensor', '', PHD_DEVTYPES),
    # Time synchronization methods (partition 8)
    (8, 7936, 'MDC_TIME_SYNC_NONE', 'No time synchronization', '', f"{A20601}; {DKCORE}; {PHD_IG} example phd-00601900010E9234.F45EABA80832; {PHD_TIMESYNC}"),
    (8, 7937, 'MDC_TIME_SYNC_NTPV3', 'NTP v3 (RFC 1305)', '', f"{A20601}; {PHD_TIMESYNC}"),
    (8, 7938, 'MDC_TIME_SYNC_NTPV4', 'NTP v4', '', f"{A20601}; {DKCORE}; {PHD_IG} example bundle-example-1; {PHD_TIMESYNC}"),
    (8, 7939, 'MDC_TIME_SYNC_SNTPV4', 'SNTP v4 (RFC 2030)', '', f"{A20601}; {PHD_TIMESYNC}"),
    (8, 7940, 'MDC_TIME_SYNC_SNTPV4330', 'SNTP v4 (RFC 4330)', '', f"{A20601}; {PHD_TIMESYNC}"),
    (8, 7941, 'MDC_TIME_SYNC_BTV1', 'Bluetooth Medical Device Profile', '', f"{A20601}; {PHD_TIMESYNC}"),
    (8, 7942, 'MDC_TIME_SYNC_RADIO', 'Radio time signal', '', PHD_TIMESYNC),
    (8, 7943, 'MDC_TIME_SYNC_HL7_NCK', 'HL7 NCK', '', PHD_TIMESYNC),
    (8, 7944, 'MDC_TIME_SYNC_CDMA', 'CDMA mobile network', '', PHD_TIMESYNC),
    (8, 7945, 'MDC_TIME_SYNC_GSM', 'GSM mobile network', '', f"{PHD_IG} example phg-example; {PHD_TIMESYNC}"),
    (8, 7946, 'MDC_TIME_SYNC_EBWW', 'EBWW', '', f"{PHD_IG} example coin-20181119174911; {PHD_TIMESYNC}"),
    (8, 7947, 'MDC_TIME_SYNC_USB_SOF', 'USB start of frame', '', PHD_TIMESYNC),
    (8, 7948, 'MDC_TIME_SYNC_OTHER', 'Other time synchronization', '', PHD_TIMESYNC),
    (8, 7949, 'MDC_TIME_SYNC_OTHER_MOBILE', 'Other mobile network', '', PHD_TIMESYNC),
    (8, 7950, 'MDC_TIME_SYNC_GPS', 'GPS', '', PHD_TIMESYNC),
    # Events (partition 3)
    (3, 40, 'MDC_EVT_HI', 'High limit exceeded', '', f"{ISO10101}; {PHD_IG} example bp-device-alert"),
    (3, 62, 'MDC_EVT_LO', 'Low limit exceeded', '', f"{ISO10101}; {PHD_IG} example spo2-device-alert"),
    (3, 10, 'MDC_EVT_RANGE_HI', 'Above range', '', f"{PHD_IG} example bp-device-alert"),
    (3, 12, 'MDC_EVT_RANGE_LO', 'Below range', '', f"{PHD_IG} example spo2-device-alert"),
    # Disease management (partition 128): 10407 status, 10417 glucose context
    (128, 22000, 'MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS', 'Blood pressure measurement status', '', f"{DKCORE}; {PHD_IG} example bpm-status"),
    (128, 29144, 'MDC_GLU_METER_DEV_STATUS', 'Glucose meter device status', '', FREESCALE),
    (128, 29152, 'MDC_CTXT_GLU_EXERCISE', 'Exercise (glucose context)', '', FREESCALE),
    (128, 29156, 'MDC_CTXT_GLU_CARB', 'Carbohydrate intake (glucose context)', '', FREESCALE),
    (128, 29188, 'MDC_CTXT_MEDICATION', 'Medication (glucose context)', '', FREESCALE),
    (128, 29212, 'MDC_CTXT_GLU_HEALTH', 'Health state (glucose context)', '', FREESCALE),
    (128, 29236, 'MDC_CTXT_GLU_SAMPLELOCATION', 'Sample location (glucose context)', '', FREESCALE),
    (128, 29240, 'MDC_CTXT_GLU_SAMPLELOCATION_FINGER', 'Sample location: finger', '', FREESCALE),
    (128, 29244, 'MDC_CTXT_GLU_SAMPLELOCATION_AST', 'Sample location: alternate site', '', FREESCALE),
    (128, 29248, 'MDC_CTXT_GLU_SAMPLELOCATION_EARLOBE', 'Sample location: earlobe', '', FREESCALE),
    (128, 29252, 'MDC_CTXT_GLU_SAMPLELOCATION_CTRLSOLUTION', 'Sample location: control solution', '', FREESCALE),
    (128, 29256, 'MDC_CTXT_GLU_MEAL', 'Meal (glucose context)', '', f"{PHD_IG} example compound-observation-glucose; {FREESCALE}"),
    (128, 29260, 'MDC_CTXT_GLU_MEAL_PREPRANDIAL', 'Meal: before meal', '', FREESCALE),
    (128, 29264, 'MDC_CTXT_GLU_MEAL_POSTPRANDIAL', 'Meal: after meal', '', f"{PHD_IG} example compound-observation-glucose; {FREESCALE}"),
    (128, 29268, 'MDC_CTXT_GLU_MEAL_FASTING', 'Meal: fasting', '', FREESCALE),
    (128, 29272, 'MDC_CTXT_GLU_MEAL_CASUAL', 'Meal: casual', '', FREESCALE),
    (128, 29276, 'MDC_CTXT_GLU_TESTER', 'Tester (glucose context)', '', FREESCALE),
    (128, 29280, 'MDC_CTXT_GLU_TESTER_SELF', 'Tester: self', '', FREESCALE),
    (128, 29284, 'MDC_CTXT_GLU_TESTER_HCP', 'Tester: health care professional', '', FREESCALE),
    (128, 29288, 'MDC_CTXT_GLU_TESTER_LAB', 'Tester: laboratory', '', FREESCALE),
    # Health and fitness (partition 129, IEEE 11073-10441)
    (129, 100, 'MDC_HF_ALT_GAIN', 'Altitude gain', 'm', CSR_10441),
    (129, 101, 'MDC_HF_ALT_LOSS', 'Altitude loss', 'm', CSR_10441),
    (129, 102, 'MDC_HF_ALT', 'Altitude', 'm', CSR_10441),
    (129, 103, 'MDC_HF_DISTANCE', 'Distance', 'm|{step}', f"{CSR_10441}; {ANTIDOTE_PEDOMETER}"),
    (129, 104, 'MDC_HF_ASC_TME_DIST', 'Ascent time distance', '', CSR_10441),
    (129, 105, 'MDC_HF_DESC_TIME_DIST', 'Descent time distance', '', CSR_10441),
    (129, 106, 'MDC_HF_LATITUDE', 'Latitude', 'deg', CSR_10441),
    (129, 107, 'MDC_HF_LONGITUDE', 'Longitude', 'deg', CSR_10441),
    (129, 108, 'MDC_HF_PROGRAM_ID', 'Program identifier', '', f"{PHD_IG} example stringenum-1234; {CSR_10441}"),
    (129, 109, 'MDC_HF_SLOPES', 'Slopes', '', CSR_10441),
    (129, 110, 'MDC_HF_SPEED', 'Speed', 'm/min', CSR_10441),
    (129, 111, 'MDC_HF_CAD', 'Cadence', '{step}/min|{rev}/min', CSR_10441),
    (129, 112, 'MDC_HF_INCLINE', 'Incline', '%|deg', CSR_10441),
    (129, 113, 'MDC_HF_HR_MAX_USER', 'Maximum heart rate (user)', '/min', CSR_10441),
    (129, 114, 'MDC_HF_HR', 'Heart rate (fitness)', '/min', f"{DKCORE}; {CSR_10441}"),
    (129, 115, 'MDC_HF_POWER', 'Power', 'W', CSR_10441),
    (129, 116, 'MDC_HF_RESIST', 'Resistance', '', CSR_10441),
    (129, 117, 'MDC_HF_STRIDE', 'Stride length', 'm|[ft_i]|[in_i]', f"{CSR_10441}; {ANTIDOTE_PEDOMETER}"),
    (129, 119, 'MDC_HF_ENERGY', 'Energy expended', 'cal|J', f"{CSR_10441}; {ANTIDOTE_PEDOMETER}"),
    (129, 120, 'MDC_HF_CAL_INGEST', 'Calories ingested', 'cal', CSR_10441),
    (129, 121, 'MDC_HF_CAL_INGEST_CARB', 'Carbohydrate calories ingested', 'cal', CSR_10441),
    (129, 122, 'MDC_HF_SUST_PA_THRESHOLD', 'Sustained physical activity threshold', '', CSR_10441),
    (129, 123, 'MDC_HF_SESSION', 'Session', '', f"{CSR_10441}; {ANTIDOTE_PEDOMETER}"),
    (129, 124, 'MDC_HF_SUBSESSION', 'Subsession', '', CSR_10441),
    (129, 125, 'MDC_HF_ACTIVITY_TIME', 'Activity time', 'min|h|d', f"{CSR_10441}; {ANTIDOTE_PEDOMETER}"),
    (129, 126, 'MDC_HF_AGE', 'Age', 'a', CSR_10441),
    (129, 127, 'MDC_HF_ACTIVITY_INTENSITY', 'Activity intensity', '%', CSR_10441),
    (129, 1000, 'MDC_HF_ACT_AMB', 'Activity: ambulation', '', CSR_10441),
    (129, 1001, 'MDC_HF_ACT_REST', 'Activity: rest', '', CSR_10441),
    (129, 1002, 'MDC_HF_ACT_MOTOR', 'Activity: motorized', '', CSR_10441),
    (129, 1003, 'MDC_HF_ACT_LYING', 'Activity: lying', '', CSR_10441),
    (129, 1004, 'MDC_HF_ACT_SLEEP', 'Activity: sleep', '', CSR_10441),
    (129, 1005, 'MDC_HF_ACT_PHYS', 'Activity: physical', '', CSR_10441),
    (129, 1006, 'MDC_HF_ACT_SUS_PHYS', 'Activity: sustained physical', '', CSR_10441),
    (129, 1007, 'MDC_HF_ACT_UNKNOWN', 'Activity: unknown', '', CSR_10441),
    (129, 1008, 'MDC_HF_ACT_MULTIPLE', 'Activity: multiple', '', CSR_10441),
    (129, 1009, 'MDC_HF_ACT_MONITOR', 'Activity: monitoring', '', CSR_10441),
    (129, 1010, 'MDC_HF_ACT_SKI', 'Activity: skiing', '', CSR_10441),
    (129, 1011, 'MDC_HF_ACT_RUN', 'Activity: running', '', CSR_10441),
    (129, 1012, 'MDC_HF_ACT_BIKE', 'Activity: cycling', '', CSR_10441),
    (129, 1013, 'MDC_HF_ACT_STAIR', 'Activity: stair climbing', '', CSR_10441),
    (129, 1014, 'MDC_HF_ACT_ROW', 'Activity: rowing', '', CSR_10441),
    (129, 1015, 'MDC_HF_ACT_HOME', 'Activity: home', '', CSR_10441),
    (129, 1016, 'MDC_HF_ACT_WORK', 'Activity: work', '', CSR_10441),
    (129, 1017, 'MDC_HF_ACT_WALK', 'Activity: walking', '', CSR_10441),
    (129, 2000, 'MDC_HF_MEAN_NULL_INCLUDE', 'Mean including null samples', '', CSR_10441),
    (129, 2001, 'MDC_HF_MEAN_NULL_EXLCUDE', 'Mean excluding null samples', '', CSR_10441),
    (129, 2002, 'MDC_HF_MAX', 'Maximum', '', CSR_10441),
    (129, 2003, 'MDC_HF_MIN', 'Minimum', '', CSR_10441),
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
    (0, "MDC_DIM_NOS", "", ISO10101),
    (512, "MDC_DIM_DIMLESS", "1", f"{A20601}; {ISO10101}"),
    (544, "MDC_DIM_PERCENT", "%", f"{A20601}; {ISO10101}; {PHD_IG} example bundle-example-1"),
    (608, "MDC_DIM_PARTS_PER_MILLION", "[ppm]", ISO10101),
    (736, "MDC_DIM_ANG_DEG", "deg", f"{A20601}; {ISO10101}"),
    (768, "MDC_DIM_ANG_RAD", "rad", ISO10101),
    (1280, "MDC_DIM_X_M", "m", f"{A20601}; {ISO10101}"),
    (1297, "MDC_DIM_CENTI_M", "cm", f"{A20601}; {POCD_IG} mappingsdc.md (Height)"),
    (1298, "MDC_DIM_MILLI_M", "mm", f"{ISO10101} MDC_DIM_X_M + milli prefix"),
    (1299, "MDC_DIM_MICRO_M", "um", f"{ISO10101} MDC_DIM_X_M + micro prefix"),
    (1344, "MDC_DIM_X_FOOT", "[ft_i]", f"{A20601}; {ISO10101}"),
    (1376, "MDC_DIM_X_INCH", "[in_i]", f"{ISO10101}; {A20601} (as MDC_DIM_INCH); {POCD_IG} mappingsdc.md (Height)"),
    (1472, "MDC_DIM_SQ_X_M", "m2", ISO10101),
    (1600, "MDC_DIM_X_L", "L", ISO10101),
    (1618, "MDC_DIM_MILLI_L", "mL", f"{A20601}; {ISO10101} MDC_DIM_X_L + milli prefix"),
    (1619, "MDC_DIM_MICRO_L", "uL", f"{ISO10101} MDC_DIM_X_L + micro prefix"),
    (1728, "MDC_DIM_X_G", "g", f"{A20601}; {ISO10101}; {POCD_IG} mappingsdc.md (Weight)"),
    (1731, "MDC_DIM_KILO_G", "kg", f"{A20601}; {POCD_IG} mappingsdc.md (Weight)"),
    (1746, "MDC_DIM_MILLI_G", "mg", f"{A20601}; {ISO10101} MDC_DIM_X_G + milli prefix"),
    (1747, "MDC_DIM_MICRO_G", "ug", f"{ISO10101} MDC_DIM_X_G + micro prefix"),
    (1760, "MDC_DIM_LB", "[lb_av]", f"{A20601}; {ISO10101} (as MDC_DIM_X_LB); {POCD_IG} mappingsdc.md (Weight)"),
    (1792, "MDC_DIM_X_OZ", "[oz_av]", ISO10101),
    (1952, "MDC_DIM_KG_PER_M_SQ", "kg/m2", f"{A20601}; {ISO10101}"),
    (2112, "MDC_DIM_X_G_PER_DL", "g/dL", ISO10101),
    (2130, "MDC_DIM_MILLI_G_PER_DL", "mg/dL", f"{A20601}; {PHD_IG} example glucose-observation"),
    (2176, "MDC_DIM_X_SEC", "s", ISO10101),
    (2194, "MDC_DIM_MILLI_SEC", "ms", f"{ISO10101} MDC_DIM_X_SEC + milli prefix"),
    (2195, "MDC_DIM_MICRO_SEC", "us", f"{ISO10101} MDC_DIM_X_SEC + micro prefix; {PHD_IG} example coin-example-1"),
    (2208, "MDC_DIM_MIN", "min", f"{A20601}; {ISO10101}"),
    (2240, "MDC_DIM_HR", "h", f"{A20601}; {ISO10101}"),
    (2272, "MDC_DIM_DAY", "d", f"{A20601}; {ISO10101}"),
    (2304, "MDC_DIM_WEEKS", "wk", ISO10101),
    (2368, "MDC_DIM_YR", "a", f"{A20601}; {ISO10101}"),
    (2528, "MDC_DIM_PER_MIN", "/min", ISO10101),
    (2720, "MDC_DIM_BEAT_PER_MIN", "/min", f"{A20601}; {ISO10101}; {PHD_IG} example bundle-example-1"),
    (2752, "MDC_DIM_PULS_PER_MIN", "/min", ISO10101),
    (2784, "MDC_DIM_RESP_PER_MIN", "/min", f"{A20601}; {ISO10101}"),
    (3072, "MDC_DIM_X_L_PER_MIN", "L/min", ISO10101),
    (3090, "MDC_DIM_MILLI_L_PER_MIN", "mL/min", f"{ISO10101} MDC_DIM_X_L_PER_MIN + milli prefix"),
    (3122, "MDC_DIM_MILLI_L_PER_HR", "mL/h", f"{ISO10101} MDC_DIM_X_L_PER_HR + milli prefix"),
    (3840, "MDC_DIM_X_PASCAL", "Pa", ISO10101),
    (3843, "MDC_DIM_KILO_PASCAL", "kPa", f"{A20601}; {ISO10101} MDC_DIM_X_PASCAL + kilo prefix"),
    (3872, "MDC_DIM_MMHG", "mm[Hg]", f"{A20601}; {ISO10101}; {PHD_IG} example compound-numeric-blood-pressure"),
    (3904, "MDC_DIM_CM_H2O", "cm[H2O]", ISO10101),
    (3936, "MDC_DIM_X_BAR", "bar", ISO10101),
    (3968, "MDC_DIM_X_JOULES", "J", f"{A20601}; {ISO10101}"),
    (4032, "MDC_DIM_X_WATT", "W", f"{A20601}; {ISO10101}"),
    (4256, "MDC_DIM_X_VOLT", "V", ISO10101),
    (4274, "MDC_DIM_MILLI_VOLT", "mV", f"{ISO10101} MDC_DIM_X_VOLT + milli prefix; {POCD_EX} Observation-ECGSampleArrayObservation"),
    (4275, "MDC_DIM_MICRO_VOLT", "uV", f"{ISO10101} MDC_DIM_X_VOLT + micro prefix"),
    (4288, "MDC_DIM_X_OHM", "Ohm", ISO10101),
    (4416, "MDC_DIM_FAHR", "[degF]", f"{A20601}; {ISO10101}"),
    (4544, "MDC_DIM_X_MOLE", "mol", ISO10101),
    (4562, "MDC_DIM_MILLI_MOLE", "mmol", f"{ISO10101} MDC_DIM_X_MOLE + milli prefix"),
    (4722, "MDC_DIM_MILLI_MOLE_PER_L", "mmol/L", f"{A20601}; {PHD_IG} example compound-observation-glucose"),
    (5472, "MDC_DIM_X_INTL_UNIT", "[iU]", ISO10101),
    (5696, "MDC_DIM_X_INTL_UNIT_PER_HR", "[iU]/h", ISO10101),
    (5728, "MDC_DIM_X_INTL_UNIT_PER_DAY", "[iU]/d", ISO10101),
    (6048, "MDC_DIM_DEGC", "Cel", f"{A20601}; {ISO10101}; {PHD_IG} example temperature-observation"),
    (6560, "MDC_DIM_X_M_PER_MIN", "m/min", f"{A20601}; {ISO10101}"),
    (6656, "MDC_DIM_X_STEP", "{step}", f"{A20601}; {UCUM}, annotation"),
    (6688, "MDC_DIM_X_FOOT_PER_MIN", "[ft_i]/min", A20601),
    (6720, "MDC_DIM_X_INCH_PER_MIN", "[in_i]/min", A20601),
    (6752, "MDC_DIM_X_STEP_PER_MIN", "{step}/min", f"{A20601}; {UCUM}, annotation"),
    (6784, "MDC_DIM_X_CAL", "cal", f"{A20601} (IEEE 11073-10441 unit)"),
    (6816, "MDC_DIM_RPM", "{rev}/min", f"{A20601}; {UCUM}, annotation"),
]

# Alternative unit reference ids for the same code: (refid, term_code, source)
UNIT_ALIASES: list[tuple[str, int, str]] = [
    ("MDC_DIM_INCH", 1376, A20601),
    ("MDC_DIM_X_LB", 1760, ISO10101),
    ("MDC_DIM_OZ", 1792, "IHE PCD Rosetta (NIST RTMMS) unit name for 1792"),
    ("MDC_DIM_SEC", 2176, "IHE PCD-04 test messages send 264320^MDC_DIM_SEC; ISO/IEEE 11073-10101:2004 spells it MDC_DIM_X_SEC"),
]

# Which MDC unit a UCUM code maps back to when several share it (unit_by_ucum)
UCUM_PREFERRED: dict[str, str] = {"/min": "MDC_DIM_BEAT_PER_MIN"}

# ---------------------------------------------------------------------------------------------
# MDC -> LOINC where the vital-signs profile applies: (mdc code, loinc, display, preferred, source)
# ---------------------------------------------------------------------------------------------
FHIR_VS = "FHIR R4 (4.0.1) vital signs profile"
LOINC_ROWS: list[tuple[int, str, str, bool, str]] = [
    (150456, "2708-6", "Oxygen saturation in Arterial blood", True,
     f"{FHIR_VS} oxygensat; {PHD_IG} example bundle-example-1; HL7 DK Core IG example ObservationOxySatBasicObservationOrg"),
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
     f"{FHIR_VS} bodyheight; {POCD_IG} mappingsdc.md (Height); pairing by meaning, no published MDC-LOINC pair found"),
    (188752, "39156-5", "Body mass index (BMI) [Ratio]", True,
     f"{FHIR_VS} bmi; pairing by meaning, no published MDC-LOINC pair found"),
    (151562, "9279-1", "Respiratory rate", True,
     f"{FHIR_VS} resprate; pairing by meaning, no published MDC-LOINC pair found"),
    (150324, "2708-6", "Oxygen saturation in Arterial blood", True,
     f"{FHIR_VS} oxygensat (MDC_SAT_O2_ART is arterial O2 saturation); {DKCORE}"),
    (153856, "9843-4", "Head Occipital-frontal circumference", True,
     f"{FHIR_VS} headcircum; {POCD_IG} mappingsdc.md (HeadCircumference); {DKCORE}"),
]

# Method- or site-specific MDC variants of a vital sign. The FHIR R4 vital-signs profile fixes one LOINC
# code per vital sign whatever the method or body site (method and site go to Observation.method and
# .bodySite), so each variant carries that code; the DK Core IG lists these MDC codes as alternatives for
# the same basic observation (ValueSet dk-core-IEEEBasicObservation).
_VARIANT = "semantic variant: {} requires {} for every {} observation; MDC code listed in " + "{}"
LOINC_VARIANTS: list[tuple[int, str, str, str]] = [
    # (mdc code, loinc, display, profile)
    (149514, "8867-4", "Heart rate", "heartrate"),  # MDC_PULS_RATE
    (149522, "8867-4", "Heart rate", "heartrate"),  # MDC_BLD_PULS_RATE_INV
    (149546, "8867-4", "Heart rate", "heartrate"),  # MDC_PULS_RATE_NON_INV
    (149554, "8867-4", "Heart rate", "heartrate"),  # MDC_TTHOR_HEART_RATE
    (149562, "8867-4", "Heart rate", "heartrate"),  # MDC_PALPATION_HEART_RATE
    (151570, "9279-1", "Respiratory rate", "resprate"),  # MDC_AWAY_RESP_RATE
    (151578, "9279-1", "Respiratory rate", "resprate"),  # MDC_TTHOR_RESP_RATE
    (151594, "9279-1", "Respiratory rate", "resprate"),  # MDC_CO2_RESP_RATE
    (151602, "9279-1", "Respiratory rate", "resprate"),  # MDC_PRESS_RESP_RATE
    (151650, "9279-1", "Respiratory rate", "resprate"),  # MDC_ACOUSTIC_RESP_RATE
    (151658, "9279-1", "Respiratory rate", "resprate"),  # MDC_PULS_OXIM_PLETH_RESP_RATE
    (150368, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_CORE
    (150392, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_TYMP
    (188420, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_RECT
    (188424, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_ORAL
    (188428, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_EAR
    (188452, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_AXILLA
    (188456, "8310-5", "Body temperature", "bodytemp"),  # MDC_TEMP_GIT
]
LOINC_ROWS += [
    (code, loinc, display, True, _VARIANT.format(f"FHIR R4 vital signs profile {profile}", loinc, display.lower(), DKCORE))
    for code, loinc, display, profile in LOINC_VARIANTS
]
# The systolic, diastolic and mean pressures of a cuff (non-invasive) measurement: the quantities the FHIR R4
# vital-signs bp profile codes 8480-6, 8462-4 and 8478-0 (monitors such as Mindray's send them under
# MDC_PRESS_CUFF_* rather than MDC_PRESS_BLD_NONINV_*)
_CUFF = "semantic variant: {} is the {} pressure of a non-invasive (cuff) measurement ({}), the quantity {} codes {}"
LOINC_ROWS += [
    (code, loinc, display, True, _CUFF.format(refid, display.split()[0].lower(), "IHE PCD Rosetta group CVS_HEMO_NBP",
                                              f"{FHIR_VS} bp", loinc))
    for code, refid, loinc, display in ((150301, "MDC_PRESS_CUFF_SYS", "8480-6", "Systolic blood pressure"),
                                        (150302, "MDC_PRESS_CUFF_DIA", "8462-4", "Diastolic blood pressure"),
                                        (150303, "MDC_PRESS_CUFF_MEAN", "8478-0", "Mean blood pressure"))
]

# Invasive (arterial line) pressures: LOINC 8480-6 / 8462-4 / 8478-0 are the intravascular systolic, diastolic and
# mean pressures of the arterial system with no method, the codes the FHIR R4 (4.0.1) vital-signs bp profile and
# ValueSet observation-vitalsignresult use whatever the method; FHIR R6 lists the method-specific invasive codes
# beside them (kept as further, non-preferred codings). No published MDC-LOINC pair was found for these MDC codes
# (the LOINC/IEEE mapping table is not public), so each row says the pairing is by meaning.
_ART = ("semantic variant: {refid} is the {which} pressure measured invasively in an artery (IHE PCD Rosetta group "
        "CVS_HEMO_IBP_ART), the quantity {vs} codes {loinc} whatever the method; pairing by meaning, no published "
        "MDC-LOINC pair found")
LOINC_ROWS += [
    (150033, "8480-6", "Systolic blood pressure", True,
     _ART.format(refid="MDC_PRESS_BLD_ART_SYS", which="systolic", vs=f"{FHIR_VS} bp", loinc="8480-6")),
    (150033, "76215-3", "Invasive Systolic blood pressure", False,
     f"{FHIR_R6_SYS}; pairing by meaning, no published MDC-LOINC pair found"),
    (150034, "8462-4", "Diastolic blood pressure", True,
     _ART.format(refid="MDC_PRESS_BLD_ART_DIA", which="diastolic", vs=f"{FHIR_VS} bp", loinc="8462-4")),
    (150034, "76213-8", "Invasive Diastolic blood pressure", False,
     f"{FHIR_R6_DIA}; pairing by meaning, no published MDC-LOINC pair found"),
    (150035, "8478-0", "Mean blood pressure", True,
     _ART.format(refid="MDC_PRESS_BLD_ART_MEAN", which="mean", vs="FHIR R4 ValueSet observation-vitalsignresult",
                 loinc="8478-0")),
    (188496, "8310-5", "Body temperature", True,
     "semantic variant: FHIR R4 vital signs profile bodytemp requires 8310-5 for every body temperature observation "
     "(site in Observation.bodySite); MDC_TEMP_AXIL is the axillary temperature, like MDC_TEMP_AXILLA 188452 "
     f"listed in {DKCORE}"),
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
MSTAT = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"  # a PoCD IG code system, not THO
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
# dataAbsentReason, interpretation system, interpretation code, name). `name` is what a decoder records
# in Metric.measurement_status: the IEEE 11073-10201 MeasurementStatus bit name where the flag is one
# (so that the bit table above maps it), else a name for the flag; empty for "<" and ">", which are
# HL7 table 0078 interpretations.
PCD01_OBX8: list[tuple[str, str, str, str, str, str, str, str, str]] = [
    ("INV", "invalid(0)", "X", OBSV, "UNRELIABLE", "error", "", "", "invalid"),
    ("QUES", "questionable(1)", "R", OBSV, "UNCERTREL", "", MSTAT, "questionable", "questionable"),
    ("NAV", "not-available(2) / temporarily not available", "X", "", "", "temp-unknown", "", "", "not-available"),
    ("CAL", "calibration-ongoing(3)", "R", OBSV, "UNCERTREL", "", MSTAT, "calibration-ongoing", "calibration-ongoing"),
    ("TEST", "test-data(4)", "R", ACTREASON, "HTEST", "", "", "", "test-data"),
    ("DEMO", "demo-data(5)", "R", ACTREASON, "HTEST", "", "", "", "demo-data"),
    ("VAL", "validated-data(8)", "F", OBSV, "HRELIABLE", "", MSTAT, "validated-data", "validated-data"),
    # the IG's table cell for validated-data reads "#NAME?" (a spreadsheet artefact); senders write VAL or VALDATA
    ("VALDATA", "validated-data(8)", "F", OBSV, "HRELIABLE", "", MSTAT, "validated-data", "validated-data"),
    ("EARLY", "early-indication(9)", "R", "", "", "", MSTAT, "early-indication", "early-indication"),
    ("BUSY", "msmt-ongoing(10)", "X", "", "", "temp-unknown", MSTAT, "msmt-ongoing", "msmt-ongoing"),
    ("ALACT", "msmt-state-in-alarm(14)", "R", "", "", "", MSTAT, "in-alarm", "msmt-state-in-alarm"),
    ("ALINH", "msmt-state-al-inhibited(15)", "R", "", "", "", MSTAT, "alarm-inhibited", "msmt-state-al-inhibited"),
    ("NI", "no information", "", "", "", "unknown", "", "", "no-information"),
    ("OFF", "measurement function deactivated by user", "", "", "", "not-performed", "", "", "msmt-state-off"),
    (">", "above absolute high-off instrument scale", "", "", "", "", V3INTERP, ">", ""),
    ("<", "below absolute low-off instrument scale", "", "", "", "", V3INTERP, "<", ""),
    ("PN", "alert priority: no alarm", "", "", "", "", "", "", "alert-priority-none"),
    ("PL", "alert priority: low", "", "", "", "", "", "", "alert-priority-low"),
    ("PM", "alert priority: medium", "", "", "", "", "", "", "alert-priority-medium"),
    ("PH", "alert priority: high", "", "", "", "", "", "", "alert-priority-high"),
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


def _preferred(refid: str, ucum: str) -> str:
    """"1" when this unit is the one a UCUM code maps back to."""
    if not ucum:
        return "0"
    sharing = [r for _t, r, u, _s in UNITS if u == ucum]
    return "1" if (UCUM_PREFERRED.get(ucum, sharing[0]) == refid) else "0"


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
            ["code", "term_code", "refid", "ucum", "ucum_preferred", "source"],
            [[4 * 65536 + t, t, r, u, _preferred(r, u), s] for t, r, u, s in sorted(UNITS)],
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
             "interpretation_system", "interpretation_code", "name", "source"],
            [[*row, POCD_V2] for row in PCD01_OBX8],
        ),
    }
    return files

# ---------------------------------------------------------------------------------------------
# source verification (maintainers): re-read the public sources and compare every row
# ---------------------------------------------------------------------------------------------
_DEFINE = re.compile(r"#define\s+(MDC_[A-Za-z0-9_]+)\s+(\d+)")
_FSH = re.compile(r'IEEEx73#(\d+) "(MDC_[A-Za-z0-9_]+)"')
_HEADER_PARTITION = {"object_infrastructure": 1, "medical_scada": 2, "events": 3, "dimensions": 4,
                     "communication_infrastructure": 8}


def _defines(path: Path) -> dict[str, int]:
    """refid -> term code from one C header of #define lines."""
    out: dict[str, int] = {}
    for m in _DEFINE.finditer(path.read_text(encoding="utf-8", errors="replace")):
        out.setdefault(m.group(1), int(m.group(2)))
    return out


def source_codes(antidote: Path | None, mdrepo: Path | None, dkcore: Path | None) -> dict[str, dict[str, int]]:
    """Context-free codes by source name and refid, read from local checkouts of the public sources."""
    found: dict[str, dict[str, int]] = {}
    if antidote:  # signove/antidote: 20601 Annex A and specialization headers (partition from the refid family)
        codes: dict[str, int] = {}
        for h in [antidote / "src/dim/nomenclature.h", *sorted((antidote / "src/specializations").glob("*.h"))]:
            for refid, term in _defines(h).items():
                part = (4 if refid.startswith("MDC_DIM_") else 8 if refid.startswith(("MDC_DEV_SPEC", "MDC_TIME_SYNC"))
                        else 1 if refid.startswith(("MDC_ATTR_", "MDC_MOC_", "MDC_ACT_", "MDC_NOTI_")) else
                        255 if refid.startswith("MDC_RET_CODE") else 2)
                codes.setdefault(refid, part * 65536 + term)
        found["antidote"] = codes
    if mdrepo:  # wlbaker/mdrepo: ISO/IEEE 11073-10101:2004 Annex B, one header per partition
        codes = {}
        folder = mdrepo / "intfcode/intellivue/Shared/Nomenclature"
        for h in sorted(folder.glob("*nomenclature*.h")):
            part = next((v for k, v in _HEADER_PARTITION.items() if k in h.name), None)
            if part is None or "string_util" in h.name:
                continue
            for refid, term in _defines(h).items():
                if term < 0xF000:  # the private range holds vendor codes
                    codes.setdefault(refid, part * 65536 + term)
        found["ISO/IEEE 11073-10101:2004"] = codes
    if dkcore:  # hl7dk/dk-core: FSH value sets with IEEEx73#code "REFID"
        codes = {}
        for f in sorted((dkcore / "input/fsh").glob("*.fsh")):
            for m in _FSH.finditer(f.read_text(encoding="utf-8")):
                codes.setdefault(m.group(2), int(m.group(1)))
        found["DK Core IG"] = codes
    return found


# Source disagreements checked by hand: (refid, source name) -> why the shipped code stands.
KNOWN_DISAGREEMENTS: dict[tuple[str, str], str] = {
    ("MDC_ACT_SEG_GET_INFO", "ISO/IEEE 11073-10101:2004"):
        "20601 assigns 3085 (0x0C0D); the NovoPen trace in the corpus (xdrip_novopen_*) sends 0x0C0D",
}


def verify(found: dict[str, dict[str, int]]) -> list[str]:
    """Disagreements between the shipped rows and the sources (a source naming a refid with another code)."""
    problems = []
    aliases = {a: c for a, c, _ in REFID_ALIASES}
    for part, term, refid, *_ in TERMS:
        code = part * 65536 + term
        for name, codes in found.items():
            if refid in codes and codes[refid] != code and (refid, name) not in KNOWN_DISAGREEMENTS:
                problems.append(f"{refid}: shipped {code}, {name} says {codes[refid]}")
    for alias, code in aliases.items():
        for name, codes in found.items():
            if alias in codes and codes[alias] != code:
                problems.append(f"alias {alias}: shipped {code}, {name} says {codes[alias]}")
    for term, refid, _u, _s in UNITS:
        for name, codes in found.items():
            if refid in codes and codes[refid] != 4 * 65536 + term:
                problems.append(f"{refid}: shipped {4 * 65536 + term}, {name} says {codes[refid]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the generated files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if any generated file differs")
    ap.add_argument("--antidote", type=Path, help="checkout of signove/antidote: verify codes against it")
    ap.add_argument("--mdrepo", type=Path, help="checkout of wlbaker/mdrepo (10101:2004 headers)")
    ap.add_argument("--dkcore", type=Path, help="checkout of hl7dk/dk-core (FSH value sets)")
    args = ap.parse_args(argv)
    if args.antidote or args.mdrepo or args.dkcore:
        problems = verify(source_codes(args.antidote, args.mdrepo, args.dkcore))
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
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
