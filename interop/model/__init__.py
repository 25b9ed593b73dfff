"""The canonical model: the contract between codecs and mappings (DESIGN.md, "Canonical model")."""

from .alarm import Alarm
from .common import (
    DCM_SYSTEM,
    EUI64_SYSTEM,
    LOINC_SYSTEM,
    MDC_SYSTEM,
    SNOMED_SYSTEM,
    UCUM_SYSTEM,
    CodeableConcept,
    Coding,
    Identifier,
    Issue,
    Quantity,
    Range,
    SourceRef,
    Timestamp,
)
from .device import Device, ProductionSpec, TimeInfo
from .imaging import ContentItem, ImagingStudy, Instance, ProcedureStep, Report, Series
from .message import Endpoint, Message, RawRef
from .metric import (
    BitsValue,
    CodedValue,
    Component,
    CompoundValue,
    DataAbsentReason,
    DateTimeValue,
    Metric,
    MetricValue,
    NumericValue,
    RangeValue,
    RatioValue,
    SampleArrayValue,
    StringValue,
)
from .patient import Encounter, HumanName, Location, Order, Patient, Practitioner

__all__ = [
    "Alarm", "BitsValue", "CodeableConcept", "CodedValue", "Coding", "Component", "CompoundValue",
    "ContentItem", "DCM_SYSTEM", "DataAbsentReason", "DateTimeValue", "Device", "EUI64_SYSTEM",
    "Encounter", "Endpoint", "HumanName", "Identifier", "ImagingStudy", "Instance", "Issue",
    "LOINC_SYSTEM", "Location", "MDC_SYSTEM", "Message", "Metric", "MetricValue", "NumericValue",
    "Order", "Patient", "RangeValue", "RatioValue", "Practitioner", "ProcedureStep", "ProductionSpec", "Quantity", "Range",
    "RawRef", "Report", "SNOMED_SYSTEM", "SampleArrayValue", "Series", "SourceRef", "StringValue",
    "TimeInfo", "Timestamp", "UCUM_SYSTEM",
]
