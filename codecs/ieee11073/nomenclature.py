"""IEEE 11073-20601 codec-internal nomenclature as data (20601 annex A and clause 8; 11073-10101 partitions).

Object classes, attribute ids, notification and action codes, APDU choices and result codes, with
the reference ids the standard gives them. Physiological terms and units come from
`interop.terminology.mdc`; `FALLBACK_UNITS` / `FALLBACK_TERMS` only cover the standard
configurations when that table is absent.
"""

from __future__ import annotations

# --- partitions (11073-10101 clause A.2; 20601 NomPartition) ---
MDC_PART_OBJ = 1
MDC_PART_SCADA = 2
MDC_PART_EVT = 3
MDC_PART_DIM = 4
MDC_PART_PGRP = 6
MDC_PART_INFRA = 8
MDC_PART_PHD_DM = 128
MDC_PART_PHD_HF = 129
MDC_PART_PHD_AI = 130
MDC_PART_RET_CODE = 255
MDC_PART_EXT_NOM = 256


def mdc_code(partition: int, term: int) -> int:
    """Context-free MDC code: partition × 2^16 + term code."""
    return (partition << 16) | term


# --- object classes (MDC_MOC_*, partition OBJ) ---
MOC = {
    3: "MDC_MOC_VMO_METRIC", 5: "MDC_MOC_VMO_METRIC_ENUM", 6: "MDC_MOC_VMO_METRIC_NU",
    9: "MDC_MOC_VMO_METRIC_SA_RT", 16: "MDC_MOC_SCAN", 17: "MDC_MOC_SCAN_CFG",
    18: "MDC_MOC_SCAN_CFG_EPI", 19: "MDC_MOC_SCAN_CFG_PERI", 37: "MDC_MOC_VMS_MDS_SIMP",
    61: "MDC_MOC_VMO_PMSTORE", 62: "MDC_MOC_PM_SEGMENT",
}
MDC_MOC_VMO_METRIC_ENUM = 5
MDC_MOC_VMO_METRIC_NU = 6
MDC_MOC_VMO_METRIC_SA_RT = 9
MDC_MOC_SCAN_CFG_EPI = 18
MDC_MOC_SCAN_CFG_PERI = 19
MDC_MOC_VMS_MDS_SIMP = 37
MDC_MOC_VMO_PMSTORE = 61

# --- attribute ids (MDC_ATTR_*, partition OBJ) ---
ATTR = {
    2310: "MDC_ATTR_AL_OP_STAT", 2323: "MDC_ATTR_CONFIRM_MODE", 2324: "MDC_ATTR_CONFIRM_TIMEOUT",
    2337: "MDC_ATTR_ID_HANDLE", 2338: "MDC_ATTR_ID_INSTNO", 2343: "MDC_ATTR_ID_LABEL_STRING",
    2344: "MDC_ATTR_ID_MODEL", 2347: "MDC_ATTR_ID_PHYSIO", 2349: "MDC_ATTR_ID_PROD_SPECN",
    2351: "MDC_ATTR_ID_TYPE", 2369: "MDC_ATTR_METRIC_STORE_CAPAC_CNT",
    2371: "MDC_ATTR_METRIC_STORE_SAMPLE_ALG", 2372: "MDC_ATTR_METRIC_STORE_USAGE_CNT",
    2375: "MDC_ATTR_MSMT_STAT", 2378: "MDC_ATTR_NU_ACCUR_MSMT", 2379: "MDC_ATTR_NU_CMPD_VAL_OBS",
    2384: "MDC_ATTR_NU_VAL_OBS", 2385: "MDC_ATTR_NUM_SEG", 2387: "MDC_ATTR_OP_STAT",
    2389: "MDC_ATTR_POWER_STAT", 2413: "MDC_ATTR_SA_SPECN", 2416: "MDC_ATTR_SCALE_SPECN_I32",
    2417: "MDC_ATTR_SCALE_SPECN_I16", 2418: "MDC_ATTR_SCALE_SPECN_I8", 2421: "MDC_ATTR_SCAN_REP_PD",
    2427: "MDC_ATTR_SEG_USAGE_CNT", 2436: "MDC_ATTR_SYS_ID", 2438: "MDC_ATTR_SYS_TYPE",
    2439: "MDC_ATTR_TIME_ABS", 2440: "MDC_ATTR_TIME_BATT_REMAIN", 2442: "MDC_ATTR_TIME_END_SEG",
    2445: "MDC_ATTR_TIME_PD_SAMP", 2447: "MDC_ATTR_TIME_REL", 2448: "MDC_ATTR_TIME_STAMP_ABS",
    2449: "MDC_ATTR_TIME_STAMP_REL", 2450: "MDC_ATTR_TIME_START_SEG", 2453: "MDC_ATTR_TX_WIND",
    2454: "MDC_ATTR_UNIT_CODE", 2457: "MDC_ATTR_UNIT_LABEL_STRING", 2460: "MDC_ATTR_VAL_BATT_CHARGE",
    2462: "MDC_ATTR_VAL_ENUM_OBS", 2536: "MDC_ATTR_TIME_REL_HI_RES", 2537: "MDC_ATTR_TIME_STAMP_REL_HI_RES",
    2628: "MDC_ATTR_DEV_CONFIG_ID", 2629: "MDC_ATTR_MDS_TIME_INFO", 2630: "MDC_ATTR_METRIC_SPEC_SMALL",
    2631: "MDC_ATTR_SOURCE_HANDLE_REF", 2632: "MDC_ATTR_SIMP_SA_OBS_VAL",
    2633: "MDC_ATTR_ENUM_OBS_VAL_SIMP_OID", 2634: "MDC_ATTR_ENUM_OBS_VAL_SIMP_STR",
    2635: "MDC_ATTR_REG_CERT_DATA_LIST", 2636: "MDC_ATTR_NU_VAL_OBS_BASIC",
    2637: "MDC_ATTR_PM_STORE_CAPAB", 2638: "MDC_ATTR_PM_SEG_MAP", 2639: "MDC_ATTR_PM_SEG_PERSON_ID",
    2640: "MDC_ATTR_SEG_STATS", 2641: "MDC_ATTR_SEG_FIXED_DATA", 2642: "MDC_ATTR_PM_SEG_ELEM_STAT_ATTR",
    2643: "MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP", 2644: "MDC_ATTR_SCAN_REP_PD_MIN",
    2645: "MDC_ATTR_ATTRIBUTE_VAL_MAP", 2646: "MDC_ATTR_NU_VAL_OBS_SIMP",
    2647: "MDC_ATTR_PM_STORE_LABEL_STRING", 2648: "MDC_ATTR_PM_SEG_LABEL_STRING",
    2649: "MDC_ATTR_TIME_PD_MSMT_ACTIVE", 2650: "MDC_ATTR_SYS_TYPE_SPEC_LIST",
    2655: "MDC_ATTR_METRIC_ID_PART", 2656: "MDC_ATTR_ENUM_OBS_VAL_PART",
    2657: "MDC_ATTR_SUPPLEMENTAL_TYPES", 2658: "MDC_ATTR_TIME_ABS_ADJUST",
    2659: "MDC_ATTR_CLEAR_TIMEOUT", 2660: "MDC_ATTR_TRANSFER_TIMEOUT",
    2661: "MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR", 2662: "MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR",
    2675: "MDC_ATTR_METRIC_STRUCT_SMALL", 2676: "MDC_ATTR_NU_CMPD_VAL_OBS_SIMP",
    2677: "MDC_ATTR_NU_CMPD_VAL_OBS_BASIC", 2678: "MDC_ATTR_ID_PHYSIO_LIST",
    2679: "MDC_ATTR_SCAN_HANDLE_LIST", 2689: "MDC_ATTR_TIME_BO", 2690: "MDC_ATTR_TIME_STAMP_BO",
    2691: "MDC_ATTR_TIME_START_SEG_BO", 2692: "MDC_ATTR_TIME_END_SEG_BO",
}
ATTR_ID = {name: code for code, name in ATTR.items()}
globals().update({name: code for name, code in ATTR_ID.items()})  # MDC_ATTR_* constants

# --- notifications (MDC_NOTI_*, partition OBJ) ---
NOTI = {
    3356: "MDC_NOTI_CONFIG", 3357: "MDC_NOTI_SCAN_REPORT_FIXED", 3358: "MDC_NOTI_SCAN_REPORT_VAR",
    3359: "MDC_NOTI_SCAN_REPORT_MP_FIXED", 3360: "MDC_NOTI_SCAN_REPORT_MP_VAR",
    3361: "MDC_NOTI_SEGMENT_DATA", 3362: "MDC_NOTI_UNBUF_SCAN_REPORT_VAR",
    3363: "MDC_NOTI_UNBUF_SCAN_REPORT_FIXED", 3364: "MDC_NOTI_UNBUF_SCAN_REPORT_GROUPED",
    3365: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_VAR", 3366: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_FIXED",
    3367: "MDC_NOTI_UNBUF_SCAN_REPORT_MP_GROUPED", 3368: "MDC_NOTI_BUF_SCAN_REPORT_VAR",
    3369: "MDC_NOTI_BUF_SCAN_REPORT_FIXED", 3370: "MDC_NOTI_BUF_SCAN_REPORT_GROUPED",
    3371: "MDC_NOTI_BUF_SCAN_REPORT_MP_VAR", 3372: "MDC_NOTI_BUF_SCAN_REPORT_MP_FIXED",
    3373: "MDC_NOTI_BUF_SCAN_REPORT_MP_GROUPED",
}
NOTI_ID = {name: code for code, name in NOTI.items()}
MDC_NOTI_CONFIG = 3356
MDC_NOTI_SEGMENT_DATA = 3361
# scan report event types by report structure
SCAN_FIXED = frozenset({3357, 3363, 3369})
SCAN_VAR = frozenset({3358, 3362, 3368})
SCAN_MP_FIXED = frozenset({3359, 3366, 3372})
SCAN_MP_VAR = frozenset({3360, 3365, 3371})
SCAN_GROUPED = frozenset({3364, 3370})
SCAN_MP_GROUPED = frozenset({3367, 3373})
SCAN_REPORTS = SCAN_FIXED | SCAN_VAR | SCAN_MP_FIXED | SCAN_MP_VAR | SCAN_GROUPED | SCAN_MP_GROUPED

# --- actions (MDC_ACT_*, partition OBJ) ---
ACT = {3084: "MDC_ACT_SEG_CLR", 3085: "MDC_ACT_SEG_GET_INFO", 3095: "MDC_ACT_SET_TIME",
       3099: "MDC_ACT_DATA_REQUEST", 3100: "MDC_ACT_SEG_TRIG_XFER"}
MDC_ACT_SEG_CLR = 3084
MDC_ACT_SEG_GET_INFO = 3085
MDC_ACT_SET_TIME = 3095
MDC_ACT_DATA_REQUEST = 3099
MDC_ACT_SEG_TRIG_XFER = 3100

# --- APDU choices (20601 clause A.7, "APDU ::= CHOICE") ---
AARQ_CHOSEN = 0xE200
AARE_CHOSEN = 0xE300
RLRQ_CHOSEN = 0xE400
RLRE_CHOSEN = 0xE500
ABRT_CHOSEN = 0xE600
PRST_CHOSEN = 0xE700
APDU_NAMES = {AARQ_CHOSEN: "AARQ", AARE_CHOSEN: "AARE", RLRQ_CHOSEN: "RLRQ", RLRE_CHOSEN: "RLRE",
              ABRT_CHOSEN: "ABRT", PRST_CHOSEN: "PRST"}

# --- DataApdu message choices (20601 clause A.10.1) ---
ROIV_CMIP_EVENT_REPORT_CHOSEN = 0x0100
ROIV_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN = 0x0101
ROIV_CMIP_GET_CHOSEN = 0x0103
ROIV_CMIP_SET_CHOSEN = 0x0104
ROIV_CMIP_CONFIRMED_SET_CHOSEN = 0x0105
ROIV_CMIP_ACTION_CHOSEN = 0x0106
ROIV_CMIP_CONFIRMED_ACTION_CHOSEN = 0x0107
RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN = 0x0201
RORS_CMIP_GET_CHOSEN = 0x0203
RORS_CMIP_CONFIRMED_SET_CHOSEN = 0x0205
RORS_CMIP_CONFIRMED_ACTION_CHOSEN = 0x0207
ROER_CHOSEN = 0x0300
RORJ_CHOSEN = 0x0400
DATA_APDU_NAMES = {
    0x0100: "roiv-cmip-event-report", 0x0101: "roiv-cmip-confirmed-event-report", 0x0103: "roiv-cmip-get",
    0x0104: "roiv-cmip-set", 0x0105: "roiv-cmip-confirmed-set", 0x0106: "roiv-cmip-action",
    0x0107: "roiv-cmip-confirmed-action", 0x0201: "rors-cmip-confirmed-event-report",
    0x0203: "rors-cmip-get", 0x0205: "rors-cmip-confirmed-set", 0x0207: "rors-cmip-confirmed-action",
    0x0300: "roer", 0x0400: "rorj",
}

# --- association results, release and abort reasons (20601 clause A.8) ---
ACCEPTED = 0
REJECTED_PERMANENT = 1
REJECTED_TRANSIENT = 2
ACCEPTED_UNKNOWN_CONFIG = 3
REJECTED_NO_COMMON_PROTOCOL = 4
REJECTED_NO_COMMON_PARAMETER = 5
REJECTED_UNKNOWN = 6
REJECTED_UNAUTHORIZED = 7
REJECTED_UNSUPPORTED_ASSOC_VERSION = 8
RELEASE_REQUEST_REASON_NORMAL = 0
RELEASE_RESPONSE_REASON_NORMAL = 0
ABORT_REASON_UNDEFINED = 0
ABORT_REASON_BUFFER_OVERFLOW = 1
ABORT_REASON_RESPONSE_TIMEOUT = 2
ABORT_REASON_CONFIGURATION_TIMEOUT = 3
DATA_PROTO_ID_20601 = 20601
DATA_PROTO_ID_EXTERNAL = 65535

# config-result of ConfigReportRsp (20601 clause A.11.5)
ACCEPTED_CONFIG = 0x0000
UNSUPPORTED_CONFIG = 0x0001
STANDARD_CONFIG_UNKNOWN = 0x0002

# ROER error-value (20601 clause A.10.4) and RORJ problem (A.10.5)
NO_SUCH_OBJECT_INSTANCE = 1
ACCESS_DENIED = 2
NO_SUCH_ACTION = 9
INVALID_OBJECT_INSTANCE = 17
PROTOCOL_VIOLATION = 23
NOT_ALLOWED_BY_OBJECT = 24
ACTION_TIMED_OUT = 25
ACTION_ABORTED = 26
UNRECOGNIZED_APDU = 0
BADLY_STRUCTURED_APDU = 2
UNRECOGNIZED_OPERATION = 101
RESOURCE_LIMITATION = 103
UNEXPECTED_ERROR = 303

# dev-config-id ranges (20601 clause A.7.4.1)
STANDARD_CONFIG_START = 0x0001
STANDARD_CONFIG_END = 0x3FFF
EXTENDED_CONFIG_START = 0x4000
EXTENDED_CONFIG_END = 0x7FFF

# protocol-version bits (ProtocolVersion BITS-32)
PROTOCOL_VERSIONS = {0x80000000: "20601-2008", 0x40000000: "20601a-2010", 0x20000000: "20601-2019"}
MDER_ENCODING = 0x8000  # EncodingRules mder

# --- bit strings ---
MEASUREMENT_STATUS = (  # MeasurementStatus BITS-16, most significant first (20601 A.5.6)
    (0x8000, "invalid"), (0x4000, "questionable"), (0x2000, "not-available"),
    (0x1000, "calibration-ongoing"), (0x0800, "test-data"), (0x0400, "demo-data"),
    (0x0080, "validated-data"), (0x0040, "early-indication"), (0x0020, "msmt-ongoing"),
    (0x0002, "msmt-state-in-alarm"), (0x0001, "msmt-state-al-inhibited"),
)
METRIC_SPEC_SMALL = (  # MetricSpecSmall BITS-16 (20601 A.5.1)
    (0x8000, "mss-avail-intermittent"), (0x4000, "mss-avail-stored-data"), (0x2000, "mss-upd-aperiodic"),
    (0x1000, "mss-msmt-aperiodic"), (0x0800, "mss-msmt-phys-ev-id"), (0x0400, "mss-msmt-btb-metric"),
    (0x0080, "mss-acc-manager-initiated"), (0x0040, "mss-acc-agent-initiated"),
    (0x0008, "mss-cat-manual"), (0x0004, "mss-cat-setting"), (0x0002, "mss-cat-calculation"),
)
MDS_TIME_CAP_STATE = (  # MdsTimeCapState BITS-16 (20601 A.5.8) -> MDC_TIME_CAP_* style names
    (0x8000, "mds-time-capab-real-time-clock"), (0x4000, "mds-time-capab-set-clock"),
    (0x2000, "mds-time-capab-relative-time"), (0x1000, "mds-time-capab-high-res-relative-time"),
    (0x0800, "mds-time-capab-sync-abs-time"), (0x0400, "mds-time-capab-sync-rel-time"),
    (0x0200, "mds-time-capab-sync-hi-res-relative-time"), (0x0100, "mds-time-capab-bo-time"),
    (0x0080, "mds-time-state-abs-time-synced"), (0x0040, "mds-time-state-rel-time-synced"),
    (0x0020, "mds-time-state-hi-res-relative-time-synced"), (0x0010, "mds-time-mgr-set-time"),
)
METRIC_STRUCT_SMALL_COMPOUND = (1, 2, 3)  # ms-struct-compound, -compound-fix (MetricStructureSmall)
SEG_ENTRY_HEADER = (  # PmSegmentEntryMap segm-entry-header (20601 A.11.3)
    (0x8000, "seg-elem-hdr-absolute-time", 8), (0x4000, "seg-elem-hdr-relative-time", 4),
    (0x2000, "seg-elem-hdr-hires-relative-time", 8), (0x1000, "seg-elem-hdr-bo-time", 8),
)
PROD_SPEC_TYPES = {0: "unspecified", 1: "serial-number", 2: "part-number", 3: "hw-revision", 4: "sw-revision",
                   5: "fw-revision", 6: "protocol-revision", 7: "prod-spec-gmdn"}
# RegCertData auth-body (20601 A.5.11; Continua design guidelines)
AUTH_BODY = {0: "auth-body-empty", 1: "auth-body-ieee-11073", 2: "auth-body-continua", 254: "auth-body-experimental",
             255: "auth-body-reserved"}
CONTINUA_VERSION_STRUCT = 1
CONTINUA_REG_STRUCT = 2


def bit_names(value: int, table) -> tuple[str, ...]:
    """Names of the bits set in `value` according to `table` ((mask, name[, ...]) rows)."""
    return tuple(row[1] for row in table if value & row[0])


# --- fallback terms for the standard configurations (11073-10101 codes; UCUM per HL7 PHD IG) ---
FALLBACK_TERMS = {
    mdc_code(2, 18948): "MDC_PRESS_BLD_NONINV", mdc_code(2, 18949): "MDC_PRESS_BLD_NONINV_SYS",
    mdc_code(2, 18950): "MDC_PRESS_BLD_NONINV_DIA", mdc_code(2, 18951): "MDC_PRESS_BLD_NONINV_MEAN",
    mdc_code(2, 18474): "MDC_PULS_RATE_NON_INV", mdc_code(2, 19384): "MDC_PULS_OXIM_SAT_O2",
    mdc_code(2, 18458): "MDC_PULS_OXIM_PULS_RATE", mdc_code(2, 19292): "MDC_TEMP_BODY",
    mdc_code(2, 57664): "MDC_MASS_BODY_ACTUAL", mdc_code(2, 57668): "MDC_LEN_BODY_ACTUAL",
    mdc_code(2, 57680): "MDC_RATIO_MASS_BODY_LEN_SQ", mdc_code(2, 57676): "MDC_BODY_FAT",
    mdc_code(2, 29112): "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD",
    mdc_code(8, 4100): "MDC_DEV_SPEC_PROFILE_PULS_OXIM", mdc_code(8, 4103): "MDC_DEV_SPEC_PROFILE_BPM",
    mdc_code(8, 4104): "MDC_DEV_SPEC_PROFILE_TEMP", mdc_code(8, 4111): "MDC_DEV_SPEC_PROFILE_SCALE",
    mdc_code(8, 4113): "MDC_DEV_SPEC_PROFILE_GLUCOSE", mdc_code(1, 37): "MDC_MOC_VMS_MDS_SIMP",
    mdc_code(8, 7936): "MDC_TIME_SYNC_NONE",
}
FALLBACK_UNITS = {  # MDC_DIM term code (partition 4) -> (refid, UCUM)
    512: ("MDC_DIM_DIMLESS", "1"), 544: ("MDC_DIM_PERCENT", "%"), 1297: ("MDC_DIM_CENTI_M", "cm"),
    1731: ("MDC_DIM_KILO_G", "kg"), 1760: ("MDC_DIM_LB", "[lb_av]"), 1952: ("MDC_DIM_KG_PER_M_SQ", "kg/m2"),
    2130: ("MDC_DIM_MILLI_G_PER_DL", "mg/dL"), 2720: ("MDC_DIM_BEAT_PER_MIN", "/min"),
    3843: ("MDC_DIM_KILO_PASCAL", "kPa"), 3872: ("MDC_DIM_MMHG", "mm[Hg]"), 4416: ("MDC_DIM_FAHR", "[degF]"),
    4722: ("MDC_DIM_MILLI_MOLE_PER_L", "mmol/L"), 6048: ("MDC_DIM_DEGC", "Cel"),
    5472: ("MDC_DIM_X_INTL_UNIT", "[iU]"),
}
