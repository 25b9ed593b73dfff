"""Characteristic values → canonical metrics, with the same MDC codes and units as the 20601 path.

One function per characteristic. Facts (flag bits, units, resolutions, bit meanings) come from the
Bluetooth GATT Specification Supplement and the service specifications named in `layouts`; the
status-bit names are those of the HL7 PHD IG CodeSystem ASN1ToHL7 where a 20601 equivalent exists.
Bit strings are stored in MDER order (bit 0 = most significant), as the 20601 path stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from interop.errors import DecodeError
from interop.model import (
    BitsValue,
    CodeableConcept,
    CodedValue,
    Component,
    CompoundValue,
    Issue,
    Metric,
    NumericValue,
    Quantity,
    SourceRef,
    Timestamp,
    replace,
)

from . import nomenclature as nom
from .medfloat import Number, float32, sfloat

STANDARD = "bluetooth-gatt"


@dataclass
class ValueContext:
    """Where one characteristic value sits in the input, and where findings go."""

    uuid: int
    line: int  # 1-based line number of the value in the text input
    offset: int  # byte offset of that line in the input
    strict: bool
    issues: list[Issue]
    state: dict[str, Any] = field(default_factory=dict)  # shared across values (e.g. 0x2A1D temperature type)

    def location(self, name: str) -> str:
        """Position of field `name` in the standard's terms."""
        return f"line {self.line} 0x{self.uuid:04X}.{name}"

    def source(self, name: str) -> SourceRef:
        """Lineage for a metric read from field `name`."""
        return SourceRef(location=self.location(name), offset=self.offset)

    def issue(self, code: str, name: str, message: str, severity: str = "warning", expected: str = "") -> None:
        """Record a finding; in strict mode an error-severity finding raises."""
        if self.strict and severity == "error":
            raise DecodeError(message, standard=STANDARD, position=self.location(name), expected=expected,
                              offset=self.offset)
        self.issues.append(Issue(severity=severity, code=code, location=self.location(name), message=message,
                                 offset=self.offset))


Convert = Callable[[Any, ValueContext], list[Metric]]


@dataclass(frozen=True)
class Characteristic:
    """A supported characteristic: 16-bit UUID, GSS identifier, title, PHD specialization, converter."""

    uuid: int
    name: str  # GSS identifier tail, e.g. "blood_pressure_measurement"
    title: str
    specialization: str | None  # MDC_DEV_SPEC_PROFILE_* refid
    convert: Convert


# --- shared pieces -----------------------------------------------------------------------------


def quantity(value: Decimal, unit_refid: str) -> Quantity:
    """A Quantity in an MDC unit with its UCUM code."""
    return Quantity(value=value, unit=nom.ucum(unit_refid), unit_mdc=nom.coding(unit_refid))


def time_stamp(dt: Any, ctx: ValueContext, name: str = "time_stamp") -> Timestamp | None:
    """A GSS Date Time as a zone-less Timestamp (precision second); None when not known."""
    if dt is None:
        return None
    raw = (f"{dt.year & 0xFF:02X}{dt.year >> 8:02X}{dt.month:02X}{dt.day:02X}{dt.hours:02X}{dt.minutes:02X}"
           f"{dt.seconds:02X}")  # the 7 bytes as sent
    if dt.year == 0 or dt.month == 0 or dt.day == 0:
        ctx.issue("gatt.time-unknown", name, "date time has year, month or day 'not known' (0)", "info")
        return None
    try:
        value = datetime(dt.year, dt.month, dt.day, dt.hours, dt.minutes, dt.seconds)
    except ValueError:
        ctx.issue("gatt.time-invalid", name, "date time fields out of range", "error",
                  expected="year 1582-9999, month 1-12, day 1-31, hours 0-23, minutes 0-59, seconds 0-59")
        return None
    if not 1582 <= dt.year <= 9999:
        ctx.issue("gatt.time-invalid", name, f"year {dt.year} outside 1582-9999", "error", expected="1582-9999")
    return Timestamp(value=value, precision="second", raw=raw)


def numeric(code: str | CodeableConcept, number: Number, unit_refid: str, ctx: ValueContext, name: str,
            **extra: Any) -> Metric:
    """A numeric metric, or one with a data-absent reason for an SFLOAT/FLOAT special value."""
    value, absent = number
    concept = nom.concept(code) if isinstance(code, str) else code
    if value is None:
        return Metric(code=concept, data_absent_reason=absent, device_key="1", source=ctx.source(name), **extra)
    return Metric(code=concept, value=NumericValue(quantity=quantity(value, unit_refid)), device_key="1",
                  source=ctx.source(name), **extra)


def mder_bits(names: dict[int, str], gatt_value: int, mapping: dict[int, int] | None = None) -> tuple[int, list[str]]:
    """GATT bit i (LSB first) → MDER bit string (bit 0 = MSB of 16) and the names of the set bits."""
    value, set_names = 0, []
    for gatt_bit, mder_bit in sorted((mapping or {i: i for i in names}).items(), key=lambda kv: kv[1]):
        if gatt_value >> gatt_bit & 1:
            value |= 1 << (15 - mder_bit)
            set_names.append(names[mder_bit])
    return value, set_names


def bits_metric(refid: str, value: int, set_names: list[str], ctx: ValueContext, name: str, **extra: Any) -> Metric:
    """A BITS-16 metric (20601 enumeration bit string)."""
    return Metric(code=nom.concept(refid), value=BitsValue(value=value, width=16, set_names=tuple(set_names)),
                  device_key="1", source=ctx.source(name), **extra)


# --- Blood Pressure Measurement 0x2A35 / Intermediate Cuff Pressure 0x2A36 (BLS 1.1) -----------

BPM_STATUS_NAMES = {  # PHD IG ASN1ToHL7 8410608.x (MDER bit -> name)
    0: "body-movement", 1: "cuff-too-loose", 2: "irregular-pulse", 3: "pulse-over-range-limit",
    4: "pulse-under-range-limit", 5: "improper-body-position",
}


def _bpm_status(raw: int, ctx: ValueContext) -> tuple[int, list[str]]:
    """BLS Measurement Status: bit 0 body movement, 1 cuff fit, 2 irregular pulse, bits 3-4 pulse rate range
    (1 above upper limit, 2 below lower limit), bit 5 measurement position improper."""
    value, names = 0, []
    flags = {0: raw & 1, 1: raw >> 1 & 1, 2: raw >> 2 & 1, 5: raw >> 5 & 1}
    pulse_range = raw >> 3 & 3
    if pulse_range == 1:
        flags[3] = 1
    elif pulse_range == 2:
        flags[4] = 1
    elif pulse_range == 3:
        ctx.issue("gatt.reserved-value", "measurement_status", "pulse rate range detection value 3 is reserved")
    for bit in sorted(flags):
        if flags[bit]:
            value |= 1 << (15 - bit)
            names.append(BPM_STATUS_NAMES[bit])
    if raw & 0xFFC0:
        ctx.issue("gatt.reserved-bits", "measurement_status", "reserved measurement status bits 6-15 are set")
    return value, names


def blood_pressure(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A35: one compound MDC_PRESS_BLD_NONINV, pulse rate, measurement status."""
    unit = "MDC_DIM_KILO_PASCAL" if c.flags & 0x01 else "MDC_DIM_MMHG"
    effective = time_stamp(c.time_stamp, ctx)
    person = None if c.user_id in (None, 0xFF) else c.user_id
    status: tuple[str, ...] = ()
    metrics: list[Metric] = []
    if c.measurement_status is not None:
        bits, names = _bpm_status(c.measurement_status, ctx)
        status = tuple(names)
        metrics.append(bits_metric("MDC_BLOOD_PRESSURE_MEASUREMENT_STATUS", bits, names, ctx, "measurement_status",
                                   effective=effective, person_id=person))
    if ctx.uuid == 0x2A36:
        cuff = numeric("MDC_PRESS_CUFF", sfloat(c.systolic), unit, ctx, "current_cuff_pressure",
                       effective=effective, person_id=person, measurement_status=("msmt-ongoing", *status))
        return [cuff, *metrics]
    components = []
    for refid, word in (("MDC_PRESS_BLD_NONINV_SYS", c.systolic), ("MDC_PRESS_BLD_NONINV_DIA", c.diastolic),
                        ("MDC_PRESS_BLD_NONINV_MEAN", c.mean_arterial_pressure)):
        value, absent = sfloat(word)
        components.append(Component(code=nom.concept(refid), data_absent_reason=absent,
                                    quantity=None if value is None else quantity(value, unit)))
    bp = Metric(code=nom.concept("MDC_PRESS_BLD_NONINV"), value=CompoundValue(components=tuple(components)),
                measurement_status=status, effective=effective, person_id=person, device_key="1",
                source=ctx.source("systolic"))
    out = [bp]
    if c.pulse_rate is not None:
        out.append(numeric("MDC_PULS_RATE_NON_INV", sfloat(c.pulse_rate), "MDC_DIM_BEAT_PER_MIN", ctx, "pulse_rate",
                           effective=effective, person_id=person, measurement_status=status))
    return out + metrics


# --- Temperature Measurement 0x2A1C / Intermediate Temperature 0x2A1E / Temperature Type 0x2A1D (HTS) -

TEMPERATURE_TYPES = {  # GSS Temperature Type -> IEEE 11073-10408 term
    1: "MDC_TEMP_AXILLA",  # Armpit
    2: "MDC_TEMP_BODY",  # Body (general)
    3: "MDC_TEMP_EAR",  # Ear (usually earlobe)
    4: "MDC_TEMP_FINGER",
    5: "MDC_TEMP_GIT",  # Gastro-intestinal tract
    6: "MDC_TEMP_ORAL",  # Mouth
    7: "MDC_TEMP_RECT",  # Rectum
    8: "MDC_TEMP_TOE",
    9: "MDC_TEMP_TYMP",  # Tympanum (ear drum)
}


def _temperature_refid(kind: int | None, ctx: ValueContext, name: str) -> str:
    if kind is None:
        return "MDC_TEMP_BODY"
    refid = TEMPERATURE_TYPES.get(kind)
    if refid is None:
        ctx.issue("gatt.reserved-value", name, f"temperature type {kind} is reserved; body temperature used")
        return "MDC_TEMP_BODY"
    return refid


def temperature_type(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A1D: remembered for the following temperature values that carry no type of their own."""
    ctx.state["temperature_type"] = c.temperature_type
    _temperature_refid(c.temperature_type, ctx, "temperature_type")
    return []


def temperature(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A1C / 0x2A1E: one body temperature metric (site from Temperature Type)."""
    unit = "MDC_DIM_FAHR" if c.flags & 0x01 else "MDC_DIM_DEGC"
    kind = c.temperature_type if c.temperature_type is not None else ctx.state.get("temperature_type")
    refid = _temperature_refid(kind, ctx, "temperature_type")
    status = ("msmt-ongoing",) if ctx.uuid == 0x2A1E else ()
    return [numeric(refid, float32(c.temperature), unit, ctx, "temperature", effective=time_stamp(c.time_stamp, ctx),
                    measurement_status=status)]


# --- Weight Measurement 0x2A9D, Weight Scale Feature 0x2A9E (WSS 1.0), Body Composition 0x2A9C (BCS 1.0) -

WEIGHT_RESOLUTION = {  # WSS Weight Scale Feature bits 3-6 -> (kg, lb) resolution the scale has
    1: ("0.5", "1"), 2: ("0.2", "0.5"), 3: ("0.1", "0.2"), 4: ("0.05", "0.1"), 5: ("0.02", "0.05"),
    6: ("0.01", "0.02"), 7: ("0.005", "0.01"),
}
HEIGHT_RESOLUTION = {1: ("0.01", "1"), 2: ("0.005", "0.5"), 3: ("0.001", "0.1")}  # bits 7-9 -> (m, in)
MASS_STEP = {False: (Decimal("0.005"), "MDC_DIM_KILO_G"), True: (Decimal("0.01"), "MDC_DIM_LB")}
HEIGHT_STEP = {False: (Decimal("0.001"), "MDC_DIM_M"), True: (Decimal("0.1"), "MDC_DIM_INCH")}


def weight_scale_feature(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A9E: the resolutions the scale really has; later weights and heights keep only those decimals."""
    weight_res, height_res = c.features >> 3 & 0x0F, c.features >> 7 & 0x07
    ctx.state["weight_resolution"] = WEIGHT_RESOLUTION.get(weight_res)
    ctx.state["height_resolution"] = HEIGHT_RESOLUTION.get(height_res)
    if weight_res > 7 or height_res > 3:
        ctx.issue("gatt.reserved-value", "features", "reserved weight or height resolution value")
    return []


def _at_resolution(value: Decimal, resolution: tuple[str, str] | None, imperial: bool, ctx: ValueContext,
                   name: str) -> Decimal:
    """`value` written with the decimals of the declared resolution (70.000 kg at 0.1 kg -> 70.0)."""
    if resolution is None:
        return value
    step = Decimal(resolution[1] if imperial else resolution[0])
    if value % step:
        ctx.issue("gatt.off-resolution", name, f"value is not a multiple of the declared resolution {step}", "info")
        return value
    return value.quantize(Decimal(1).scaleb(step.as_tuple().exponent))  # type: ignore[arg-type]


def _mass(refid: str, raw: int, imperial: bool, ctx: ValueContext, name: str, **extra: Any) -> Metric:
    step, unit = MASS_STEP[imperial]
    value = _at_resolution(raw * step, ctx.state.get("weight_resolution"), imperial, ctx, name)
    return numeric(refid, (value, None), unit, ctx, name, **extra)


def _height(raw: int, imperial: bool, ctx: ValueContext, **extra: Any) -> Metric:
    step, unit = HEIGHT_STEP[imperial]
    value = _at_resolution(raw * step, ctx.state.get("height_resolution"), imperial, ctx, "height")
    return numeric("MDC_LEN_BODY_ACTUAL", (value, None), unit, ctx, "height", **extra)


def weight(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A9D: body weight (kg 0.005 / lb 0.01), optional BMI (0.1 kg/m2) and height (m 0.001 / in 0.1)."""
    imperial = bool(c.flags & 0x01)
    effective = time_stamp(c.time_stamp, ctx)
    person = None if c.user_id in (None, 0xFF) else c.user_id  # 0xFF: unknown user
    extra = {"effective": effective, "person_id": person}
    if c.weight == 0xFFFF:  # WSS: "Measurement Unsuccessful"
        mass = Metric(code=nom.concept("MDC_MASS_BODY_ACTUAL"), data_absent_reason="error", device_key="1",
                      source=ctx.source("weight"), **extra)
    else:
        mass = _mass("MDC_MASS_BODY_ACTUAL", c.weight, imperial, ctx, "weight", **extra)
    out = [mass]
    if c.bmi is not None:
        out.append(numeric("MDC_RATIO_MASS_BODY_LEN_SQ", (c.bmi * Decimal("0.1"), None), "MDC_DIM_KG_PER_M_SQ", ctx,
                           "bmi", **extra))
        out.append(_height(c.height, imperial, ctx, **extra))
    return out


BODY_COMPOSITION_MASSES = (("fat_free_mass", "MDC_MASS_BODY_FAT_FREE"), ("soft_lean_mass", "MDC_MASS_BODY_SOFT_LEAN"),
                           ("body_water_mass", "MDC_BODY_WATER"), ("weight", "MDC_MASS_BODY_ACTUAL"))


def body_composition(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A9C: body fat % (0.1 %), fat-free / soft lean / body water mass, weight and height (10420 terms)."""
    imperial = bool(c.flags & 0x0001)
    effective = time_stamp(c.time_stamp, ctx)
    person = None if c.user_id in (None, 0xFF) else c.user_id
    extra = {"effective": effective, "person_id": person}
    if c.body_fat_percentage == 0xFFFF:  # BCS: "Measurement Unsuccessful"
        out = [Metric(code=nom.concept("MDC_BODY_FAT"), data_absent_reason="error", device_key="1",
                      source=ctx.source("body_fat_percentage"), **extra)]
    else:
        out = [numeric("MDC_BODY_FAT", (c.body_fat_percentage * Decimal("0.1"), None), "MDC_DIM_PERCENT", ctx,
                       "body_fat_percentage", **extra)]
    for name, refid in BODY_COMPOSITION_MASSES:
        raw = getattr(c, name)
        if raw is not None:
            step, unit = MASS_STEP[imperial]
            out.append(numeric(refid, (raw * step, None), unit, ctx, name, **extra))
    if c.height is not None:
        step, unit = HEIGHT_STEP[imperial]
        out.append(numeric("MDC_LEN_BODY_ACTUAL", (c.height * step, None), unit, ctx, "height", **extra))
    for name in ("basal_metabolism", "muscle_percentage", "muscle_mass", "impedance"):
        if getattr(c, name) is not None:
            ctx.issue("gatt.unplaced-field", name, f"{name.replace('_', ' ')} has no canonical metric here; not placed",
                      "info")
    if c.flags & 0x1000:
        ctx.issue("gatt.multiple-packet", "flags", "measurement continues in a further packet (decoded separately)",
                  "info")
    return out


# --- PLX Spot-check 0x2A5E / Continuous 0x2A5F (PLXS 1.0) ----------------------------------------

PLX_MEASUREMENT_STATUS = {  # PLXS Measurement Status bit -> canonical status (20601 MeasurementStatus names)
    5: "msmt-ongoing", 6: "early-indication", 7: "validated-data", 8: "fully-qualified-data",
    9: "data-from-storage", 10: "demo-data", 11: "test-data", 12: "calibration-ongoing",
    13: "not-available", 14: "questionable", 15: "invalid",
}
PULS_OXIM_DEV_STATUS_NAMES = {  # PHD IG ASN1ToHL7 150604.x (MDER bit -> name)
    0: "sensor-disconnected", 1: "sensor-malfunction", 2: "sensor-displaced", 3: "sensor-unsupported",
    4: "sensor-off", 5: "sensor-interference", 6: "signal-searching", 7: "signal-pulse-questionable",
    8: "signal-non-pulsatile", 9: "signal-erratic", 10: "signal-low-perfusion", 11: "signal-poor",
    12: "signal-inadequate", 13: "signal-processing-irregularity", 14: "device-equipment-malfunction",
    15: "device-extended-update",
}


def _plx_status(c: Any, ctx: ValueContext) -> tuple[str, ...]:
    raw = c.measurement_status
    if raw is None:
        return ()
    if raw & 0x001F:
        ctx.issue("gatt.reserved-bits", "measurement_status", "reserved measurement status bits 0-4 are set")
    return tuple(name for bit, name in PLX_MEASUREMENT_STATUS.items() if raw >> bit & 1)


def _plx_device_status(c: Any, ctx: ValueContext, **extra: Any) -> list[Metric]:
    """PLXS Device and Sensor Status: its 16 defined bits are MDC_PULS_OXIM_DEV_STATUS in MDER order
    (GATT bit 0 'extended display update ongoing' = MDER bit 15 ... bit 15 'sensor disconnected' = MDER bit 0)."""
    raw = c.device_and_sensor_status
    if raw is None:
        return []
    if raw & 0xFF0000:
        ctx.issue("gatt.reserved-bits", "device_and_sensor_status", "reserved device and sensor status bits 16-23 set")
    value = raw & 0xFFFF
    names = [PULS_OXIM_DEV_STATUS_NAMES[b] for b in range(16) if value >> (15 - b) & 1]
    return [bits_metric("MDC_PULS_OXIM_DEV_STATUS", value, names, ctx, "device_and_sensor_status", **extra)]


def _with_method(method: str | None) -> dict[str, Any]:
    return {"method": nom.concept(method)} if method else {}


def _spo2_pr(spo2: int, pr: int, ctx: ValueContext, prefix: str, method: str | None, **extra: Any) -> list[Metric]:
    kw = {**extra, **_with_method(method)}
    return [numeric("MDC_PULS_OXIM_SAT_O2", sfloat(spo2), "MDC_DIM_PERCENT", ctx, f"{prefix}spo2", **kw),
            numeric("MDC_PULS_OXIM_PULS_RATE", sfloat(pr), "MDC_DIM_BEAT_PER_MIN", ctx, f"{prefix}pulse_rate", **kw)]


def plx_spot_check(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A5E: SpO2 and pulse rate (spot modality), status, device and sensor status, pulse amplitude index."""
    effective = time_stamp(c.time_stamp, ctx)
    if c.flags & 0x10 and effective is not None:
        ctx.issue("gatt.clock-not-set", "time_stamp", "device reports its clock is not set; timestamp unreliable")
    status = _plx_status(c, ctx)
    extra = {"effective": effective, "measurement_status": status}
    out = _spo2_pr(c.spo2, c.pulse_rate, ctx, "", "MDC_MODALITY_SPOT", **extra)
    if c.pulse_amplitude_index is not None:
        out.append(numeric("MDC_PULS_OXIM_PERF_REL", sfloat(c.pulse_amplitude_index), "MDC_DIM_PERCENT", ctx,
                           "pulse_amplitude_index", **extra))
    return out + _plx_device_status(c, ctx, effective=effective)


def plx_continuous(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A5F: SpO2 and pulse rate (normal, fast, slow), status, device and sensor status, pulse amplitude index."""
    status = _plx_status(c, ctx)
    extra = {"measurement_status": status}
    out = _spo2_pr(c.spo2, c.pulse_rate, ctx, "", None, **extra)
    if c.spo2_fast is not None:
        out += _spo2_pr(c.spo2_fast, c.pulse_rate_fast, ctx, "fast_", "MDC_MODALITY_FAST", **extra)
    if c.spo2_slow is not None:
        out += _spo2_pr(c.spo2_slow, c.pulse_rate_slow, ctx, "slow_", "MDC_MODALITY_SLOW", **extra)
    if c.pulse_amplitude_index is not None:
        out.append(numeric("MDC_PULS_OXIM_PERF_REL", sfloat(c.pulse_amplitude_index), "MDC_DIM_PERCENT", ctx,
                           "pulse_amplitude_index", **extra))
    return out + _plx_device_status(c, ctx)


# --- Glucose Measurement 0x2A18 (GLS 1.0) --------------------------------------------------------

GLUCOSE_TYPES = {  # GSS Glucose Measurement Type (low nibble) -> IEEE 11073-10417 term
    1: "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", 2: "MDC_CONC_GLU_CAPILLARY_PLASMA",
    3: "MDC_CONC_GLU_VENOUS_WHOLEBLOOD", 4: "MDC_CONC_GLU_VENOUS_PLASMA",
    5: "MDC_CONC_GLU_ARTERIAL_WHOLEBLOOD", 6: "MDC_CONC_GLU_ARTERIAL_PLASMA",
    7: "MDC_CONC_GLU_UNDETERMINED_WHOLEBLOOD", 8: "MDC_CONC_GLU_UNDETERMINED_PLASMA",
    9: "MDC_CONC_GLU_ISF", 10: "MDC_CONC_GLU_CONTROL",
}
GLUCOSE_SAMPLE_LOCATIONS = {1: "finger", 2: "alternate-site-test", 3: "earlobe", 4: "control-solution",
                            15: "not-available"}
GLUCOSE_STATUS_NAMES = {  # PHD IG ASN1ToHL7 8417752.x; GLS bits 0-10 have the same meaning and order
    0: "device-battery-low", 1: "sensor-malfunction", 2: "sensor-sample-size-insufficient",
    3: "sensor-strip-insertion", 4: "sensor-strip-type-incorrect", 5: "sensor-result-too-high",
    6: "sensor-result-too-low", 7: "sensor-temp-too-high", 8: "sensor-temp-too-low", 9: "sensor-read-interrupt",
    10: "device-gen-fault",
}


def _shift(value: Decimal, places: int) -> Decimal:
    """value * 10**places, exactly, written without exponent notation."""
    shifted = value.scaleb(places)
    return shifted.quantize(Decimal(1)) if shifted.as_tuple().exponent > 0 else shifted  # type: ignore[operator]


def glucose(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A18: glucose concentration in mg/dL (from kg/L) or mmol/L (from mol/L), as the 20601 path reports it."""
    base = time_stamp(c.base_time, ctx, "base_time")
    effective = base
    if base is not None and c.time_offset is not None:
        try:
            effective = replace(base, value=base.value + timedelta(minutes=c.time_offset))
        except OverflowError:
            ctx.issue("gatt.time-invalid", "time_offset", "base time plus time offset is outside the calendar", "error")
            effective = None
    seq = f"sequence-number {c.sequence_number}"
    ctx.state.setdefault("glucose_times", {})[c.sequence_number] = effective
    status: tuple[str, ...] = ()
    out: list[Metric] = []
    if c.sensor_status_annunciation is not None:
        raw = c.sensor_status_annunciation
        bits, names = mder_bits(GLUCOSE_STATUS_NAMES, raw)
        status = tuple(names) + (("time-fault",) if raw >> 11 & 1 else ())  # GLS bit 11: no 8417752 equivalent
        if raw & 0xF000:
            ctx.issue("gatt.reserved-bits", "sensor_status_annunciation", "reserved sensor status bits 12-15 set")
        out.append(bits_metric("MDC_GLU_METER_DEV_STATUS", bits, names, ctx, "sensor_status_annunciation",
                               effective=effective, observation_id=seq))
    if c.glucose_concentration is None:
        return out
    kind, location = c.type_sample_location & 0x0F, c.type_sample_location >> 4
    refid = GLUCOSE_TYPES.get(kind)
    if refid is None:
        ctx.issue("gatt.reserved-value", "type_sample_location", f"glucose type {kind} is reserved")
        refid = "MDC_CONC_GLU_UNDETERMINED_WHOLEBLOOD"
    site = GLUCOSE_SAMPLE_LOCATIONS.get(location)
    if site is None:
        ctx.issue("gatt.reserved-value", "type_sample_location", f"sample location {location} is reserved")
    value, absent = sfloat(c.glucose_concentration)
    if c.flags & 0x04:  # mol/L -> mmol/L
        number, unit = (None if value is None else _shift(value, 3), absent), "MDC_DIM_MILLI_MOLE_PER_L"
    else:  # kg/L -> mg/dL (1 kg/L = 10^5 mg/dL)
        number, unit = (None if value is None else _shift(value, 5), absent), "MDC_DIM_MILLI_G_PER_DL"
    body_site = CodeableConcept(text=site) if site else None
    group = {"group": f"glucose {seq}"} if c.flags & 0x10 else {}  # a context (0x2A34) follows
    out.insert(0, numeric(refid, number, unit, ctx, "glucose_concentration", effective=effective,
                          measurement_status=status, body_site=body_site, observation_id=seq, **group))
    return out


# --- Glucose Measurement Context 0x2A34 (GLS 1.0) ---------------------------------------------

CARBOHYDRATE_IDS = {1: "MDC_CTXT_GLU_CARB_BREAKFAST", 2: "MDC_CTXT_GLU_CARB_LUNCH", 3: "MDC_CTXT_GLU_CARB_DINNER",
                    4: "MDC_CTXT_GLU_CARB_SNACK", 5: "MDC_CTXT_GLU_CARB_DRINK", 6: "MDC_CTXT_GLU_CARB_SUPPER",
                    7: "MDC_CTXT_GLU_CARB_BRUNCH"}
MEALS = {1: "MDC_CTXT_GLU_MEAL_PREPRANDIAL", 2: "MDC_CTXT_GLU_MEAL_POSTPRANDIAL", 3: "MDC_CTXT_GLU_MEAL_FASTING",
         4: "MDC_CTXT_GLU_MEAL_CASUAL", 5: "MDC_CTXT_GLU_MEAL_BEDTIME"}
TESTERS = {1: "MDC_CTXT_GLU_TESTER_SELF", 2: "MDC_CTXT_GLU_TESTER_HCP", 3: "MDC_CTXT_GLU_TESTER_LAB"}
HEALTH = {1: "MDC_CTXT_GLU_HEALTH_MINOR", 2: "MDC_CTXT_GLU_HEALTH_MAJOR", 3: "MDC_CTXT_GLU_HEALTH_MENSES",
          4: "MDC_CTXT_GLU_HEALTH_STRESS", 5: "MDC_CTXT_GLU_HEALTH_NONE"}
MEDICATIONS = {1: "MDC_CTXT_MEDICATION_RAPIDACTING", 2: "MDC_CTXT_MEDICATION_SHORTACTING",
               3: "MDC_CTXT_MEDICATION_INTERMEDIATEACTING", 4: "MDC_CTXT_MEDICATION_LONGACTING",
               5: "MDC_CTXT_MEDICATION_PREMIX"}
NOT_AVAILABLE = 0x0F  # Tester / Health nibble "not available"


def _coded(code_refid: str, value_refid: str, ctx: ValueContext, name: str, **extra: Any) -> Metric:
    return Metric(code=nom.concept(code_refid), value=CodedValue(concept=nom.concept(value_refid)), device_key="1",
                  source=ctx.source(name), **extra)


def _lookup(table: dict[int, str], key: int, ctx: ValueContext, name: str) -> str | None:
    refid = table.get(key)
    if refid is None and key != NOT_AVAILABLE:
        ctx.issue("gatt.reserved-value", name, f"{name.replace('_', ' ')} value {key} is reserved")
    return refid


def glucose_context(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A34: context of the Glucose Measurement with the same sequence number (IEEE 11073-10417 context terms).

    Carbohydrate (kg -> g) and medication (kg -> mg, litre -> mL) use the specific 10417 Metric-Id term as
    their code; meal, tester and health are coded values; exercise intensity (%) spans the exercise duration.
    """
    seq = f"sequence-number {c.sequence_number}"
    effective = ctx.state.get("glucose_times", {}).get(c.sequence_number)
    if effective is None:
        ctx.issue("gatt.context-without-measurement", "sequence_number",
                  "no earlier Glucose Measurement with this sequence number; context has no time", "info")
    extra = {"effective": effective, "observation_id": seq, "group": f"glucose {seq}"}
    out: list[Metric] = []
    if c.carbohydrate_id is not None:
        refid = _lookup(CARBOHYDRATE_IDS, c.carbohydrate_id, ctx, "carbohydrate_id")
        value, absent = sfloat(c.carbohydrate)
        if refid:
            out.append(numeric(refid, (None if value is None else _shift(value, 3), absent), "MDC_DIM_X_G", ctx,
                               "carbohydrate", **extra))
    if c.meal is not None:
        refid = _lookup(MEALS, c.meal, ctx, "meal")
        if refid:
            out.append(_coded("MDC_CTXT_GLU_MEAL", refid, ctx, "meal", **extra))
    if c.tester_health is not None:
        tester = _lookup(TESTERS, c.tester_health & 0x0F, ctx, "tester")
        health = _lookup(HEALTH, c.tester_health >> 4, ctx, "health")
        if tester:
            out.append(_coded("MDC_CTXT_GLU_TESTER", tester, ctx, "tester_health", **extra))
        if health:
            out.append(_coded("MDC_CTXT_GLU_HEALTH", health, ctx, "tester_health", **extra))
    if c.exercise_duration is not None:
        end = None
        if c.exercise_duration == 0xFFFF:
            ctx.issue("gatt.overrun", "exercise_duration", "exercise duration overrun (65535 s or more)", "info")
        elif effective is not None:
            end = replace(effective, value=effective.value + timedelta(seconds=c.exercise_duration))
        out.append(numeric("MDC_CTXT_GLU_EXERCISE", (Decimal(c.exercise_intensity), None), "MDC_DIM_PERCENT", ctx,
                           "exercise_intensity", effective_end=end, **extra))
    if c.medication_id is not None:
        refid = _lookup(MEDICATIONS, c.medication_id, ctx, "medication_id")
        value, absent = sfloat(c.medication)
        litre = bool(c.flags & 0x20)
        if refid:
            amount = None if value is None else _shift(value, 3 if litre else 6)
            out.append(numeric(refid, (amount, absent), "MDC_DIM_MILLI_L" if litre else "MDC_DIM_MILLI_G", ctx,
                               "medication", **extra))
    if c.hba1c is not None:
        out.append(numeric("MDC_CONC_HBA1C", sfloat(c.hba1c), "MDC_DIM_PERCENT", ctx, "hba1c", **extra))
    if c.extended_flags:
        ctx.issue("gatt.reserved-bits", "extended_flags", "extended flags are reserved for future use", "info")
    return out


# --- Heart Rate Measurement 0x2A37 (HRS 1.0) -----------------------------------------------------


def heart_rate(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A37: heart rate, then one MDC_ECG_TIME_PD_RR_GL metric per RR interval (1/1024 s → exact ms)."""
    status = ("no-sensor-contact",) if c.flags & 0x06 == 0x04 else ()
    out = [numeric("MDC_ECG_HEART_RATE", (Decimal(c.heart_rate), None), "MDC_DIM_BEAT_PER_MIN", ctx, "heart_rate",
                   measurement_status=status)]
    if c.energy_expended is not None:
        ctx.issue("gatt.unplaced-field", "energy_expended",
                  "energy expended (kJ) has no canonical metric here; not placed", "info")
    for i, rr in enumerate(c.rr_intervals or ()):
        ms = Decimal(rr * 125) / Decimal(128)  # rr/1024 s * 1000 ms/s, exact (128 = 2^7)
        out.append(numeric("MDC_ECG_TIME_PD_RR_GL", (ms, None), "MDC_DIM_MILLI_SEC", ctx, f"rr_interval[{i}]",
                           observation_id=f"rr-interval {i}"))
    return out


# --- Current Time 0x2A2B (CTS 1.1) --------------------------------------------------------------


def current_time(c: Any, ctx: ValueContext) -> list[Metric]:
    """0x2A2B: the device's sense of current time (read by the gateway at `# received:`) -> Device.time."""
    ctx.state["device_time"] = time_stamp(c.date_time, ctx, "exact_time_256")
    return []


# --- registry ------------------------------------------------------------------------------------

CHARACTERISTICS: dict[int, Characteristic] = {
    c.uuid: c
    for c in (
        Characteristic(0x2A35, "blood_pressure_measurement", "Blood Pressure Measurement",
                       "MDC_DEV_SPEC_PROFILE_BPM", blood_pressure),
        Characteristic(0x2A36, "intermediate_cuff_pressure", "Intermediate Cuff Pressure",
                       "MDC_DEV_SPEC_PROFILE_BPM", blood_pressure),
        Characteristic(0x2A1C, "temperature_measurement", "Temperature Measurement",
                       "MDC_DEV_SPEC_PROFILE_TEMP", temperature),
        Characteristic(0x2A1E, "intermediate_temperature", "Intermediate Temperature",
                       "MDC_DEV_SPEC_PROFILE_TEMP", temperature),
        Characteristic(0x2A1D, "temperature_type", "Temperature Type", "MDC_DEV_SPEC_PROFILE_TEMP",
                       temperature_type),
        Characteristic(0x2A9D, "weight_measurement", "Weight Measurement", "MDC_DEV_SPEC_PROFILE_SCALE", weight),
        Characteristic(0x2A9E, "weight_scale_feature", "Weight Scale Feature", "MDC_DEV_SPEC_PROFILE_SCALE",
                       weight_scale_feature),
        Characteristic(0x2A9C, "body_composition_measurement", "Body Composition Measurement",
                       "MDC_DEV_SPEC_PROFILE_BCA", body_composition),
        Characteristic(0x2A5E, "plx_spot_check_measurement", "PLX Spot-check Measurement",
                       "MDC_DEV_SPEC_PROFILE_PULS_OXIM", plx_spot_check),
        Characteristic(0x2A5F, "plx_continuous_measurement", "PLX Continuous Measurement",
                       "MDC_DEV_SPEC_PROFILE_PULS_OXIM", plx_continuous),
        Characteristic(0x2A18, "glucose_measurement", "Glucose Measurement", "MDC_DEV_SPEC_PROFILE_GLUCOSE",
                       glucose),
        Characteristic(0x2A34, "glucose_measurement_context", "Glucose Measurement Context",
                       "MDC_DEV_SPEC_PROFILE_GLUCOSE", glucose_context),
        Characteristic(0x2A2B, "current_time", "Current Time", None, current_time),
        Characteristic(0x2A37, "heart_rate_measurement", "Heart Rate Measurement", None, heart_rate),
    )
}


def _norm(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in text.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_").removeprefix("org_bluetooth_characteristic_")


BY_NAME: dict[str, int] = {_norm(c.name): u for u, c in CHARACTERISTICS.items()} | {
    _norm(c.title): u for u, c in CHARACTERISTICS.items()}


def lookup(text: str) -> Characteristic | None:
    """The characteristic named by a 16-bit UUID ("2A35", "0x2A35") or GSS name, else None."""
    value = text.strip()
    first = value.split()[0] if value else ""
    token = first[2:] if first.lower().startswith("0x") else first
    if len(token) == 4:
        try:
            return CHARACTERISTICS.get(int(token, 16))
        except ValueError:
            pass
    key = _norm(value)
    if key in BY_NAME:
        return CHARACTERISTICS[BY_NAME[key]]
    for name, uuid in BY_NAME.items():  # "PLX Continuous Measurement (little-endian ...)"
        if key.startswith(name + "_"):
            return CHARACTERISTICS[uuid]
    return None
