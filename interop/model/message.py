"""The envelope every codec returns and every mapping consumes."""

from __future__ import annotations

from typing import Literal

from .alarm import Alarm
from .common import Frozen, Issue, Timestamp
from .device import Device
from .imaging import ImagingStudy, ProcedureStep, Report
from .metric import Metric
from .patient import Encounter, Order, Patient, Practitioner
from .specimen import Specimen

Standard = Literal["hl7v2", "ieee11073-20601", "bluetooth-gatt", "dicom"]


class Endpoint(Frozen, kw_only=True):
    """A sending or receiving system (MSH-3/4, MSH-5/6; DICOM AE title; 20601 agent)."""

    application: str | None = None  # MSH-3 / calling AE title
    facility: str | None = None  # MSH-4
    identifier: str | None = None  # universal id of the application (e.g. EUI-64 in PCD)


class RawRef(Frozen, kw_only=True):
    """Reference to the exact input, so a translation can be traced back (Provenance)."""

    sha256: str  # hex digest of the input bytes
    length: int  # bytes
    name: str | None = None  # file name or stream label (never patient data)


class Message(Frozen, kw_only=True):
    """One decoded unit of input: an HL7 v2 message, a 20601 association, a DICOM instance/study."""

    standard: Standard  # which family decoded it
    version: str | None = None  # "2.6", "20601-2019", DICOM transfer syntax ...
    message_type: str | None = None  # "ORU^R01^ORU_R01", "scan-report", "CT Image Storage" ...
    control_id: str | None = None  # MSH-10 / invoke id / SOP instance UID
    profiles: tuple[str, ...] = ()  # conformance profile ids claimed (MSH-21 entity ids)
    sending: Endpoint | None = None
    receiving: Endpoint | None = None
    sent: Timestamp | None = None  # MSH-7 / event time
    patient: Patient | None = None
    encounter: Encounter | None = None
    practitioners: tuple[Practitioner, ...] = ()
    orders: tuple[Order, ...] = ()  # OBR segments / requests
    devices: tuple[Device, ...] = ()  # top-level MDS trees (the measuring devices)
    gateway: Device | None = None  # the device that relayed the data (PHG, DOR, DICOM SCU), if distinct
    metrics: tuple[Metric, ...] = ()
    specimens: tuple[Specimen, ...] = ()  # v2 SPM: what lab results were measured on
    alarms: tuple[Alarm, ...] = ()
    imaging_study: ImagingStudy | None = None
    reports: tuple[Report, ...] = ()
    procedure_steps: tuple[ProcedureStep, ...] = ()
    issues: tuple[Issue, ...] = ()  # everything tolerated or not placed, with its position
    raw: RawRef | None = None  # the input this came from

    def device(self, key: str) -> Device | None:
        """The device node with `key` anywhere in the trees (or the gateway)."""
        roots = self.devices + ((self.gateway,) if self.gateway else ())
        for root in roots:
            for node in root.walk():
                if node.key == key:
                    return node
        return None
