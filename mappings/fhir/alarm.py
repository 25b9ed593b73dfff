"""Canonical `Alarm` → FHIR Observation (R4 and R5 alike): one resource per alert.

Why an Observation: neither FHIR R4 nor R5 has an alarm resource, and the HL7 PoCD IG profiles no
alert; the IEEE 11073 / SDPi community's FHIR rendering of an IHE PCD-04 alert (and what FHIR R5
`DetectedIssue` is not meant for: clinical issues with a planned action) is an Observation of the
alert condition. So, per alert:

- `identifier`: the alert instance id (PCD-04 OBR-3); when the message updates or ends an earlier
  alert (OBR-29), that parent's id too. `id` is derived from the parent's id when there is one, else
  from the alert's own: start, updates and end of one alert are one resource, so a transaction Bundle
  (PUT by id) replaces it and a collection Bundle of each message carries the same id.
- `category`: MDC_EVT_ALARM (196616); `code`: the alert code (MDC_EVT_*), `valueString`: its text.
- `status`: `preliminary` while the alert is present (phase start, continue, update, escalate ...),
  `final` once it ended (phase end/stop, or state inactive), `cancelled` for a reset.
- `effectivePeriod`: start and end of the condition.
- `interpretation`: the abnormality flag (OBX-8 first repetition).
- `component`s with MDC attribute codes: event phase (68481), alarm state (68482), inactivation
  state (68483), priority (68484), alert type (68485), alert source (68480); the source metric with
  its value and the alarm limits it crossed (`referenceRange` typed alarm-limits, PoCD IG).
- `device`: the Device of the node that raised it; `subject`/`encounter` as for every Observation.

No DeviceMetric is made for an alert attribute: attributes are components of their alert.
"""

from __future__ import annotations

from typing import Any

from interop.model import MDC_SYSTEM, Message
from interop.model.alarm import Alarm

from . import datatypes as fd
from .context import FhirContext, stable_id
from .observation import default_zone

ALARM_CATEGORY = [{"coding": [{"system": MDC_SYSTEM, "code": "196616", "display": "MDC_EVT_ALARM"}],
                   "text": "Alarm"}]
# Alarm field → the MDC attribute it is (IEEE 11073-10101 codes as IHE PCD TF-2 rev 9+ uses them)
ATTRIBUTES = (
    ("phase", "68481", "MDC_ATTR_EVENT_PHASE"),
    ("state", "68482", "MDC_ATTR_ALARM_STATE"),
    ("inactivation", "68483", "MDC_ATTR_ALARM_INACTIVATION_STATE"),
    ("priority", "68484", "MDC_ATTR_ALARM_PRIORITY"),
    ("kind", "68485", "MDC_ATTR_ALERT_TYPE"),
)
SOURCE = ("68480", "MDC_ATTR_ALERT_SOURCE")
ENDED_PHASES = frozenset({"end", "stop"})
ENDED_STATES = frozenset({"inactive", "off"})


def build(message: Message, ctx: FhirContext) -> None:
    if not message.alarms:
        return
    default_tz = default_zone(message, ctx)
    seen: set[str] = set()
    for alarm in message.alarms:
        res = observation(alarm, message, ctx, default_tz)
        if res["id"] in seen:  # two alerts with one id in one message: keep both, distinct ids
            res["id"] = stable_id(res["id"], len(seen))
        seen.add(res["id"])
        ctx.add(res)


def resource_id(alarm: Alarm, message: Message) -> str:
    """The Observation id of an alert: from its parent's instance id, else its own, else its place."""
    root = alarm.parent or alarm.identifier
    if root is not None:
        return stable_id("Alarm", root.system or root.assigner, root.value)
    anchor = message.raw.sha256 if message.raw else message.control_id
    return stable_id("Alarm", anchor, alarm.device_key, alarm.code.codings[0].code if alarm.code.codings else
                     alarm.code.text, alarm.start.raw if alarm.start else None)


def status(alarm: Alarm) -> str:
    if alarm.phase == "reset":
        return "cancelled"
    if alarm.phase in ENDED_PHASES or alarm.state in ENDED_STATES or alarm.end is not None:
        return "final"
    return "preliminary"


def observation(alarm: Alarm, message: Message, ctx: FhirContext, default_tz) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Observation", "id": resource_id(alarm, message)}
    identifiers = [alarm.parent] if alarm.parent is not None else []  # the alert this one updates or ends
    if alarm.identifier is not None and alarm.identifier not in identifiers:
        identifiers.append(alarm.identifier)
    if identifiers:
        res["identifier"] = [_identifier(i) for i in identifiers]
    res["status"] = status(alarm)
    res["category"] = [{"coding": [c.copy() for c in ALARM_CATEGORY[0]["coding"]], "text": "Alarm"}]
    res["code"] = fd.concept(alarm.code)
    if ctx.patient_ref:
        res["subject"] = ctx.reference(ctx.patient_ref)
    if ctx.encounter_ref:
        res["encounter"] = ctx.reference(ctx.encounter_ref)
    period: dict[str, str] = {}
    if alarm.start is not None:
        period["start"] = fd.date_time(alarm.start, default_tz)[0]
    if alarm.end is not None:
        period["end"] = fd.date_time(alarm.end, default_tz)[0]
    if period:
        res["effectivePeriod"] = period
    if alarm.text:
        res["valueString"] = alarm.text
    if alarm.interpretation:
        res["interpretation"] = [{"coding": [fd.coding(c)]} for c in alarm.interpretation]
    device = ctx.device_refs.get(alarm.device_key) if alarm.device_key else None
    if device:
        res["device"] = ctx.reference(device)
    components = []
    for field, code, refid in ATTRIBUTES:
        value = getattr(alarm, field)
        if value:
            components.append({"code": _mdc(code, refid), "valueString": value})
    if alarm.source_device or (alarm.source_code is not None and alarm.source_value is None):
        # the alert source as a name or a code; a source metric with its value is a component of its own
        comp: dict[str, Any] = {"code": _mdc(*SOURCE)}
        if alarm.source_device:
            comp["valueString"] = alarm.source_device
        else:
            comp["valueCodeableConcept"] = fd.concept(alarm.source_code)
        components.append(comp)
    if alarm.source_value is not None and alarm.source_code is not None:
        comp = {"code": fd.concept(alarm.source_code), "valueQuantity": fd.quantity(alarm.source_value)}
        if alarm.limits is not None and (alarm.limits.low is not None or alarm.limits.high is not None):
            comp["referenceRange"] = [{**fd.range_(alarm.limits), "type": {"coding": [dict(fd.ALARM_LIMITS)]}}]
        components.append(comp)
    if components:
        res["component"] = components
    return res


def _mdc(code: str, refid: str) -> dict[str, Any]:
    return {"coding": [{"system": MDC_SYSTEM, "code": code, "display": refid}]}


def _identifier(i) -> dict[str, Any]:
    out = fd.identifier(i)
    if i.type == "alert-instance":  # no v2-0203 code names an alert instance
        out["type"] = {"text": "alert instance"}
    return out
