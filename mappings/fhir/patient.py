"""Patient and Encounter (v2-to-FHIR IG: PID → Patient, PV1 → Encounter)."""

from __future__ import annotations

from typing import Any

from interop.model import Address, Message, Patient

from . import datatypes as fd
from .context import FhirContext, stable_id
from .observation import sender_zone
from .prepared import Recurring

# HL7 table 0001 → FHIR administrative-gender (v2-to-FHIR IG ConceptMap "AdministrativeSex");
# DICOM PatientSex uses the same letters (M, F, O).
GENDER = {"M": "male", "F": "female", "O": "other", "U": "unknown", "A": "other", "N": "other", "X": "other"}
# HL7 table 0004 → v3 ActCode (v2-to-FHIR IG ConceptMap "PatientClass")
PATIENT_CLASS = {"I": ("IMP", "inpatient encounter"), "O": ("AMB", "ambulatory"), "E": ("EMER", "emergency"),
                 "P": ("PRENC", "pre-admission"), "R": ("IMP", "inpatient encounter"),
                 "B": ("IMP", "inpatient encounter")}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# HL7 table 0190 (address type, XAD-7) → Address.use / Address.type (v2-to-FHIR IG ConceptMaps
# "AddressType[Use]" and "AddressType[Type]", HL7/v2-to-fhir @8c9b414 mappings/codesystems); the other
# codes (N, BDL, F, L, P, RH, BR, S, TM, V ...) have no FHIR equivalent there.
ADDRESS_USE = {"BA": "old", "BI": "billing", "C": "temp", "B": "work", "H": "home", "O": "work"}
ADDRESS_TYPE = {"M": "postal", "SH": "postal"}
MOTHERS_MAIDEN_NAME = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"


_PATIENTS = Recurring()  # Patient object (identified) -> (Prepared resource, conditional create)
_ENCOUNTERS = Recurring()  # (Encounter object (identified), patient reference, version) -> Prepared resource


def build(message: Message, ctx: FhirContext) -> None:
    p = message.patient
    if p is not None and (p.identifiers or p.names or p.birth_date or p.sex):
        if p.identity_unknown:
            ctx.note("fhir.identity-unknown", "PID-31", "PID-31 = 'Y' (identity unknown): this Patient is made for "
                     "this message only and matched to no other by its PID-3 identifiers", severity="info")
        if p.identified and ctx.shares:  # an identified patient recurs from message to message
            hit = _PATIENTS.get(id(p))
            if hit is None:
                res, cond = _patient(p, message)
                hit = _PATIENTS.put(id(p), (ctx.prepare(res), cond), keep=p)
            ctx.patient_ref = ctx.add(hit[0], if_none_exist=hit[1])
        else:
            res, cond = _patient(p, message)
            ctx.patient_ref = ctx.add(res, if_none_exist=cond)
        _notes(p, ctx)
    e = message.encounter
    if e is not None:
        _encounter(message, ctx)


def _notes(p: Patient, ctx: FhirContext) -> None:
    """What of PID-6 / PID-11 the Patient resource cannot hold (nothing dropped silently)."""
    if len(p.mothers_maiden_names) > 1:
        ctx.note("fhir.mothers-maiden-name", "PID-6", f"{len(p.mothers_maiden_names) - 1} further repetition(s) of "
                 "PID-6 not placed: extension patient-mothersMaidenName holds one name", severity="info")
    for n, a in enumerate(p.addresses, 1):
        code = (a.type or "").upper()
        if code and code not in ADDRESS_USE and code not in ADDRESS_TYPE:
            ctx.note("fhir.address-type", f"PID-11[{n}].7", f"address type {a.type!r} (HL7 table 0190) has no "
                     "Address.use or Address.type in the v2-to-FHIR IG ConceptMaps AddressType", severity="info")



def _patient(p: Patient, message: Message) -> tuple[dict[str, Any], str | None]:
    """The Patient resource and its conditional-create query (transaction Bundles)."""
    first = p.identifiers[0] if p.identified else None
    key = (first.system or first.assigner, first.value, first.type) if first else \
        (message.raw.sha256 if message.raw else message.control_id, "patient")
    res: dict[str, Any] = {"resourceType": "Patient", "id": stable_id("Patient", *key)}
    maiden = [n.family or " ".join(n.given) for n in p.mothers_maiden_names]
    if maiden and maiden[0]:
        # PID-6 → extension patient-mothersMaidenName (0..1, valueString = XPN-1, v2-to-FHIR IG PID → Patient
        # and XPN → string); a further repetition has no place in the extension
        res["extension"] = [{"url": MOTHERS_MAIDEN_NAME, "valueString": maiden[0]}]
    if p.identifiers:
        res["identifier"] = [fd.identifier(i) for i in p.identifiers]
    if p.names:
        res["name"] = [fd.human_name(n) for n in p.names]
    if p.sex:
        res["gender"] = GENDER.get(p.sex.upper(), "unknown")
    if p.birth_date:
        res["birthDate"] = fd.date(p.birth_date)
    if p.addresses:
        res["address"] = [_address(a, message) for a in p.addresses]
    cond = None
    if first and first.system:
        cond = f"identifier={first.system}|{first.value}"
    return res, cond


def _address(a: Address, message: Message) -> dict[str, Any]:
    """XAD → Address (v2-to-FHIR IG ConceptMap XAD → Address): lines, city, district, state, postal code,
    country, XAD-7 → use or type, XAD-12/13/14 → period."""
    out: dict[str, Any] = {}
    code = (a.type or "").upper()
    if code in ADDRESS_USE:
        out["use"] = ADDRESS_USE[code]
    if code in ADDRESS_TYPE:
        out["type"] = ADDRESS_TYPE[code]
    if a.lines:
        out["line"] = list(a.lines)
    for key, value in (("city", a.city), ("district", a.district), ("state", a.state),
                       ("postalCode", a.postal_code), ("country", a.country)):
        if value:
            out[key] = value
    if a.start or a.end:
        tz = sender_zone(message.standard, message.sent)
        out["period"] = {k: fd.date_time(t, tz)[0] for k, t in (("start", a.start), ("end", a.end)) if t}
    return out


def _encounter(message: Message, ctx: FhirContext) -> None:
    e = message.encounter
    assert e is not None
    # An identified visit, and a visit without a visit number (PV1-19) of an identified patient, recur
    # from message to message: the latter is the patient's stay of that class at that location since
    # that admission (PV1-2/3/44), so a monitor's feed makes one Encounter, not one per message.
    p = message.patient
    recurs = bool(e.identifiers) or ctx.patient_ref is not None and p is not None and p.identified
    shared = recurs and ctx.shares
    key = (id(e), ctx.patient_ref, ctx.version)
    if shared:
        hit = _ENCOUNTERS.get(key)
        if hit is not None:
            ctx.encounter_ref = ctx.add(hit)
            return
    first = e.identifiers[0] if e.identifiers else None
    if first is not None:
        identity: tuple = (first.system or first.assigner, first.value)
    elif recurs:
        identity = (ctx.patient_ref, e.patient_class, e.location.text if e.location else None,
                    e.admit_time.raw if e.admit_time else None)
    else:
        identity = (ctx.patient_ref, message.control_id)
    res: dict[str, Any] = {"resourceType": "Encounter", "id": stable_id("Encounter", *identity), "status": "unknown"}
    if e.identifiers:
        res["identifier"] = [fd.identifier(i) for i in e.identifiers]
    cls = PATIENT_CLASS.get((e.patient_class or "").upper())
    if cls:
        coding = {"system": ACT_CODE, "code": cls[0], "display": cls[1]}
        res["class"] = [{"coding": [coding]}] if ctx.r5 else coding
    elif not ctx.r5:
        ctx.note("fhir.encounter-class", "PV1-2", "patient class missing or unmapped; R4 Encounter.class "
                 "requires one, so the Encounter is not emitted", severity="info")
        return
    if ctx.patient_ref:
        res["subject"] = ctx.reference(ctx.patient_ref)
    if e.location and e.location.text:
        res["location"] = [{"location": {"display": e.location.text}}]
    if shared:
        res = _ENCOUNTERS.put(key, ctx.prepare(res), keep=e)
    ctx.encounter_ref = ctx.add(res)
