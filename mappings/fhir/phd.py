"""HL7 Personal Health Device IG (hl7.org/fhir/uv/phd, STU2 build @ 5af8412) rules for 20601 and GATT input.

Runs after the general builders (device, observation) as one more builder: `build(message, ctx)`
rewrites the PHD's Device and Observations in place when `message.standard` is
"ieee11073-20601" or "bluetooth-gatt"; every other message passes untouched. Rules, with the IG
page they come from:

* PhdDevice (StructureDefinition-PhdDevice notes): `identifier.type` from ContinuaDeviceIdentifiers
  (SYSID for the EUI-64 system id, BTMAC for a Bluetooth address), values as dashed capital hex;
  `type` MDC 65573 MDC_MOC_VMS_MDS_SIMP; `specialization` (R5: `conformsTo`) from the
  dev-specializations; `version` typed with MDC_ID_PROD_SPEC_HW/SW/FW/PROTOCOL; clock information
  as `property` (68220 time sync protocol, 68221 accuracy in us, ASN1ToHL7 68219.x capabilities).
* PhdBaseObservation notes: category `phd`, gateway-device extension when a gateway is known, the
  conditional-create identifier device-patient-type-timestamp-duration-supplemental (system
  .../StructureDefinition/PhdBaseObservation), timestamp part as seconds since 2000-01-01
  (GeneratingtheTimeStampPartIdentifier.md), Supplemental-Types (MDC_MODALITY_*) as components with
  code 68193, the Measurement Status table (invalid, not-available, questionable, calibration,
  early-estimate).
* PhdCompoundNumericObservation / PhdNumericObservation: MDC code plus LOINC (vital signs category
  where LOINC says so), LOINC on BP components. PhdBitsEnumerationObservation: one component per set
  bit, code ASN1ToHL7 `<mdc>.<mder bit>`, valueBoolean true.
* `meta.profile` is claimed in R4 only (the IG is an R4 guide).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from interop.memo import Memo
from interop.model import MDC_SYSTEM, Device, Message, Metric, Timestamp
from interop.model.common import UCUM_SYSTEM
from interop.text import is_ascii_digits

from . import datatypes as fd
from .context import FhirContext, encode_query, hex_urn, id_prefix, stable_id, stable_id_after
from .datatypes import copy_concept
from .prepared import Prepared, RenderedDict, RenderedList

PHD_STANDARDS = ("ieee11073-20601", "bluetooth-gatt")
PROFILE_BASE = "http://hl7.org/fhir/uv/phd/StructureDefinition/"
OBSERVATION_PROFILES = {
    "numeric": ("PhdNumericObservation",),
    "compound": ("PhdCompoundNumericObservation",),
    "bits": ("PhdBitsEnumerationObservation",),
    "coded": ("PhdCodedEnumerationObservation",),
    "string": ("PhdStringObservation",),
    "sample-array": ("PhdRtsaObservation",),
}
DEVICE_PROFILE = PROFILE_BASE + "PhdDevice"
GATEWAY_PROFILE = PROFILE_BASE + "PhgDevice"
IDENTIFIER_SYSTEM = PROFILE_BASE + "PhdBaseObservation"  # system of the conditional-create identifier
CATEGORY_PHD = {"coding": [{"system": "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories",
                            "code": "phd", "display": "PHD generated Observation"}]}
VITAL_SIGNS_CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                    "code": "vital-signs", "display": "Vital Signs"}]}
GATEWAY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice"
COINCIDENT_EXTENSION = PROFILE_BASE + "CoincidentTimeStampReference"
ACCURACY_EXTENSION = PROFILE_BASE + "Accuracy"  # the metric's stated accuracy (MDC_ATTR_NU_ACCUR_MSMT)
COINCIDENT_PROFILE = PROFILE_BASE + "PhdCoincidentTimeStampObservation"
TIME_ABS = {"system": MDC_SYSTEM, "code": "67975", "display": "MDC_ATTR_TIME_ABS"}  # ValueSet MDCClockTypes
TIME_SYNC_PROTOCOL = {"system": MDC_SYSTEM, "code": "68220", "display": "MDC_TIME_SYNC_PROTOCOL"}
DEVICE_ID_SYSTEM = "http://terminology.hl7.org/CodeSystem/ContinuaDeviceIdentifiers"
DEVICE_ID_TYPES = {  # canonical Identifier.type -> (code, display, FHIR identifier system)
    "EUI-64": ("SYSID", "IEEE 11073 System Identifier", "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"),
    "SYSID": ("SYSID", "IEEE 11073 System Identifier", "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"),
    "BTMAC": ("BTMAC", "Bluetooth MAC address", "http://hl7.org/fhir/sid/eui-48/bluetooth"),
    "ETHMAC": ("ETHMAC", "Ethernet MAC address", "http://hl7.org/fhir/sid/eui-48/ethernet"),
    "ZIGBEE": ("ZIGBEE", "ZigBee MAC address", "http://hl7.org/fhir/sid/eui-64/zigbee"),
}
VERSION_TYPES = {  # ProductionSpec.kind -> MDC code (ValueSet MDCDeviceVersionTypes)
    "hw-revision": ("531974", "MDC_ID_PROD_SPEC_HW"),
    "sw-revision": ("531975", "MDC_ID_PROD_SPEC_SW"),
    "fw-revision": ("531976", "MDC_ID_PROD_SPEC_FW"),
    "protocol-revision": ("531977", "MDC_ID_PROD_SPEC_PROTOCOL"),
}
MDS_SIMP = {"system": MDC_SYSTEM, "code": "65573", "display": "MDC_MOC_VMS_MDS_SIMP"}
MDS_AHD = {"system": MDC_SYSTEM, "code": "531981", "display": "MDC_MOC_VMS_MDS_AHD"}  # PhgDevice type (fixed)
SUPPLEMENTAL_TYPES = {"system": MDC_SYSTEM, "code": "68193", "display": "MDC_ATTR_SUPPLEMENTAL_TYPES"}
ASN1_SYSTEM = "http://terminology.hl7.org/CodeSystem/ASN1ToHL7"
V2_0136 = "http://terminology.hl7.org/CodeSystem/v2-0136"
POCD_STATUS = "http://hl7.org/fhir/uv/pocd/CodeSystem/measurement-status"
DAR_SYSTEM = fd.DATA_ABSENT_SYSTEM
INTERPRETED_STATUS = ("questionable", "calibration-ongoing", "early-indication")  # Measurement Status table
CLOCK_CAPABILITIES = {  # ASN1ToHL7 68219.x names (Mds-Time-Info capabilities)
    "mds-time-capab-real-time-clock": 0, "mds-time-capab-set-clock": 1, "mds-time-capab-relative-time": 2,
    "mds-time-capab-high-res-relative-time": 3, "mds-time-capab-sync-abs-time": 4,
    "mds-time-capab-sync-rel-time": 5, "mds-time-capab-sync-hi-res-relative-time": 6,
    "mds-time-capab-bo-time": 7, "mds-time-state-abs-time-synced": 8, "mds-time-state-rel-time-synced": 9,
    "mds-time-state-hi-res-relative-time-synced": 10, "mds-time-mgr-set-time": 11,
    "mds-time-capab-sync-bo-time": 12, "mds-time-state-bo-time-synced": 13,
    "mds-time-state-bo-time-UTC-aligned": 14, "mds-time-dst-rules-enabled": 15,
}
EPOCH_2000 = datetime(2000, 1, 1)
LOINC_SYSTEM = "http://loinc.org"
# UCUM units the FHIR vital signs profiles allow (R4 4.0.1 and R5: fixedCode or required binding
# BodyWeightUnits / BodyLengthUnits / BodyTempUnits), by profile; "bp" is for the systolic and
# diastolic components. Other units (e.g. a BP cuff in kPa) leave the observation outside the profile.
VITAL_SIGN_UNITS = {
    "resprate": ("/min",), "heartrate": ("/min",), "oxygensat": ("%",), "bmi": ("kg/m2",),
    "bodyweight": ("g", "kg", "[lb_av]"), "bodyheight": ("cm", "[in_i]"), "headcircum": ("cm", "[in_i]"),
    "bodytemp": ("Cel", "[degF]"), "bp": ("mm[Hg]",),
}
BP_SLICES = ("8480-6", "8462-4")  # SystolicBP, DiastolicBP
EXACT_UNIT_SHIFTS = {"m": ("cm", 2)}  # unit -> (allowed unit, power of ten): exact, precision kept (1.75 m = 175 cm)
ASN1_NAMES: dict[str, tuple[str, ...]] = {  # CodeSystem ASN1ToHL7: MDC code -> names of MDER bits 0, 1, ...
    "150604": ("sensor-disconnected", "sensor-malfunction", "sensor-displaced", "sensor-unsupported", "sensor-off",
               "sensor-interference", "signal-searching", "signal-pulse-questionable", "signal-non-pulsatile",
               "signal-erratic", "signal-low-perfusion", "signal-poor", "signal-inadequate",
               "signal-processing-irregularity", "device-equipment-malfunction", "device-extended-update"),
    "150605": ("pulse-qual-nominal", "pulse-qual-marginal", "pulse-qual-minimal", "pulse-qual-unacceptable"),
    "8410608": ("body-movement", "cuff-too-loose", "irregular-pulse", "pulse-over-range-limit",
                "pulse-under-range-limit", "improper-body-position"),
    "8417752": ("device-battery-low", "sensor-malfunction", "sensor-sample-size-insufficient", "sensor-strip-insertion",
                "sensor-strip-type-incorrect", "sensor-result-too-high", "sensor-result-too-low", "sensor-temp-too-high",
                "sensor-temp-too-low", "sensor-read-interrupt", "device-gen-fault", "sensor-temp-out-of-range"),
}


# --- identifiers ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # device identities recur in every message of a device
def hex_id(value: str) -> str:
    """An EUI-64/EUI-48 written any way ("00:1c:..", "001C..") as capital hex without separators."""
    return "".join(ch for ch in value if ch not in ":- ").upper()


@lru_cache(maxsize=4096)
def dashed(value: str) -> str:
    """The IG's Device.identifier.value form: capital hex pairs joined by dashes (FE-ED-AB-EE-DE-AD-77-C3)."""
    h = hex_id(value)
    return "-".join(h[i:i + 2] for i in range(0, len(h), 2))


def device_key_id(device: Device) -> str | None:
    """The device entry of the conditional-create identifier: system id (16 hex) or transport address (12 hex)."""
    hit = _DEVICE_IDS.get(id(device))
    if hit is not None and hit[0] is device:
        return hit[1]
    return _DEVICE_IDS.put(id(device), (device, _device_key_id(device)))[1]


def _device_key_id(device: Device) -> str | None:
    ids = sorted(device.identifiers, key=lambda i: 0 if i.type in ("EUI-64", "SYSID") else 1)
    for ident in ids:
        if ident.type in DEVICE_ID_TYPES:
            return hex_id(ident.value)
    return None


# Keyed by the Device object (identity: a codec hands out one Device per device state, see
# codecs.ieee11073.association); each entry keeps its Device alive, so an id is never reused while cached.
_DEVICE_IDS = Memo(1024)  # id(Device) -> (Device, conditional-create device part)
_PHD_DEVICES = Memo(1024)  # (version, gateway?, id(Device), general resource's keys) -> (Device, edit, notes)
_PHD_SHARED = Memo(1024)  # (version, gateway?, id(Device), id(shared general resource)) -> (..., PHD resource, notes)
_PHD_CODES = Memo(4096)  # id(shared Observation.code) -> (that code, the code with its LOINC coding, LOINC code)
_PHD_COMPONENT_CODES = Memo(4096)  # id(component CodeableConcept) -> (it, its fragment, its PHD form)
_STAMPS = Memo(4096)  # (id(Timestamp), id(end Timestamp)) -> (them, the identifier's timestamp part)


def forget() -> None:
    """Empty the memos of the PHD pass (each refills on use)."""
    _DEVICE_IDS.forget()
    _PHD_DEVICES.forget()
    _PHD_SHARED.forget()
    _PHD_CODES.forget()
    _PHD_COMPONENT_CODES.forget()
    _STAMPS.forget()
    hex_id.cache_clear()
    dashed.cache_clear()


def _seconds(delta: timedelta, precision: str) -> str:
    whole = delta.days * 86400 + delta.seconds
    if precision == "millisecond":
        return f"{whole}.{delta.microseconds // 1000:03d}"
    if precision == "microsecond":
        return f"{whole}.{delta.microseconds:06d}"
    return str(whole)


def timestamp_part(ts: Timestamp, end: Timestamp | None = None) -> str:
    """PHD reported time as seconds since 2000-01-01 at its resolution, the offset in 15-minute units,
    then ".." and the measurement duration (GeneratingtheTimeStampPartIdentifier.md)."""
    value = ts.value
    text = _seconds(value.replace(tzinfo=None) - EPOCH_2000, ts.precision)
    offset = value.utcoffset()
    if offset is not None:
        text += f"{int(offset.total_seconds() // 900):+d}"
    if end is not None:
        text += ".." + _seconds(end.value - value, ts.precision)
    return text


def conditional_identifier(device_id: str, patient: str | None, code: str, timestamp: str | None,
                           supplemental: tuple[str, ...] = ()) -> str:
    """device-patient-type-timestamp[..duration]-supplemental, absent entries left out (PhdBaseObservation notes)."""
    return "-".join([p for p in (device_id, patient, code, timestamp, *supplemental) if p])


def patient_part(message: Message, provided: str | None = None) -> str | None:
    """`Patient.identifier.value`-`Patient.identifier.system` of the message's patient, else the provided logical id."""
    if message.patient and message.patient.identified:
        i = message.patient.identifiers[0]
        return f"{i.value}-{i.system}" if i.system else i.value
    return provided


def provided_patient(m: Metric, ctx: FhirContext) -> str | None:
    """The logical Patient id the service provider gave the PHG (mapping option `patient`).

    `patient="123"` applies to every observation; `patient={1: "123", 2: "456"}` maps a multi-user
    device's user id (`Metric.person_id`) to a patient (PhdBaseObservation notes: "provided logical id").
    """
    given = ctx.options.get("patient")
    if isinstance(given, dict):
        value = given.get(m.person_id)
        return str(value) if value is not None else None
    return str(given) if given else None


def reception_time(message: Message, ctx: FhirContext) -> Timestamp | None:
    """When the PHG received the data: `Message.sent`, else the mapping option `received` (datetime or Timestamp)."""
    if message.sent is not None:
        return message.sent
    given = ctx.options.get("received")
    if isinstance(given, Timestamp):
        return given
    if isinstance(given, datetime):
        precision = "microsecond" if given.microsecond else "second"
        return Timestamp(value=given, precision=precision, raw=None)
    return None


# --- Device --------------------------------------------------------------------------------------


def device_identifiers(device: Device) -> list[dict[str, Any]]:
    """Device.identifier entries typed per ContinuaDeviceIdentifiers."""
    out = []
    for ident in device.identifiers:
        kind = DEVICE_ID_TYPES.get(ident.type or "")
        if kind is None:
            out.append(fd.identifier(ident))
            continue
        code, display, system = kind
        out.append({"type": {"coding": [{"system": DEVICE_ID_SYSTEM, "code": code, "display": display}]},
                    "system": system, "value": dashed(ident.value)})
    return out


def device_versions(device: Device) -> list[dict[str, Any]]:
    """Device.version entries typed with MDC_ID_PROD_SPEC_* codes (serial numbers go to serialNumber)."""
    out = []
    for spec in device.production_specs:
        if spec.kind == "serial-number":
            continue
        mdc = VERSION_TYPES.get(spec.kind)
        vtype = ({"coding": [{"system": MDC_SYSTEM, "code": mdc[0], "display": mdc[1]}]} if mdc
                 else {"text": spec.kind})
        out.append({"type": vtype, "value": spec.value})
    return out


def _flag(ctx: FhirContext, value: bool) -> dict[str, Any]:
    if ctx.r5:
        return {"valueBoolean": value}
    return {"valueCode": [{"coding": [{"system": V2_0136, "code": "Y" if value else "N"}]}]}


def device_properties(device: Device, ctx: FhirContext) -> list[dict[str, Any]]:
    """Clock information as Device.property (PhdDevice notes, "Clock information")."""
    t = device.time
    if t is None:
        return []
    props: list[dict[str, Any]] = []
    if t.sync_protocol:
        code = _mdc_code(t.sync_protocol)
        value = {"coding": [{"system": MDC_SYSTEM, "code": code or t.sync_protocol, "display": t.sync_protocol}]}
        prop_type = {"coding": [{"system": MDC_SYSTEM, "code": "68220", "display": "MDC_TIME_SYNC_PROTOCOL"}]}
        props.append({"type": prop_type, **({"valueCodeableConcept": value} if ctx.r5 else {"valueCode": [value]})})
    if t.accuracy_us is not None:
        q = {"value": t.accuracy_us, "system": "http://unitsofmeasure.org", "code": "us"}
        prop_type = {"coding": [{"system": MDC_SYSTEM, "code": "68221", "display": "MDC_TIME_SYNC_ACCURACY"}]}
        props.append({"type": prop_type, **({"valueQuantity": q} if ctx.r5 else {"valueQuantity": [q]})})
    for name in t.capabilities:
        bit = CLOCK_CAPABILITIES.get(name)
        if bit is None:
            ctx.note("phd.clock-capability", f"Device {device.key}", f"clock capability {name!r} has no ASN1ToHL7 code")
            continue
        prop_type = {"coding": [{"system": ASN1_SYSTEM, "code": f"68219.{bit}", "display": name}]}
        props.append({"type": prop_type, **_flag(ctx, True)})
    return props


def _mdc_code(refid: str) -> str | None:
    if is_ascii_digits(refid):
        return refid
    try:
        from interop.terminology import mdc

        term = mdc.term_by_refid(refid)
    except (ImportError, LookupError):  # pragma: no cover
        return None
    return str(term.code) if term else None


def phd_device(res: dict[str, Any], device: Device, ctx: FhirContext, *, gateway: bool = False) -> None:
    """Rewrite a general Device dict into a PhdDevice (or PhgDevice for the gateway)."""
    if not ctx.r5:
        res["meta"] = {"profile": [GATEWAY_PROFILE if gateway else DEVICE_PROFILE]}
    if device.identifiers:
        res["identifier"] = device_identifiers(device)
    type_coding = {"coding": [MDS_AHD if gateway else MDS_SIMP]}
    res["type"] = [type_coding] if ctx.r5 else type_coding
    specs = [fd.concept(s) for s in device.specializations]
    if specs:
        # System-Type-Spec-List[i].version (PhdDevice specialization.version; R5 Device.conformsTo.version)
        versions = device.specialization_versions
        key = "specification" if ctx.r5 else "systemType"
        entries = []
        for i, s in enumerate(specs):
            entry = {key: s}
            if i < len(versions) and versions[i] is not None:
                entry["version"] = versions[i]
            entries.append(entry)
        res["conformsTo" if ctx.r5 else "specialization"] = entries
    versions = device_versions(device)
    if versions:
        res["version"] = versions
    else:
        res.pop("version", None)
    props = device_properties(device, ctx)
    if props:
        res["property"] = props
    for field, what in (("manufacturer", "manufacturer"), ("modelNumber", "model number")):
        if field not in res:
            ctx.note("phd.device-missing", f"Device {device.key}", f"PhdDevice requires a {what}; the source gave none")


def _phd_device_memo(res: dict[str, Any], device: Device, ctx: FhirContext, *,
                     gateway: bool = False) -> dict[str, Any]:
    """The PhdDevice (PhgDevice) of the general Device resource `res`; returns the resource the entry holds.

    A shared general resource (`Prepared`, one per device for every Bundle: mappings.fhir.prepared) is never
    edited: its PHD form is made once, from a copy, and shared in turn (with the findings its making
    recorded, recorded again). A resource of this Bundle alone is edited in place, by an edit that depends
    only on the Device, the FHIR version, the role and which elements the resource has: made once per such
    key, then applied again (the same elements in the same order, the same findings)."""
    if type(res) is Prepared:
        shared_key = (ctx.version, gateway, id(device), id(res))
        hit = _PHD_SHARED.get(shared_key) or _PHD_SHARED.recall(shared_key)
        if hit is None or hit[0] is not device or hit[1] is not res:
            copy = dict(res)
            noted = len(ctx.issues)
            phd_device(copy, device, ctx, gateway=gateway)
            hit = _PHD_SHARED.put(shared_key, (device, res, ctx.prepare(copy), tuple(ctx.issues[noted:])))
            return hit[2]
        ctx.issues.extend(hit[3])
        return hit[2]
    key = (ctx.version, gateway, id(device), tuple(res))
    hit = _PHD_DEVICES.get(key) or _PHD_DEVICES.recall(key)
    if hit is None or hit[0] is not device:
        before = dict(res)
        noted = len(ctx.issues)
        phd_device(res, device, ctx, gateway=gateway)
        changed = {k: v for k, v in res.items() if k not in before or before[k] is not v}
        removed = tuple(k for k in before if k not in res)
        _PHD_DEVICES.put(key, (device, changed, removed, tuple(ctx.issues[noted:])))
        return res
    _, changed, removed, notes = hit
    for k in removed:
        del res[k]
    res.update(changed)
    ctx.issues.extend(notes)
    return res


# --- Observation ---------------------------------------------------------------------------------


@cache
def _loinc(code: str) -> tuple[str, str] | None:
    try:
        from interop.terminology import mdc

        return mdc.loinc_for(int(code))
    except (ImportError, ValueError):  # pragma: no cover
        return None


@cache
def _is_vital(loinc: str) -> bool:
    try:
        from interop.terminology import mdc

        return bool(mdc.is_vital_sign_loinc(loinc))
    except ImportError:  # pragma: no cover
        return False


def _add_loinc(concept: dict[str, Any]) -> str | None:
    """Append the LOINC coding of the concept's MDC code (if any); return the LOINC code (the first LOINC
    coding's, when the concept has one already)."""
    codings = concept.get("coding")
    if codings is None:
        codings = concept["coding"] = []
    mdc_code = None
    for c in codings:
        system = c.get("system")
        if system == LOINC_SYSTEM:
            return c["code"]
        if system == MDC_SYSTEM and mdc_code is None:
            mdc_code = c["code"]
    found = _loinc(mdc_code) if mdc_code else None
    if found is None:
        return None
    codings.append({"system": LOINC_SYSTEM, "code": found[0], "display": found[1]})
    return found[0]


@cache
def _vital_profile(loinc: str) -> str | None:
    try:
        from interop.terminology import mdc

        return mdc.vital_sign_profile(loinc)
    except ImportError:  # pragma: no cover
        return None


def _vital_units_fit(res: dict[str, Any], loinc: str) -> bool:
    """True when every measured unit the vital signs profile of `loinc` constrains is one it allows."""
    profile = _vital_profile(loinc)
    allowed = VITAL_SIGN_UNITS.get(profile or "")
    if allowed is None:
        return True
    if profile != "bp":
        q = res.get("valueQuantity")
        return q is None or q.get("code") in allowed
    for c in res.get("component", ()):  # the systolic and diastolic components (LOINC slices)
        for x in c["code"].get("coding", ()):
            if x.get("system") == LOINC_SYSTEM and x.get("code") in BP_SLICES:
                q = c.get("valueQuantity")
                if q is not None and q.get("code") not in allowed:
                    return False
                break
    return True


def _shift_units(res: dict[str, Any], loinc: str) -> None:
    """Rewrite a value in a unit the vital signs profile lacks into one it allows, where that is a decimal shift."""
    allowed = VITAL_SIGN_UNITS.get(_vital_profile(loinc) or "", ())
    q = res.get("valueQuantity")
    shift = EXACT_UNIT_SHIFTS.get(q.get("code")) if q and q.get("system") == UCUM_SYSTEM else None
    if shift is None or shift[0] not in allowed or q.get("value") is None:
        return
    value = q["value"] if isinstance(q["value"], Decimal) else Decimal(str(q["value"]))
    q.update(value=value.scaleb(shift[1]), unit=shift[0], code=shift[0])


def _bits_components(m: Metric) -> list[dict[str, Any]]:
    """One component per set bit: ASN1ToHL7 `<mdc>.<mder bit>`, valueBoolean true (events are sent when set)."""
    v = m.value
    mdc_code = m.code.code_in(MDC_SYSTEM)
    known = ASN1_NAMES.get(mdc_code or "", ())
    out = []
    for bit in range(v.width):
        if v.value >> (v.width - 1 - bit) & 1:  # MDER bit 0 is the most significant
            index = sum(1 for b in range(bit) if v.value >> (v.width - 1 - b) & 1)
            display = v.set_names[index] if index < len(v.set_names) else (known[bit] if bit < len(known) else None)
            coding = {"system": ASN1_SYSTEM, "code": f"{mdc_code}.{bit}"}
            if display:
                coding["display"] = display
            out.append({"code": {"coding": [coding]}, "valueBoolean": True})
    return out


def _measurement_status(res: dict[str, Any], m: Metric) -> None:
    """Apply the PhdBaseObservation Measurement Status table."""
    status = m.measurement_status
    if not status:  # the common case: nothing to apply
        return
    if "invalid" in status:
        _drop_value(res)
        res["dataAbsentReason"] = {"coding": [{"system": DAR_SYSTEM, "code": "error"}]}
        res["status"] = "entered-in-error"
    elif "not-available" in status:
        _drop_value(res)
        res["dataAbsentReason"] = {"coding": [{"system": DAR_SYSTEM, "code": "not-performed"}]}
    if "early-indication" in status and res.get("status") == "final":
        res["status"] = "preliminary"
    interpretation = [{"coding": [{"system": POCD_STATUS, "code": s}]} for s in INTERPRETED_STATUS if s in status]
    if interpretation:
        res["interpretation"] = res.get("interpretation", []) + interpretation


def _drop_value(res: dict[str, Any]) -> None:
    for key in [k for k in res if k.startswith("value")]:
        del res[key]
    for comp in res.get("component", []):
        if "valueQuantity" in comp:
            del comp["valueQuantity"]
            comp["dataAbsentReason"] = {"coding": [{"system": DAR_SYSTEM, "code": "error"}]}


def phd_observation(res: dict[str, Any], m: Metric, message: Message, ctx: FhirContext,
                    device: Device | None) -> None:
    """Rewrite a general Observation dict into the PHD profile of its value kind."""
    kind = m.value.kind if m.value is not None else "numeric"
    if not ctx.r5:
        res.setdefault("meta", {})["profile"] = list(_PROFILE_URLS.get(kind, ()))
    if ctx.gateway_ref:
        res.setdefault("extension", []).append({"url": GATEWAY_EXTENSION,
                                                "valueReference": ctx.reference(ctx.gateway_ref)})
    if m.accuracy is not None and m.accuracy.unit:  # PHD IG Accuracy: a Quantity in the value's UCUM unit
        res.setdefault("extension", []).append({"url": ACCURACY_EXTENSION, "valueQuantity": {
            "value": m.accuracy.value, "system": "http://unitsofmeasure.org", "code": m.accuracy.unit}})
    if ctx.shares:  # Observation.code is the code's shared fragment (mappings.fhir.prepared): never edited
        code = res["code"]
        hit = _PHD_CODES.get(id(code)) or _PHD_CODES.recall(id(code))
        if hit is None or hit[0] is not code:
            phd_code = copy_concept(code)
            hit = _PHD_CODES.put(id(code), (code, phd_code, _add_loinc(phd_code)))
        res["code"], loinc = hit[1], hit[2]
    else:
        loinc = _add_loinc(res["code"])
    components = res.get("component", [])
    if components:
        _component_loinc(components, m, ctx)
    vital = bool(loinc) and _is_vital(loinc)
    if vital:
        _shift_units(res, loinc)
    if vital and not _vital_units_fit(res, loinc):
        # the vital signs profile fixes the unit; keep the value as measured and leave the profile's code out
        res["code"] = {**res["code"], "coding": [c for c in res["code"]["coding"] if c.get("system") != LOINC_SYSTEM]}
        ctx.note("phd.vital-signs-unit", m.source.location if m.source else "metric",
                 f"LOINC {loinc} left out: the unit is not one the FHIR vital signs profile allows")
        loinc = None
        vital = False
    categories = [c for c in res.get("category", ()) if c != VITAL_SIGNS_CATEGORY]
    if vital:
        categories.insert(0, VITAL_SIGNS_CATEGORY)
    res["category"] = categories + [CATEGORY_PHD]
    if kind == "bits":
        res.pop("valueString", None)
        components = _bits_components(m)
    supplemental = []
    if m.method is not None and m.method.code_in(MDC_SYSTEM):
        supplemental.append(m.method.code_in(MDC_SYSTEM))
        components.append({"code": {"coding": [SUPPLEMENTAL_TYPES]}, "valueCodeableConcept": fd.concept(m.method)})
        res.pop("method", None)
    if components:
        res["component"] = components
    _measurement_status(res, m)
    if "effectiveDateTime" not in res and "effectivePeriod" not in res:
        # PhdBaseObservation: every uploaded observation has a time; without a PHD timestamp the PHG uses
        # the time of reception (`Message.sent`, else the mapping option `received`)
        received = reception_time(message, ctx)
        if received is not None:
            res["effectiveDateTime"] = fd.date_time(received, ctx.options.get("timezone"))[0]
        elif not ctx.options.get("_phd_no_effective_noted"):  # once per Bundle
            ctx.options["_phd_no_effective_noted"] = True
            ctx.note("phd.no-effective", m.source.location if m.source else "metric",
                     "PhdBaseObservation requires an effective time; the PHD gave no timestamp and the time of "
                     "reception is unknown (mapping option received=<datetime>)")
    provided = provided_patient(m, ctx)
    if "subject" not in res:
        if provided:
            res["subject"] = {"reference": f"Patient/{provided}"}
        elif not ctx.options.get("_phd_no_subject_noted"):  # once per Bundle
            ctx.options["_phd_no_subject_noted"] = True
            ctx.note("phd.no-subject", m.source.location if m.source else "metric",
                     "PhdBaseObservation requires a subject; no patient known (mapping option patient=<logical id>)")
    device_id = device_key_id(device) if device else None
    code = m.code.code_in(MDC_SYSTEM)
    if device_id and code and m.effective is not None:
        # only a timed reading has an identity: two untimed readings of the same kind are two readings, and
        # an identifier without the time would make the server drop every later one as a duplicate
        stamp = (_timestamp_part(m.effective, m.effective_end) if ctx.shares  # times recur as objects
                 else timestamp_part(m.effective, m.effective_end))
        value = conditional_identifier(device_id, patient_part(message, provided), code, stamp, tuple(supplemental))
        res["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": value}]


_PROFILE_URLS = {kind: tuple(PROFILE_BASE + p for p in profiles) for kind, profiles in OBSERVATION_PROFILES.items()}


def _component_loinc(components: list[dict[str, Any]], m: Metric, ctx: FhirContext) -> None:
    """The LOINC coding added to each component's code. A compound's component codes are copies of their
    concepts' shared fragments (observation.py): in a sharing Bundle each becomes the concept's one PHD
    form (made once, never edited); anything else is edited in place."""
    value = m.value
    shared = ctx.shares and value is not None and value.kind == "compound" and len(value.components) == len(components)
    for i, comp in enumerate(components):
        code = comp["code"]
        if shared:
            hit = _phd_component_entry(value.components[i].code)
            if code == hit[1]:  # the component's code is that concept's, as the observation builder wrote it
                comp["code"] = hit[2]
                continue
        _add_loinc(code)


def _timestamp_part(ts: Timestamp, end: Timestamp | None) -> str:
    """`timestamp_part`, once per Timestamp object (a codec hands out one per distinct time: the entry keeps it)."""
    key = (id(ts), id(end))
    hit = _STAMPS.get(key)
    if hit is None or hit[0] is not ts or hit[1] is not end:
        hit = _STAMPS.put(key, (ts, end, timestamp_part(ts, end)))
    return hit[2]


# --- Coincident Timestamp Observation ----------------------------------------------------------


def coincident_timestamp(message: Message, device: Device, device_ref: str, ctx: FhirContext) -> str | None:
    """PhdCoincidentTimeStampObservation: the PHD's clock (valueDateTime) as read at the PHG's time
    (effectiveDateTime: the time of reception), so consumers can relate the two timelines."""
    t = device.time
    received = reception_time(message, ctx)
    if t is None or t.device_time is None or received is None:
        return None
    tz = ctx.options.get("timezone")
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": stable_id("Observation", "coincident", device_ref, t.device_time.value.isoformat(),
                        received.value.isoformat()),
        "status": "final",
        "code": {"coding": [TIME_ABS]},
        "subject": ctx.reference(device_ref),
        "effectiveDateTime": fd.date_time(received, tz)[0],
        "valueDateTime": fd.date_time(t.device_time, tz)[0],
    }
    if not ctx.r5:
        res["meta"] = {"profile": [COINCIDENT_PROFILE]}
    code = _mdc_code(t.sync_protocol) if t.sync_protocol else None
    if code:
        res["component"] = [{"code": {"coding": [TIME_SYNC_PROTOCOL]},
                             "valueCodeableConcept": {"coding": [{"system": MDC_SYSTEM, "code": code,
                                                                  "display": t.sync_protocol}]}}]
    if ctx.gateway_ref:
        res["device"] = ctx.reference(ctx.gateway_ref)
    else:
        ctx.note("phd.coincident-no-gateway", f"Device {device.key}",
                 "PhdCoincidentTimeStampObservation requires the gateway device; none is known")
    return ctx.add(res)


# --- the builder ---------------------------------------------------------------------------------


def phd_over_v2(message: Message) -> bool:
    """An HL7 v2 message from a PHD gateway (PCD-01 rows of MDC_DEV_SPEC_PROFILE_*: codecs.hl7v2.phd)."""
    return message.standard == "hl7v2" and any(
        d.specializations and d.source is not None and d.source.location.startswith("OBX") for d in message.devices)


def build(message: Message, ctx: FhirContext) -> None:
    """Apply the PHD IG to the Device and Observations already in `ctx` (PHD standards only)."""
    if message.standard not in PHD_STANDARDS and not phd_over_v2(message):
        return
    fused = ctx.options.pop("_phd_fused", None)  # made in their PHD form already (`observations`)
    entries = ctx.entries
    if fused is not None:  # only the Devices are looked up by reference: the builders before made them
        entries = entries[:fused[0]]
        fused = fused[1]
    by_ref = {(r.ref if type(r) is Prepared else f"{r['resourceType']}/{r['id']}"): e
              for e in entries for r in (e["resource"],)}
    roots = {d.key: d for d in message.devices}
    for key, ref in ctx.device_refs.items():
        entry = by_ref.get(ref)
        if entry is None:
            continue
        if message.gateway is not None and key == message.gateway.key:
            entry["resource"] = _phd_device_memo(entry["resource"], message.gateway, ctx, gateway=True)
        elif key in roots:
            entry["resource"] = _phd_device_memo(entry["resource"], roots[key], ctx)
    observation_refs = list(ctx.observation_refs)
    coincident = {key: coincident_timestamp(message, roots[key], ref, ctx) for key, ref in ctx.device_refs.items()
                  if key in roots}
    root_of: dict[str | None, Device | None] = {}  # _root_of per device key (metrics share a few keys)
    if fused is not None:
        timed = any(coincident.values())
        for m, (entry, fits, provided) in zip(message.metrics, fused, strict=True):
            if not fits or not provided:
                _fused_findings(m, fits, provided, ctx)
            if timed:
                key = m.device_key
                root = root_of[key] if key in root_of else root_of.setdefault(key, _root_of(message, key))
                coin = coincident.get(root.key) if root is not None else None
                if coin:  # `observations` made only timed Observations
                    entry["resource"].setdefault("extension", []).append(
                        {"url": COINCIDENT_EXTENSION, "valueReference": ctx.reference(coin)})
        return
    for m, ref in zip(message.metrics, observation_refs, strict=False):
        entry = by_ref.get(ref)
        if entry is None:
            continue
        key = m.device_key
        root = root_of[key] if key in root_of else root_of.setdefault(key, _root_of(message, key))
        phd_observation(entry["resource"], m, message, ctx, root)
        coin = coincident.get(root.key) if root is not None else None
        if coin and m.effective is not None:  # the observation carries a PHD timestamp
            entry["resource"].setdefault("extension", []).append(
                {"url": COINCIDENT_EXTENSION, "valueReference": ctx.reference(coin)})
        ident = entry["resource"].get("identifier")
        if ident and ctx.bundle_type == "transaction":
            entry["request"] = {"method": "POST", "url": "Observation",
                                "ifNoneExist": encode_query(f"identifier={ident[0]['system']}|{ident[0]['value']}")}


def _root_of(message: Message, key: str | None) -> Device | None:
    if key is None:
        return message.devices[0] if message.devices else None
    head = key if "." not in key else key.split(".", 1)[0]
    return next((d for d in message.devices if d.key == head), None)


# --- Observations made in their PHD form at once (the common case) -------------------------------
#
# The observation builder makes a general Observation and this module's pass rewrites it (meta, code with
# LOINC, categories, component codes, identifier): two builds of one resource, per report. For the readings
# a PHD sends in nearly every report (a numeric or compound value with a PHD time stamp, no status flags,
# no accuracy, no supplemental type, no gateway, no patient) `observations` builds each Observation once, in
# the form the two steps give, element for element in the same order: what depends only on the metric's
# fixed part (code, handle, device) is made once per such part (`_FusedStatic`), what depends on the value
# object once per value object (codecs hand out one per distinct reading and unit), the time text once per
# Timestamp object; per report only the id, the identifier and the entry are made. Any other message, or
# any metric outside that case, takes the two steps (`build` then finds no fused Observations).


class _FusedStatic:
    """What a PHD Observation takes from its metric's fixed part and the Bundle's shape (see above)."""

    __slots__ = ("keep", "id_prefix", "code", "loinc", "vital", "cat_in_head", "device_id", "mdc", "kind",
                 "unfit_code", "respelled")

    def __init__(self, m: Metric, anchor: str, root: Device | None, kind: str) -> None:
        from .observation import _is_vital as _general_vital

        facts = fd.code_facts(m.code)
        self.respelled = bool(facts.respelled)  # the general build notes a respelled code: it makes those
        self.keep = (m.code, root)  # the objects whose id() is in the memo key
        self.kind = kind
        self.id_prefix = id_prefix("Observation", anchor, m.device_key, facts.id_code, m.observation_id or m.handle)
        # the general head's category (a vital sign by a LOINC coding of the source): its place in the dict
        self.cat_in_head = bool(facts.loinc and _general_vital(facts.loinc))
        self.code, self.loinc = _phd_code(facts.concept)
        self.vital = bool(self.loinc) and _is_vital(self.loinc)
        self.unfit_code = {**self.code, "coding": [c for c in self.code["coding"] if c.get("system") != LOINC_SYSTEM]}
        self.device_id = device_key_id(root) if root is not None else None  # the conditional-create identifier's
        self.mdc = m.code.code_in(MDC_SYSTEM)  # parts that do not change from report to report


def _phd_code(code: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The PHD form of a shared Observation.code fragment (its LOINC coding added) and the LOINC code."""
    hit = _PHD_CODES.get(id(code)) or _PHD_CODES.recall(id(code))
    if hit is None or hit[0] is not code:
        phd_code = copy_concept(code)
        hit = _PHD_CODES.put(id(code), (code, phd_code, _add_loinc(phd_code)))
    return hit[1], hit[2]


def _phd_component_entry(cc: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(component concept, its code as the observation builder writes it, that code with the PHD LOINC
    added), remembered per concept object."""
    hit = _PHD_COMPONENT_CODES.get(id(cc)) or _PHD_COMPONENT_CODES.recall(id(cc))
    if hit is None or hit[0] is not cc:
        base = fd.code_facts(cc).concept
        phd_code = copy_concept(base)
        _add_loinc(phd_code)
        hit = _PHD_COMPONENT_CODES.put(id(cc), (cc, base, phd_code))
    return hit



def _fused_value(value: Any, loinc: str | None, vital: bool) -> tuple[str, Any, bool] | None:
    """(element name, its shared rendered fragment, whether the units fit the vital signs profile) of a
    numeric or compound value object, once per value object and LOINC code; None when the two-step build
    would rewrite the value (a unit shift to the vital signs profile's unit)."""
    key = (id(value), loinc)
    hit = _FUSED_VALUES.get(key) or _FUSED_VALUES.recall(key)
    if hit is not None and hit[0] is value:
        return hit[1]
    res: dict[str, Any] = {}
    if value.kind == "numeric":
        q = fd.quantity(value.quantity)
        if vital and q.get("system") == UCUM_SYSTEM and q.get("code") in EXACT_UNIT_SHIFTS:
            return None  # `_shift_units` may rewrite it: the two steps do
        res["valueQuantity"] = q
        found = ("valueQuantity", RenderedDict(q))
    else:
        comps = []
        for c in value.components:
            comp: dict[str, Any] = {"code": _phd_component_entry(c.code)[2]}
            if c.quantity is not None:
                comp["valueQuantity"] = fd.quantity(c.quantity)
            else:
                comp["dataAbsentReason"] = {"coding": [{"system": DAR_SYSTEM, "code": c.data_absent_reason or "unknown"}]}
            comps.append(comp)
        res["component"] = comps
        found = ("component", RenderedList(comps))
    fits = not vital or _vital_units_fit(res, loinc)
    entry = (found[0], found[1], fits)
    _FUSED_VALUES.put(key, (value, entry))
    return entry


_FUSED_STATICS = Memo(8192)  # (version, anchor, id(code), device key, ids, device ref, kind, id(root)) -> static
_FUSED_VALUES = Memo(8192)  # (id(value object), LOINC) -> (value object, (element, fragment, units fit))
_FUSED_TIMES = Memo(4096)  # (id(Timestamp), zone) -> (Timestamp, (dateTime text, zone assumed), identifier part)
_META = {kind: {"profile": [url for url in urls]} for kind, urls in _PROFILE_URLS.items()}
_CATEGORIES_VITAL = [VITAL_SIGNS_CATEGORY, CATEGORY_PHD]
_CATEGORIES = [CATEGORY_PHD]


def _general():
    """mappings.fhir.observation (it imports this module on first use: imported here on first use too)."""
    global _general_module
    if _general_module is None:
        from . import observation

        _general_module = observation
    return _general_module


_general_module = None


def _fusable(m: Metric) -> bool:
    v = m.value
    return (v is not None and (v.kind == "numeric" or v.kind == "compound") and m.effective is not None
            and m.effective_end is None and not m.measurement_status and m.result_status is None
            and not m.interpretation and m.accuracy is None and m.method is None and m.body_site is None
            and m.reference_range is None and m.alarm_limits is None and not m.notes and m.specimen is None
            and m.data_absent_reason is None)


def observations(message: Message, ctx: FhirContext, devices: list[str | None], default_tz: Any) -> bool:
    """Build the message's Observations in their PHD form at once (see above); False (nothing added) when
    the message or one of its metrics is outside the common case: then the two steps make them."""
    if not (ctx.shares and message.standard in PHD_STANDARDS and message.patient is None and ctx.patient_ref is None
            and ctx.encounter_ref is None):
        return False
    metrics = message.metrics
    if not metrics or not all(map(_fusable, metrics)):
        return False
    general = _general()
    anchor, recurs = general._anchor(message)
    if not recurs:
        return False
    version = ctx.version
    plans = []
    root_of: dict[str | None, Device | None] = {}
    for m, device in zip(metrics, devices, strict=True):
        key = m.device_key
        root = root_of[key] if key in root_of else root_of.setdefault(key, _root_of(message, key))
        value = m.value
        kind = value.kind
        skey = (version, anchor, id(m.code), key, m.observation_id, m.handle, device, kind, id(root))
        static = _FUSED_STATICS.get(skey) or _FUSED_STATICS.recall(skey)
        if static is None or static.keep[0] is not m.code or static.keep[1] is not root:
            static = _FUSED_STATICS.put(skey, _FusedStatic(m, anchor, root, kind))
        if static.respelled:
            return False
        found = _fused_value(value, static.loinc, static.vital)
        if found is None:
            return False
        plans.append((m, device, static, found))
    r5 = ctx.r5
    transaction = ctx.bundle_type == "transaction"
    urls, entries, refs = ctx.urls, ctx.entries, ctx.observation_refs
    seen: dict[str, int] = {}
    start = len(entries)
    notes = []  # per Observation: (entry, units fit, patient given): what the PHD pass (`build`) finishes
    gateway = ctx.gateway_ref
    given = ctx.options.get("patient")
    for m, device, static, (element, fragment, fits) in plans:
        effective = m.effective
        tkey = (id(effective), default_tz)
        when = _FUSED_TIMES.get(tkey) or _FUSED_TIMES.recall(tkey)
        if when is None or when[0] is not effective:
            when = _FUSED_TIMES.put(tkey, (effective, fd.date_time(effective, default_tz),
                                           timestamp_part(effective, None)))
        rid = stable_id_after(static.id_prefix, effective.raw or effective.value.isoformat(), m.person_id)
        if rid in seen:  # the same observation twice in one input: keep both, distinct ids
            seen[rid] += 1
            rid = stable_id(rid, seen[rid])
        else:
            seen[rid] = 0
        vital = static.vital and fits
        categories = _CATEGORIES_VITAL if vital else _CATEGORIES
        res: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final"}
        if static.cat_in_head:
            res["category"] = categories
        res["code"] = static.code if fits else static.unfit_code
        text, assumed = when[1]
        if assumed and default_tz is None:
            ctx.note("fhir.zone-assumed", m.source.location if m.source is not None else "metric", general._ZONE_NOTE)
        res["effectiveDateTime"] = text
        res[element] = fragment
        if device:
            res["device"] = ctx.reference(device)
        if not r5:
            res["meta"] = _META[static.kind]
        if gateway:
            res["extension"] = [{"url": GATEWAY_EXTENSION, "valueReference": ctx.reference(gateway)}]
        if not static.cat_in_head:
            res["category"] = categories
        provided = provided_patient(m, ctx) if given else None
        if provided:
            res["subject"] = {"reference": f"Patient/{provided}"}
        ident = None
        if static.device_id and static.mdc:
            ident = (f"{static.device_id}-{provided}-{static.mdc}-{when[2]}" if provided
                     else f"{static.device_id}-{static.mdc}-{when[2]}")
            res["identifier"] = [{"system": IDENTIFIER_SYSTEM, "value": ident}]
        ref = "Observation/" + rid
        url = urls[ref] = hex_urn(rid)
        entry = {"fullUrl": url, "resource": res}
        if transaction:
            entry["request"] = ({"method": "POST", "url": "Observation",
                                 "ifNoneExist": encode_query(f"identifier={IDENTIFIER_SYSTEM}|{ident}")}
                                if ident is not None else {"method": "PUT", "url": ref})
        entries.append(entry)
        refs.append(ref)
        notes.append((entry, fits, bool(provided)))
    ctx.options["_phd_fused"] = (start, notes)
    return True


def _fused_findings(m: Metric, fits: bool, provided: bool, ctx: FhirContext) -> None:
    """What `phd_observation` records for an Observation `observations` made (in the same order)."""
    if not fits:
        loinc = _fused_loinc(m)
        ctx.note("phd.vital-signs-unit", m.source.location if m.source else "metric",
                 f"LOINC {loinc} left out: the unit is not one the FHIR vital signs profile allows")
    if not provided and not ctx.options.get("_phd_no_subject_noted"):  # once per Bundle
        ctx.options["_phd_no_subject_noted"] = True
        ctx.note("phd.no-subject", m.source.location if m.source else "metric",
                 "PhdBaseObservation requires a subject; no patient known (mapping option patient=<logical id>)")


def _fused_loinc(m: Metric) -> str | None:
    return _phd_code(fd.code_facts(m.code).concept)[1]
