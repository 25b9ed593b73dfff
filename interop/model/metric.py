"""Metrics: one observed value of a device (IEEE 11073 DIM Metric; HL7 OBX; DICOM SR numeric)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Literal

from .common import CodeableConcept, Coding, Frozen, Quantity, Range, SourceRef, Timestamp

DataAbsentReason = Literal[
    "not-a-number",  # MDER NaN; v2 "NaN"
    "positive-infinity",  # MDER +INF
    "negative-infinity",  # MDER -INF
    "error",  # MDER NRes / reserved values; invalid measurement
    "unknown",  # value expected but not given (v2 OBX-8 NI)
    "temp-unknown",  # temporarily not available (v2 OBX-8 NAV)
    "not-applicable",  # no proper value applies
    "masked",  # withheld
    "not-performed",  # measurement not done
    "unsupported",  # the value type cannot be represented
]
"""FHIR data-absent-reason codes the codecs emit (http://terminology.hl7.org/CodeSystem/data-absent-reason)."""


class NumericValue(Frozen, kw_only=True, tag="numeric", tag_field="kind"):
    """A single numeric (NM, SFLOAT/FLOAT basic or simple numeric, SR NUM)."""

    kind: ClassVar[str] = "numeric"  # the tag of the MetricValue union (JSON "kind")
    quantity: Quantity


class Component(Frozen, kw_only=True):
    """One member of a compound value (systolic of a BP, x of an accelerometer)."""

    code: CodeableConcept  # MDC code of the component (MDC_PRESS_BLD_NONINV_SYS ...)
    quantity: Quantity | None = None  # the value, absent when `data_absent_reason` is set
    data_absent_reason: DataAbsentReason | None = None  # why the component has no value


class CompoundValue(Frozen, kw_only=True, tag="compound", tag_field="kind"):
    """A compound numeric (20601 compound-basic-nu-observed-value, v2 SN pairs)."""

    kind: ClassVar[str] = "compound"  # the tag of the MetricValue union (JSON "kind")
    components: tuple[Component, ...]


class RangeValue(Frozen, kw_only=True, tag="range", tag_field="kind"):
    """An interval result (v2 SN "10-20")."""

    kind: ClassVar[str] = "range"  # the tag of the MetricValue union (JSON "kind")
    low: Quantity | None = None
    high: Quantity | None = None


class RatioValue(Frozen, kw_only=True, tag="ratio", tag_field="kind"):
    """A ratio result (v2 SN "1:128", "120/80" written as a ratio)."""

    kind: ClassVar[str] = "ratio"  # the tag of the MetricValue union (JSON "kind")
    numerator: Quantity
    denominator: Quantity


class SampleArrayValue(Frozen, kw_only=True, tag="sample-array", tag_field="kind"):
    """A waveform (RT-SA, v2 NA, DICOM waveform channel): raw samples plus how to scale them.

    physical value = origin + factor * sample, sampled every `period_ms`.
    """

    kind: ClassVar[str] = "sample-array"  # the tag of the MetricValue union (JSON "kind")
    samples: tuple[Decimal, ...]  # sample values as transmitted
    period_ms: Decimal | None = None  # time between samples in milliseconds
    factor: Decimal | None = None  # scale factor applied to each sample
    origin: Quantity | None = None  # zero value and unit of the physical signal
    lower_limit: Decimal | None = None  # lowest physical value the device can represent
    upper_limit: Decimal | None = None  # highest physical value the device can represent
    dimensions: int = 1  # interleaved channels in `samples`


class CodedValue(Frozen, kw_only=True, tag="coded", tag_field="kind"):
    """A coded result (CWE/CE, 20601 enumeration OID, SR CODE)."""

    kind: ClassVar[str] = "coded"  # the tag of the MetricValue union (JSON "kind")
    concept: CodeableConcept


class StringValue(Frozen, kw_only=True, tag="string", tag_field="kind"):
    """A text result (ST/TX/FT, enumeration text, SR TEXT)."""

    kind: ClassVar[str] = "string"  # the tag of the MetricValue union (JSON "kind")
    text: str


class DateTimeValue(Frozen, kw_only=True, tag="datetime", tag_field="kind"):
    """A date/time result (v2 DTM/TS value, SR DATETIME)."""

    kind: ClassVar[str] = "datetime"  # the tag of the MetricValue union (JSON "kind")
    timestamp: Timestamp


class PeriodValue(Frozen, kw_only=True, tag="period", tag_field="kind"):
    """A date range result (v2 OBX-2 DR: range start ^ range end; either end may be open)."""

    kind: ClassVar[str] = "period"  # the tag of the MetricValue union (JSON "kind")
    start: Timestamp | None = None
    end: Timestamp | None = None


class TimeValue(Frozen, kw_only=True, tag="time", tag_field="kind"):
    """A time of day without a date (v2 OBX-2 TM), as ISO 8601 text ("12:30", "12:30:15.5+01:00")."""

    kind: ClassVar[str] = "time"  # the tag of the MetricValue union (JSON "kind")
    text: str


class BitsValue(Frozen, kw_only=True, tag="bits", tag_field="kind"):
    """A bit-string state (20601 BITS-16/32 enumerations: device and measurement status)."""

    kind: ClassVar[str] = "bits"  # the tag of the MetricValue union (JSON "kind")
    value: int  # the raw bit string
    width: int  # 8, 16 or 32
    set_names: tuple[str, ...] = ()  # names of the set bits per the standard, most significant first


class AttachmentValue(Frozen, kw_only=True, tag="attachment", tag_field="kind"):
    """Encapsulated data or a reference to it (v2 OBX-2 ED: source application ^ type ^ subtype ^
    encoding ^ data; v2 RP: pointer ^ application ^ type ^ subtype; DICOM encapsulated documents)."""

    kind: ClassVar[str] = "attachment"  # the tag of the MetricValue union (JSON "kind")
    content_type: str | None = None  # MIME type from type of data / subtype ("application/pdf", "image/jpeg")
    data: bytes | None = None  # the decoded octets (ED Base64/Hex decoded, ASCII as its bytes)
    url: str | None = None  # where the data is (RP pointer, resolved against its application when given)
    encoding: str | None = None  # the source encoding as sent (HL7 table 0299: Base64, Hex, A)
    application: str | None = None  # ED.1 / RP.2 source application (HD namespace id)
    data_type: str | None = None  # ED.2 / RP.3 type of data as sent (HL7 table 0191: AP, IM, TEXT ...)
    subtype: str | None = None  # ED.3 / RP.4 subtype as sent (PDF, JPEG, octet-stream ...)


MetricValue = (NumericValue | CompoundValue | SampleArrayValue | CodedValue | StringValue | DateTimeValue | BitsValue
               | RangeValue | RatioValue | AttachmentValue | PeriodValue | TimeValue)
"""A metric's value: one of the classes above, told apart by `kind` (a tagged union in JSON)."""


class Metric(Frozen, kw_only=True):
    """One observation: what was measured, its value or why it is absent, when, and by which device."""

    code: CodeableConcept  # MDC coding first, plus LOINC/SNOMED translations where known
    value: MetricValue | None = None  # None when absent (see data_absent_reason) or a pure device row
    data_absent_reason: DataAbsentReason | None = None  # why `value` is None
    measurement_status: tuple[str, ...] = ()  # flags as sent: "invalid", "questionable", "calibration-ongoing",
    # "test-data", "demo-data", "validated-data", "early-indication", "msmt-ongoing" ... (v2 OBX-8 INV/QUES/..., 20601 MeasurementStatus)
    interpretation: tuple[Coding, ...] = ()  # abnormal flags (v2 table 0078: H, L, HH, LL, N, A ...)
    result_status: str | None = None  # v2 OBX-11 code as sent (F, P, C, R, X, D ...); None = not stated
    effective: Timestamp | None = None  # observation time (OBX-14, 20601 absolute time, SR observation datetime)
    effective_end: Timestamp | None = None  # end of the observation period, when the source gives one
    reference_range: Range | None = None  # normal range as stated by the source
    accuracy: Quantity | None = None  # stated maximum deviation, in the value's unit (20601 MDC_ATTR_NU_ACCUR_MSMT)
    alarm_limits: Range | None = None  # alarm limits (PCD messages carry these in OBX-7; PoCD IG)
    method: CodeableConcept | None = None  # how it was measured (OBX-17, 20601 metric-spec-small flags)
    body_site: CodeableConcept | None = None  # where on the body (OBX-20, SR finding site)
    device_key: str | None = None  # `Device.key` of the node that produced it
    containment: tuple[int, ...] = ()  # DIM path MDS.VMD.CHAN.METRIC (v2 OBX-4 "1.2.1.1" -> (1, 2, 1, 1))
    handle: int | None = None  # 20601 object handle
    observation_id: str | None = None  # source-local id (OBX-4 sub-id, SR content item path)
    group: str | None = None  # observation group / request this belongs to (OBR filler id, SR container)
    person_id: int | None = None  # 20601 multi-person id / GATT user id
    notes: tuple[str, ...] = ()  # NTE comments, SR text remarks
    specimen: str | None = None  # `Specimen.key` of the specimen observed (v2 SPM of the order or specimen group)
    source: SourceRef | None = None  # lineage: where in the input this metric was read
