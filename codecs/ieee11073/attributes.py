"""Attribute values by attribute id (20601 clause 6 attribute tables, types of annex A).

`decode(attr_id, raw)` gives the value as the declaration of its ASN.1 type parses it;
`encode(attr_id, value)` builds it back. Attribute ids without a declaration stay raw octets.
"""

from __future__ import annotations

import threading
from typing import Any

from . import apdu, layouts
from . import nomenclature as nom

# attribute id -> name of its type's declaration in apdu.py
ATTRIBUTE_TYPES: dict[int, str] = {
    nom.MDC_ATTR_ID_TYPE: "TYPE",
    nom.MDC_ATTR_METRIC_SPEC_SMALL: "Int16ub",
    nom.MDC_ATTR_METRIC_STRUCT_SMALL: "MetricStructureSmall",
    nom.MDC_ATTR_UNIT_CODE: "Int16ub",
    nom.MDC_ATTR_ID_PHYSIO: "Int16ub",
    nom.MDC_ATTR_ID_PHYSIO_LIST: "MetricIdList",
    nom.MDC_ATTR_ATTRIBUTE_VAL_MAP: "AttrValMap",
    nom.MDC_ATTR_SOURCE_HANDLE_REF: "Int16ub",
    nom.MDC_ATTR_MSMT_STAT: "Int16ub",
    nom.MDC_ATTR_OP_STAT: "Int16ub",
    nom.MDC_ATTR_CONFIRM_MODE: "Int16ub",
    nom.MDC_ATTR_CONFIRM_TIMEOUT: "Int32ub",
    nom.MDC_ATTR_DEV_CONFIG_ID: "Int16ub",
    nom.MDC_ATTR_NU_VAL_OBS_SIMP: "Int32ub",
    nom.MDC_ATTR_NU_VAL_OBS_BASIC: "Int16ub",
    nom.MDC_ATTR_NU_VAL_OBS: "NuObsValue",
    nom.MDC_ATTR_NU_CMPD_VAL_OBS: "NuObsValueCmp",
    nom.MDC_ATTR_NU_CMPD_VAL_OBS_SIMP: "SimpleNuObsValueCmp",
    nom.MDC_ATTR_NU_CMPD_VAL_OBS_BASIC: "BasicNuObsValueCmp",
    nom.MDC_ATTR_NU_ACCUR_MSMT: "Int32ub",
    nom.MDC_ATTR_TIME_STAMP_ABS: "AbsoluteTime",
    nom.MDC_ATTR_TIME_ABS: "AbsoluteTime",
    nom.MDC_ATTR_TIME_STAMP_REL: "Int32ub",
    nom.MDC_ATTR_TIME_REL: "Int32ub",
    nom.MDC_ATTR_TIME_STAMP_REL_HI_RES: "HighResTimeStamp",
    nom.MDC_ATTR_TIME_REL_HI_RES: "HighResTimeStamp",
    nom.MDC_ATTR_TIME_STAMP_BO: "BaseOffsetTime",
    nom.MDC_ATTR_TIME_BO: "BaseOffsetTime",
    nom.MDC_ATTR_TIME_PD_MSMT_ACTIVE: "Int32ub",
    nom.MDC_ATTR_TIME_PD_SAMP: "Int32ub",
    nom.MDC_ATTR_ID_MODEL: "SystemModel",
    nom.MDC_ATTR_ID_PROD_SPECN: "ProductionSpec",
    nom.MDC_ATTR_SYS_ID: "OctetString",
    nom.MDC_ATTR_SYS_TYPE: "TYPE",
    nom.MDC_ATTR_SYS_TYPE_SPEC_LIST: "TypeVerList",
    nom.MDC_ATTR_MDS_TIME_INFO: "MdsTimeInfo",
    nom.MDC_ATTR_REG_CERT_DATA_LIST: "RegCertDataList",
    nom.MDC_ATTR_ID_LABEL_STRING: "OctetString",
    nom.MDC_ATTR_UNIT_LABEL_STRING: "OctetString",
    nom.MDC_ATTR_PM_STORE_LABEL_STRING: "OctetString",
    nom.MDC_ATTR_PM_SEG_LABEL_STRING: "OctetString",
    nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_OID: "Int16ub",
    nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_STR: "OctetString",
    nom.MDC_ATTR_ENUM_OBS_VAL_SIMP_BIT_STR: "Int32ub",
    nom.MDC_ATTR_ENUM_OBS_VAL_BASIC_BIT_STR: "Int16ub",
    nom.MDC_ATTR_ENUM_OBS_VAL_PART: "Int16ub",
    nom.MDC_ATTR_METRIC_ID_PART: "Int16ub",
    nom.MDC_ATTR_VAL_ENUM_OBS: "EnumObsValue",
    nom.MDC_ATTR_SIMP_SA_OBS_VAL: "OctetString",
    nom.MDC_ATTR_SA_SPECN: "SaSpec",
    nom.MDC_ATTR_SCALE_SPECN_I8: "ScaleRangeSpec8",
    nom.MDC_ATTR_SCALE_SPECN_I16: "ScaleRangeSpec16",
    nom.MDC_ATTR_SCALE_SPECN_I32: "ScaleRangeSpec32",
    nom.MDC_ATTR_SUPPLEMENTAL_TYPES: "SupplementalTypeList",
    nom.MDC_ATTR_SCAN_HANDLE_ATTR_VAL_MAP: "HandleAttrValMap",
    nom.MDC_ATTR_SCAN_HANDLE_LIST: "MetricIdList",
    nom.MDC_ATTR_SCAN_REP_PD_MIN: "Int32ub",
    nom.MDC_ATTR_SCAN_REP_PD: "Int32ub",
    nom.MDC_ATTR_PM_STORE_CAPAB: "Int16ub",
    nom.MDC_ATTR_PM_SEG_MAP: "PmSegmentEntryMap",
    nom.MDC_ATTR_PM_SEG_PERSON_ID: "Int16ub",
    nom.MDC_ATTR_METRIC_STORE_CAPAC_CNT: "Int32ub",
    nom.MDC_ATTR_METRIC_STORE_SAMPLE_ALG: "Int16ub",
    nom.MDC_ATTR_METRIC_STORE_USAGE_CNT: "Int32ub",
    nom.MDC_ATTR_NUM_SEG: "Int16ub",
    nom.MDC_ATTR_SEG_USAGE_CNT: "Int32ub",
    nom.MDC_ATTR_CLEAR_TIMEOUT: "Int32ub",
    nom.MDC_ATTR_TRANSFER_TIMEOUT: "Int32ub",
    nom.MDC_ATTR_ID_INSTNO: "Int16ub",
    nom.MDC_ATTR_VAL_BATT_CHARGE: "Int16ub",
    nom.MDC_ATTR_TIME_BATT_REMAIN: "NuObsValue",
    nom.MDC_ATTR_POWER_STAT: "Int16ub",
}


_LAYOUTS: dict[str, layouts.Parser] = {}  # type name -> parser derived from its declaration (layouts.py)
_LOCK = threading.Lock()


def layout(name: str) -> layouts.Parser:
    """The fast parser of the declaration `name` of apdu.py. All attribute types are derived together on
    first use, under a lock (deriving runs `exec`, which must not race in serving threads)."""
    found = _LAYOUTS.get(name)
    if found is None:
        with _LOCK:
            if not _LAYOUTS:
                for type_name in sorted({*ATTRIBUTE_TYPES.values(), "Apdu"}):
                    _LAYOUTS[type_name] = layouts.compile_layout(getattr(apdu, type_name), type_name)
            found = _LAYOUTS.get(name)
            if found is None:
                found = _LAYOUTS[name] = layouts.compile_layout(getattr(apdu, name), name)
    return found


def decode(attr_id: int, raw: bytes, base: int = 0) -> Any:
    """The value of attribute `attr_id` held in `raw` (raises apdu.LayoutError with an absolute offset).

    Read by the parser derived from its type's declaration (layouts.py: records, fields read at C speed);
    when the octets do not fit it exactly, by construct's compiled and then declarative parse, which
    gives the value construct gives or names the fault and its offset."""
    name = ATTRIBUTE_TYPES.get(attr_id)
    if name is None:
        return bytes(raw)
    parser = _LAYOUTS.get(name) or layout(name)
    try:
        return layouts.parse_whole(parser, raw)
    except layouts.Short:
        return apdu.parse(getattr(apdu, name), raw, name=name, base=base)


def encode(attr_id: int, value: Any) -> bytes:
    """The octets of attribute `attr_id` with `value` (the inverse of `decode`)."""
    name = ATTRIBUTE_TYPES.get(attr_id)
    if name is None:
        return bytes(value)
    return getattr(apdu, name).build(layouts.to_container(value))


def name(attr_id: int) -> str:
    """MDC reference id of an attribute id, or its number in hex."""
    return nom.ATTR.get(attr_id, f"attribute 0x{attr_id:04X}")
