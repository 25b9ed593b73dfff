"""The canonical model: the contract between codecs and mappings (DESIGN.md, "Canonical model").

Frozen msgspec Structs. Build with keyword arguments, read attributes, compare with `==`; use the
helpers below instead of any library method on the objects:

    replace(obj, field=value, ...)   # a copy with some fields changed
    fields(cls_or_obj)               # the field names, in declaration order
    to_builtins(obj)                 # plain dicts/tuples/str (Decimal and datetime as text)
    to_json(obj, indent=False)       # JSON bytes (fields at their default omitted)
    from_json(data, type=Message)    # JSON → validated model object (msgspec.ValidationError, a ValueError)
"""

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
    Frozen,
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
    AttachmentValue,
    BitsValue,
    CodedValue,
    Component,
    CompoundValue,
    DataAbsentReason,
    DateTimeValue,
    Metric,
    MetricValue,
    NumericValue,
    PeriodValue,
    RangeValue,
    RatioValue,
    SampleArrayValue,
    StringValue,
    TimeValue,
)
from .patient import Address, Encounter, HumanName, Location, Order, Patient, Practitioner
from .specimen import Specimen
from .tools import fields, from_json, replace, to_builtins, to_json

__all__ = [
    "Address", "Alarm", "AttachmentValue", "BitsValue", "Frozen", "fields", "from_json", "replace", "to_builtins", "to_json", "CodeableConcept", "CodedValue", "Coding", "Component", "CompoundValue",
    "ContentItem", "DCM_SYSTEM", "DataAbsentReason", "DateTimeValue", "Device", "EUI64_SYSTEM",
    "Encounter", "Endpoint", "HumanName", "Identifier", "ImagingStudy", "Instance", "Issue",
    "LOINC_SYSTEM", "Location", "MDC_SYSTEM", "Message", "Metric", "MetricValue", "NumericValue",
    "Order", "Patient", "RangeValue", "RatioValue", "Practitioner", "ProcedureStep", "ProductionSpec", "Quantity", "Range",
    "RawRef", "Report", "SNOMED_SYSTEM", "SampleArrayValue", "Series", "SourceRef", "Specimen", "StringValue",
    "TimeInfo", "Timestamp", "UCUM_SYSTEM", "PeriodValue", "TimeValue",
]
