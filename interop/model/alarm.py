"""Alarms and alerts (IHE PCD-04, 20601 alert notifications)."""

from __future__ import annotations

from .common import CodeableConcept, Coding, Frozen, Identifier, Quantity, Range, SourceRef, Timestamp


class Alarm(Frozen, kw_only=True):
    """One alert: what fired, how urgent, its state and the metric it is about."""

    code: CodeableConcept  # event code (MDC_EVT_HI, MDC_EVT_ECG_ASYSTOLE ...)
    source_code: CodeableConcept | None = None  # the metric/parameter the alarm is about
    kind: str | None = None  # "physiological" (SP) / "technical" (ST) / "advisory" (SA)
    priority: str | None = None  # "high" (PH) / "medium" (PM) / "low" (PL) / "none" (PN)
    state: str | None = None  # alert state: "active", "inactive", "latched", "acknowledged"
    phase: str | None = None  # PCD-04 event phase: "start", "continue", "end", "update", "escalate" ...
    inactivation: str | None = None  # alarm inactivation state (audio-paused, alarm-off ...)
    identifier: Identifier | None = None  # alert instance identifier (PCD-04 OBR-3 EI)
    parent: Identifier | None = None  # the alert this one updates or ends (PCD-04 OBR-29 EIP)
    start: Timestamp | None = None  # when the condition began
    end: Timestamp | None = None  # when it ended
    text: str | None = None  # alert text shown on the device
    source_value: Quantity | None = None  # the value of the source metric that raised it (PCD-04 facet 2)
    limits: Range | None = None  # the alarm limits it crossed (OBX-7 of the source row)
    source_device: str | None = None  # the alert source when sent as a name, not a code (MDC_ATTR_ALERT_SOURCE)
    interpretation: tuple[Coding, ...] = ()  # abnormality flags (OBX-8 first repetition: H, L, A ...)
    device_key: str | None = None  # `Device.key` of the originating node
    containment: tuple[int, ...] = ()  # DIM path of the source
    source: SourceRef | None = None  # lineage
