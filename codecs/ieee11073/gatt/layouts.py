"""construct declarations of the GATT health characteristics: one per characteristic, parse and build.

Field order, flag bits and sizes follow the Bluetooth GATT Specification Supplement (GSS) and the
service specifications (BLS, HTS, WSS, PLXS, GLS, HRS). Numbers stay raw here (SFLOAT/FLOAT words,
uint16 weights): `characteristics` scales them. Optional fields are driven by the Flags field.
Imported lazily by the codec (construct costs ~30 ms to import).
"""

from __future__ import annotations

from functools import cache

from construct import (
    Bytes,
    Compiled,
    Construct,
    GreedyRange,
    If,
    IfThenElse,
    Int8ul,
    Int16sl,
    Int16ul,
    Int24ul,
    Int32ul,
    Struct,
    Tell,
    this,
)

SFLOAT = Int16ul  # medfloat16 word, decoded by `medfloat.sfloat`
FLOAT = Int32ul  # medfloat32 word, decoded by `medfloat.float32`

DateTime = Struct(
    # GSS 3.70 Date Time: Year (0 = not known), Month (0 = not known), Day (0 = not known), Hours, Minutes, Seconds
    "year" / Int16ul,
    "month" / Int8ul,
    "day" / Int8ul,
    "hours" / Int8ul,
    "minutes" / Int8ul,
    "seconds" / Int8ul,
)

BloodPressureMeasurement = Struct(
    # 0x2A35 (and 0x2A36 Intermediate Cuff Pressure, same layout). Flags: bit 0 units (0 mmHg, 1 kPa),
    # bit 1 Time Stamp, bit 2 Pulse Rate, bit 3 User ID, bit 4 Measurement Status present.
    "flags" / Int8ul,
    "systolic" / SFLOAT,
    "diastolic" / SFLOAT,
    "mean_arterial_pressure" / SFLOAT,
    "time_stamp" / If(this.flags & 0x02, DateTime),
    "pulse_rate" / If(this.flags & 0x04, SFLOAT),
    "user_id" / If(this.flags & 0x08, Int8ul),
    "measurement_status" / If(this.flags & 0x10, Int16ul),
    "end" / Tell,
)

TemperatureMeasurement = Struct(
    # 0x2A1C. Flags: bit 0 units (0 Celsius, 1 Fahrenheit), bit 1 Time Stamp, bit 2 Temperature Type present.
    "flags" / Int8ul,
    "temperature" / FLOAT,
    "time_stamp" / If(this.flags & 0x02, DateTime),
    "temperature_type" / If(this.flags & 0x04, Int8ul),
    "end" / Tell,
)

TemperatureType = Struct(
    # 0x2A1D: one uint8 (GSS Temperature Type: 1 Armpit ... 9 Tympanum).
    "temperature_type" / Int8ul,
    "end" / Tell,
)

WeightMeasurement = Struct(
    # 0x2A9D. Flags: bit 0 units (0 SI: kg resolution 0.005, m 0.001; 1 imperial: lb 0.01, in 0.1),
    # bit 1 Time Stamp, bit 2 User ID, bit 3 BMI and Height present. BMI resolution 0.1 kg/m2.
    "flags" / Int8ul,
    "weight" / Int16ul,
    "time_stamp" / If(this.flags & 0x02, DateTime),
    "user_id" / If(this.flags & 0x04, Int8ul),
    "bmi" / If(this.flags & 0x08, Int16ul),
    "height" / If(this.flags & 0x08, Int16ul),
    "end" / Tell,
)

WeightScaleFeature = Struct(
    # 0x2A9E: bit 0 Time Stamp, bit 1 Multiple Users, bit 2 BMI supported, bits 3-6 Weight Measurement
    # Resolution, bits 7-9 Height Measurement Resolution (WSS 1.0, 3.1).
    "features" / Int32ul,
    "end" / Tell,
)

BodyCompositionMeasurement = Struct(
    # 0x2A9C (BCS 1.0). Flags (16 bits): bit 0 units (0 SI, 1 imperial), bit 1 Time Stamp, bit 2 User ID,
    # bit 3 Basal Metabolism, 4 Muscle Percentage, 5 Muscle Mass, 6 Fat Free Mass, 7 Soft Lean Mass,
    # 8 Body Water Mass, 9 Impedance, 10 Weight, 11 Height, 12 Multiple Packet Measurement.
    # Body Fat Percentage and Muscle Percentage: 0.1 %; masses as Weight Measurement; impedance 0.1 ohm;
    # basal metabolism in kJ.
    "flags" / Int16ul,
    "body_fat_percentage" / Int16ul,
    "time_stamp" / If(this.flags & 0x0002, DateTime),
    "user_id" / If(this.flags & 0x0004, Int8ul),
    "basal_metabolism" / If(this.flags & 0x0008, Int16ul),
    "muscle_percentage" / If(this.flags & 0x0010, Int16ul),
    "muscle_mass" / If(this.flags & 0x0020, Int16ul),
    "fat_free_mass" / If(this.flags & 0x0040, Int16ul),
    "soft_lean_mass" / If(this.flags & 0x0080, Int16ul),
    "body_water_mass" / If(this.flags & 0x0100, Int16ul),
    "impedance" / If(this.flags & 0x0200, Int16ul),
    "weight" / If(this.flags & 0x0400, Int16ul),
    "height" / If(this.flags & 0x0800, Int16ul),
    "end" / Tell,
)

PlxSpotCheckMeasurement = Struct(
    # 0x2A5E. Flags: bit 0 Timestamp, bit 1 Measurement Status, bit 2 Device and Sensor Status,
    # bit 3 Pulse Amplitude Index present, bit 4 Device Clock is Not Set.
    "flags" / Int8ul,
    "spo2" / SFLOAT,
    "pulse_rate" / SFLOAT,
    "time_stamp" / If(this.flags & 0x01, DateTime),
    "measurement_status" / If(this.flags & 0x02, Int16ul),
    "device_and_sensor_status" / If(this.flags & 0x04, Int24ul),
    "pulse_amplitude_index" / If(this.flags & 0x08, SFLOAT),
    "end" / Tell,
)

PlxContinuousMeasurement = Struct(
    # 0x2A5F. Flags: bit 0 SpO2PR-Fast, bit 1 SpO2PR-Slow, bit 2 Measurement Status,
    # bit 3 Device and Sensor Status, bit 4 Pulse Amplitude Index present.
    "flags" / Int8ul,
    "spo2" / SFLOAT,
    "pulse_rate" / SFLOAT,
    "spo2_fast" / If(this.flags & 0x01, SFLOAT),
    "pulse_rate_fast" / If(this.flags & 0x01, SFLOAT),
    "spo2_slow" / If(this.flags & 0x02, SFLOAT),
    "pulse_rate_slow" / If(this.flags & 0x02, SFLOAT),
    "measurement_status" / If(this.flags & 0x04, Int16ul),
    "device_and_sensor_status" / If(this.flags & 0x08, Int24ul),
    "pulse_amplitude_index" / If(this.flags & 0x10, SFLOAT),
    "end" / Tell,
)

GlucoseMeasurement = Struct(
    # 0x2A18. Flags: bit 0 Time Offset, bit 1 Glucose Concentration + Type-Sample Location,
    # bit 2 concentration units (0 kg/L, 1 mol/L), bit 3 Sensor Status Annunciation present,
    # bit 4 Context Information follows (0x2A34).
    "flags" / Int8ul,
    "sequence_number" / Int16ul,
    "base_time" / DateTime,
    "time_offset" / If(this.flags & 0x01, Int16sl),  # minutes
    "glucose_concentration" / If(this.flags & 0x02, SFLOAT),
    "type_sample_location" / If(this.flags & 0x02, Int8ul),  # low nibble Type, high nibble Sample Location
    "sensor_status_annunciation" / If(this.flags & 0x08, Int16ul),
    "end" / Tell,
)

GlucoseMeasurementContext = Struct(
    # 0x2A34. Flags: bit 0 Carbohydrate ID + Carbohydrate (kg), bit 1 Meal, bit 2 Tester-Health,
    # bit 3 Exercise Duration (s, 65535 = overrun) + Exercise Intensity (%), bit 4 Medication ID + Medication,
    # bit 5 medication units (0 kg, 1 litre), bit 6 HbA1c (%), bit 7 Extended Flags present.
    "flags" / Int8ul,
    "sequence_number" / Int16ul,
    "extended_flags" / If(this.flags & 0x80, Int8ul),
    "carbohydrate_id" / If(this.flags & 0x01, Int8ul),
    "carbohydrate" / If(this.flags & 0x01, SFLOAT),
    "meal" / If(this.flags & 0x02, Int8ul),
    "tester_health" / If(this.flags & 0x04, Int8ul),  # low nibble Tester, high nibble Health
    "exercise_duration" / If(this.flags & 0x08, Int16ul),
    "exercise_intensity" / If(this.flags & 0x08, Int8ul),
    "medication_id" / If(this.flags & 0x10, Int8ul),
    "medication" / If(this.flags & 0x10, SFLOAT),
    "hba1c" / If(this.flags & 0x40, SFLOAT),
    "end" / Tell,
)

HeartRateMeasurement = Struct(
    # 0x2A37. Flags: bit 0 value format (0 uint8, 1 uint16), bit 1 Sensor Contact detected,
    # bit 2 Sensor Contact feature supported, bit 3 Energy Expended present (kJ),
    # bit 4 RR-Interval present (uint16 list, resolution 1/1024 s).
    "flags" / Int8ul,
    "heart_rate" / IfThenElse(this.flags & 0x01, Int16ul, Int8ul),
    "energy_expended" / If(this.flags & 0x08, Int16ul),
    "rr_intervals" / If(this.flags & 0x10, GreedyRange(Int16ul)),
    "end" / Tell,
)

CurrentTime = Struct(
    # 0x2A2B (CTS): Exact Time 256 = Day Date Time (Date Time + Day of Week) + Fractions256, then Adjust Reason.
    "date_time" / DateTime,
    "day_of_week" / Int8ul,
    "fractions256" / Int8ul,
    "adjust_reason" / Int8ul,
    "end" / Tell,
)

DeviceInformationSystemId = Struct(
    # 0x2A23 System ID: Manufacturer Identifier (40 bits) then Organizationally Unique Identifier (24 bits), LSO first.
    "raw" / Bytes(8),
    "end" / Tell,
)

LAYOUTS: dict[int, Construct] = {
    0x2A35: BloodPressureMeasurement,
    0x2A36: BloodPressureMeasurement,
    0x2A1C: TemperatureMeasurement,
    0x2A1E: TemperatureMeasurement,  # Intermediate Temperature: same layout
    0x2A1D: TemperatureType,
    0x2A9D: WeightMeasurement,
    0x2A9E: WeightScaleFeature,
    0x2A9C: BodyCompositionMeasurement,
    0x2A5E: PlxSpotCheckMeasurement,
    0x2A5F: PlxContinuousMeasurement,
    0x2A18: GlucoseMeasurement,
    0x2A34: GlucoseMeasurementContext,
    0x2A37: HeartRateMeasurement,
    0x2A2B: CurrentTime,
}


@cache
def compiled(uuid: int) -> Compiled | Construct:
    """The compiled form of the layout for `uuid` (the declarative one if compiling fails)."""
    layout = LAYOUTS[uuid]
    try:
        return layout.compile()
    except Exception:  # noqa: BLE001 - compilation is an optimisation only
        return layout
