"""Who and where: patient, encounter (location and bed), practitioner."""

from __future__ import annotations

from typing import Literal

from .common import CodeableConcept, Frozen, Identifier, SourceRef, Timestamp


class HumanName(Frozen, kw_only=True):
    """A person name split as HL7 XPN / DICOM PN do."""

    family: str | None = None  # family name
    given: tuple[str, ...] = ()  # given and middle names in order
    prefix: str | None = None  # Dr, Mr ...
    suffix: str | None = None  # Jr, III ...
    use: str | None = None  # name type as sent (v2 table 0200 "L", "D" ...)
    text: str | None = None  # the name as one string (DICOM ideographic/phonetic groups kept here)


class Address(Frozen, kw_only=True):
    """A postal address split as HL7 XAD does (v2-to-FHIR IG ConceptMap XAD → Address)."""

    lines: tuple[str, ...] = ()  # XAD-1 (SAD-1 street, SAD-2 street name, SAD-3 dwelling number), XAD-2
    city: str | None = None  # XAD-3
    state: str | None = None  # XAD-4
    postal_code: str | None = None  # XAD-5
    country: str | None = None  # XAD-6
    type: str | None = None  # XAD-7 address type as sent (v2 table 0190: H, M, B, C ...)
    district: str | None = None  # XAD-9 county/parish (CWE-1)
    start: Timestamp | None = None  # XAD-13 effective date (or XAD-12 validity range start)
    end: Timestamp | None = None  # XAD-14 expiration date (or XAD-12 validity range end)


class Patient(Frozen, kw_only=True):
    """The subject of the message."""

    identifiers: tuple[Identifier, ...] = ()  # PID-3 repetitions / DICOM PatientID + issuer
    names: tuple[HumanName, ...] = ()  # PID-5 repetitions / PatientName
    birth_date: Timestamp | None = None  # PID-7 / PatientBirthDate (precision says day/month/year)
    sex: str | None = None  # administrative sex as sent (v2 table 0001 / DICOM M, F, O, U)
    person_id: int | None = None  # 20601 multi-person id / GATT user index when no identifier exists
    merged: tuple[Identifier, ...] = ()  # identifiers of records merged into this one (v2 ADT A40 MRG-1)
    addresses: tuple[Address, ...] = ()  # PID-11 repetitions
    mothers_maiden_names: tuple[HumanName, ...] = ()  # PID-6 repetitions
    # PID-31 identity unknown indicator 'Y': the identifiers are placeholders ("Unknown Patient", a bed's
    # default id) that name no person, so they must not match this patient with any other
    identity_unknown: bool = False
    source: SourceRef | None = None  # lineage

    @property
    def identified(self) -> bool:
        """Whether the identifiers name a person, so that this patient may be matched with the same patient of
        other messages: not when there are none, nor when PID-31 says the identity is unknown."""
        return bool(self.identifiers) and not self.identity_unknown


class Location(Frozen, kw_only=True):
    """PV1-3 point of care: facility, building, floor, unit, room, bed."""

    point_of_care: str | None = None  # nursing unit / ward
    room: str | None = None
    bed: str | None = None
    facility: str | None = None
    building: str | None = None
    floor: str | None = None
    text: str | None = None  # the location as one string


class Encounter(Frozen, kw_only=True):
    """The visit in which the data was produced."""

    identifiers: tuple[Identifier, ...] = ()  # PV1-19 visit number
    patient_class: str | None = None  # PV1-2 (v2 table 0004: I, O, E ...)
    location: Location | None = None  # PV1-3
    admit_time: Timestamp | None = None  # PV1-44
    discharge_time: Timestamp | None = None  # PV1-45
    source: SourceRef | None = None


class Practitioner(Frozen, kw_only=True):
    """A person acting in a role (attending, referring, operator, performing physician)."""

    role: str  # "attending", "referring", "operator", "performing", "ordering"
    identifiers: tuple[Identifier, ...] = ()
    names: tuple[HumanName, ...] = ()
    source: SourceRef | None = None


class Order(Frozen, kw_only=True):
    """An observation request (v2 OBR, DICOM request attributes)."""

    placer_id: str | None = None  # OBR-2
    filler_id: str | None = None  # OBR-3 (PCD: often the gateway EUI-64)
    code: CodeableConcept | None = None  # OBR-4 universal service id
    observed: Timestamp | None = None  # OBR-7
    observed_end: Timestamp | None = None  # OBR-8
    set_id: int | None = None  # OBR-1
    status: str | None = None  # OBR-25
    kind: Literal["order", "alarm", "procedure"] = "order"
    reason: CodeableConcept | None = None  # OBR-31
    notes: tuple[str, ...] = ()  # NTE-3 of the NTEs right after the OBR (v2-to-FHIR: NTE → ServiceRequest.note)
    source: SourceRef | None = None
