"""Patient, study/series/instance and equipment modules of one dataset → canonical `Message`.

`decode_dataset` is the entry point for both Part 10 files (via `DicomCodec`) and datasets received over
the network (the DICOM node calls it with the dataset pynetdicom decoded).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from interop.model import (
    SNOMED_SYSTEM,
    CodeableConcept,
    Coding,
    Device,
    Endpoint,
    Identifier,
    ImagingStudy,
    Instance,
    Message,
    Metric,
    Patient,
    Practitioner,
    ProductionSpec,
    Report,
    Series,
)

from .codes import LATERALITY
from .construct import build
from .elements import Context, remembered, tag_source, tag_str
from .sr import decode_report

if TYPE_CHECKING:
    from pydicom import Dataset

# Tags read here (PS3.6 names).
SOP_CLASS_UID, SOP_INSTANCE_UID = 0x00080016, 0x00080018
INSTANCE_CREATION_DATE, INSTANCE_CREATION_TIME = 0x00080012, 0x00080013
STUDY_DATE, SERIES_DATE, CONTENT_DATE = 0x00080020, 0x00080021, 0x00080023
STUDY_TIME, SERIES_TIME, CONTENT_TIME = 0x00080030, 0x00080031, 0x00080033
ACCESSION_NUMBER, MODALITY = 0x00080050, 0x00080060
MANUFACTURER, INSTITUTION_NAME, REFERRING_PHYSICIAN_NAME = 0x00080070, 0x00080080, 0x00080090
STATION_NAME, STUDY_DESCRIPTION, SERIES_DESCRIPTION = 0x00081010, 0x00081030, 0x0008103E
PERFORMING_PHYSICIAN_NAME, OPERATORS_NAME, MANUFACTURER_MODEL_NAME = 0x00081050, 0x00081070, 0x00081090
PROCEDURE_CODE_SEQUENCE, ANATOMIC_REGION_SEQUENCE = 0x00081032, 0x00082218
PATIENT_NAME, PATIENT_ID, ISSUER_OF_PATIENT_ID = 0x00100010, 0x00100020, 0x00100021
PATIENT_BIRTH_DATE, PATIENT_SEX = 0x00100030, 0x00100040
BODY_PART_EXAMINED, DEVICE_SERIAL_NUMBER, DEVICE_UID = 0x00180015, 0x00181000, 0x00181002
UDI_SEQUENCE, UNIQUE_DEVICE_IDENTIFIER, SOFTWARE_VERSIONS = 0x0018100A, 0x00181009, 0x00181020
STUDY_INSTANCE_UID, SERIES_INSTANCE_UID, STUDY_ID = 0x0020000D, 0x0020000E, 0x00200010
SERIES_NUMBER, INSTANCE_NUMBER, LATERALITY_TAG, IMAGE_LATERALITY = 0x00200011, 0x00200013, 0x00200060, 0x00200062
REASON_FOR_STUDY, REQUESTED_PROCEDURE_DESCRIPTION = 0x00321030, 0x00321060
REASON_FOR_REQUESTED_PROCEDURE = 0x00401002
PPS_STATUS = 0x00400252
CONTENT_SEQUENCE, CONCEPT_NAME_CODE_SEQUENCE, WAVEFORM_SEQUENCE = 0x0040A730, 0x0040A043, 0x54000100

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
DEVICE_KEY = "1"
DICOM_UID_SYSTEM = "urn:dicom:uid"


def decode_dataset(ds: Dataset, *, strict: bool = False, source: str | None = None,
                   transfer_syntax: str | None = None, sending_ae: str | None = None) -> Message:
    """One composite instance (image, SR, waveform ...) or an MPPS dataset → canonical `Message`."""
    ctx = Context.for_dataset(ds, strict=strict, source=source)
    sop_class = ctx.text(ds, SOP_CLASS_UID)
    if sop_class == MPPS_SOP_CLASS or (sop_class is None and PPS_STATUS in ds):
        from .mpps import decode_mpps

        operation = "N-CREATE" if PPS_STATUS in ds and ctx.text(ds, PPS_STATUS) == "IN PROGRESS" else "N-SET"
        return decode_mpps(ds, sop_instance_uid=ctx.text(ds, SOP_INSTANCE_UID), operation=operation,
                           strict=strict, source=source, sending_ae=sending_ae, ctx=ctx)
    return _composite(ds, ctx, sop_class, transfer_syntax, sending_ae)


def _composite(ds: Dataset, ctx: Context, sop_class: str | None, transfer_syntax: str | None,
               sending_ae: str | None) -> Message:
    sop_uid = ctx.text(ds, SOP_INSTANCE_UID)
    if sop_uid is None:
        ctx.missing("", SOP_INSTANCE_UID, "SOP Instance UID")
    if sop_class is None:
        ctx.missing("", SOP_CLASS_UID, "SOP Class UID")
    device = equipment(ds, ctx)
    device_key = device.key if device else None
    metrics: list[Metric] = []
    reports: list[Report] = []
    title = None
    if CONTENT_SEQUENCE in ds and CONCEPT_NAME_CODE_SEQUENCE in ds:
        report, report_metrics = decode_report(ds, ctx, device_key=device_key)
        reports.append(report)
        metrics.extend(report_metrics)
        title = report.title.codings[0].display if report.title.codings else report.title.text
    if WAVEFORM_SEQUENCE in ds:
        from .waveform import decode_waveforms

        metrics.extend(decode_waveforms(ds, ctx, device_key=device_key))
    instance = build(Instance, sop_instance_uid=sop_uid or "", sop_class_uid=sop_class or "",
                                        number=ctx.integer(ds, INSTANCE_NUMBER), title=title,
                                        source=tag_source(SOP_INSTANCE_UID))
    people = practitioners(ds, ctx)
    study = imaging_study(ds, ctx, instance, device_key, people)
    return build(Message,
        standard="dicom",
        version=transfer_syntax,
        message_type=sop_class_name(sop_class),
        control_id=sop_uid,
        sending=build(Endpoint, application=sending_ae) if sending_ae else None,
        sent=ctx.timestamp(ds, INSTANCE_CREATION_DATE, INSTANCE_CREATION_TIME),
        patient=patient(ds, ctx),
        practitioners=people,
        devices=(device,) if device else (),
        metrics=tuple(metrics),
        imaging_study=study,
        reports=tuple(reports),
        issues=tuple(ctx.issues),
    )


@lru_cache(maxsize=256)
def sop_class_name(uid: str | None) -> str | None:
    """PS3.6 name of a SOP Class UID ("CT Image Storage"), else the UID itself."""
    if uid is None:
        return None
    from pydicom.uid import UID

    name = UID(uid).name
    return name if name and name != uid else uid


_PATIENT_TAGS = (PATIENT_NAME, PATIENT_ID, ISSUER_OF_PATIENT_ID, PATIENT_BIRTH_DATE, PATIENT_SEX)
_EQUIPMENT_TAGS = (MANUFACTURER, STATION_NAME, MANUFACTURER_MODEL_NAME, DEVICE_SERIAL_NUMBER, UDI_SEQUENCE,
                   UNIQUE_DEVICE_IDENTIFIER, DEVICE_UID, SOFTWARE_VERSIONS)
_PRACTITIONER_TAGS = (REFERRING_PHYSICIAN_NAME, PERFORMING_PHYSICIAN_NAME, OPERATORS_NAME)


def patient(ds: Dataset, ctx: Context) -> Patient | None:
    """Patient module: (0010,0020) + issuer, (0010,0010) names, birth date, sex (remembered: a study's
    instances name the same patient)."""
    return remembered(ds, ctx, "patient", _PATIENT_TAGS, None, lambda: _patient(ds, ctx))


def _patient(ds: Dataset, ctx: Context) -> Patient | None:
    pid = ctx.text(ds, PATIENT_ID)
    names = ctx.person_names(ds, PATIENT_NAME)
    birth = ctx.timestamp(ds, PATIENT_BIRTH_DATE, 0)
    sex = ctx.text(ds, PATIENT_SEX)
    if not (pid or names or birth or sex):
        return None
    identifiers = ()
    if pid:
        issuer = ctx.text(ds, ISSUER_OF_PATIENT_ID)
        identifiers = (build(Identifier, value=pid, system=None, type="MR", assigner=issuer),)
    return build(Patient, identifiers=identifiers, names=names, birth_date=birth, sex=sex,
                                   source=tag_source(PATIENT_ID))


def equipment(ds: Dataset, ctx: Context, *, key: str = DEVICE_KEY) -> Device | None:
    """General Equipment module (+ Device UID, UDI Sequence) → one MDS-level Device, or None if absent
    (remembered: a modality sends the same equipment in every instance)."""
    return remembered(ds, ctx, "equipment", _EQUIPMENT_TAGS, key, lambda: _equipment(ds, ctx, key))


def _equipment(ds: Dataset, ctx: Context, key: str) -> Device | None:
    manufacturer = ctx.text(ds, MANUFACTURER)
    model = ctx.text(ds, MANUFACTURER_MODEL_NAME)
    station = ctx.text(ds, STATION_NAME)
    serial = ctx.text(ds, DEVICE_SERIAL_NUMBER)
    device_uid = ctx.text(ds, DEVICE_UID)
    versions = ctx.texts(ds, SOFTWARE_VERSIONS)
    identifiers: list[Identifier] = []
    if serial:
        identifiers.append(build(Identifier, value=serial, system=None, type="SNO", assigner=None))
    if device_uid:
        identifiers.append(build(Identifier, value=f"urn:oid:{device_uid}", system=DICOM_UID_SYSTEM,
                                                      type=None, assigner=None))
    for i, item in enumerate(ctx.sequence(ds, UDI_SEQUENCE)):
        udi = ctx.text(item, UNIQUE_DEVICE_IDENTIFIER, f"{tag_str(UDI_SEQUENCE)}[{i}].")
        if udi:
            identifiers.append(build(Identifier, value=udi, system=None, type="UDI", assigner=None))
        else:
            ctx.missing(f"{tag_str(UDI_SEQUENCE)}[{i}].", UNIQUE_DEVICE_IDENTIFIER, "Unique Device Identifier")
    if not (manufacturer or model or station or identifiers or versions):
        return None
    return build(Device,
        key=key, level="mds", identifiers=tuple(identifiers), manufacturer=manufacturer, model=model,
        name=station,
        production_specs=tuple(build(ProductionSpec, kind="sw-revision", value=v, component_id=0)
                               for v in versions),
        source=tag_source(MANUFACTURER),
    )


def practitioners(ds: Dataset, ctx: Context) -> tuple[Practitioner, ...]:
    """Referring physician, performing physicians and operators as named in the dataset (remembered)."""
    return remembered(ds, ctx, "practitioners", _PRACTITIONER_TAGS, None, lambda: _practitioners(ds, ctx))


def _practitioners(ds: Dataset, ctx: Context) -> tuple[Practitioner, ...]:
    out = []
    for role, tag in (("referring", REFERRING_PHYSICIAN_NAME), ("performing", PERFORMING_PHYSICIAN_NAME),
                      ("operator", OPERATORS_NAME)):
        for name in ctx.person_names(ds, tag):
            out.append(build(Practitioner, role=role, identifiers=(), names=(name,),
                                                    source=tag_source(tag)))
    return tuple(out)


def laterality(ds: Dataset, ctx: Context) -> CodeableConcept | None:
    """(0020,0060) Laterality or (0020,0062) Image Laterality as SNOMED CT (CID 244)."""
    for tag in (LATERALITY_TAG, IMAGE_LATERALITY):
        value = ctx.text(ds, tag)
        if not value:
            continue
        code = LATERALITY.get(value.upper())
        if code is None:
            if value.upper() != "U":  # U = unpaired body part: no laterality to state
                ctx.problem(tag_str(tag), "dicom.bad-value", "laterality is not one of R, L, B, U",
                            expected="R, L, B or U", severity="warning")
            return None
        coding = build(Coding, system=SNOMED_SYSTEM, code=code[0], display=code[1], version=None)
        return build(CodeableConcept, codings=(coding,), text=value)
    return None


def body_site(ds: Dataset, ctx: Context) -> CodeableConcept | None:
    """Anatomic Region Sequence codings with (0018,0015) Body Part Examined as text."""
    return ctx.concept(ds, ANATOMIC_REGION_SEQUENCE, text=ctx.text(ds, BODY_PART_EXAMINED))


def imaging_study(ds: Dataset, ctx: Context, instance: Instance, device_key: str | None,
                  people: tuple[Practitioner, ...] = ()) -> ImagingStudy | None:
    """General Study + General Series modules with this one instance (`people`: from `practitioners`)."""
    study_uid = ctx.text(ds, STUDY_INSTANCE_UID)
    series_uid = ctx.text(ds, SERIES_INSTANCE_UID)
    modality = ctx.text(ds, MODALITY)
    if study_uid is None:
        ctx.missing("", STUDY_INSTANCE_UID, "Study Instance UID")
        return None
    series: tuple[Series, ...] = ()
    if series_uid is None:
        ctx.missing("", SERIES_INSTANCE_UID, "Series Instance UID")
    else:
        if modality is None:
            ctx.missing("", MODALITY, "Modality")
        operators = [p.names[0] for p in people if p.role == "operator"]
        series = (build(Series,
            uid=series_uid, modality=modality or "OT", number=ctx.integer(ds, SERIES_NUMBER),
            description=ctx.text(ds, SERIES_DESCRIPTION), body_site=body_site(ds, ctx),
            laterality=laterality(ds, ctx), started=ctx.timestamp(ds, SERIES_DATE, SERIES_TIME),
            device_key=device_key, performer=_name_text(operators[0]) if operators else None,
            instances=(instance,) if instance.sop_instance_uid else (),
        ),)
    identifiers = []
    accession = ctx.text(ds, ACCESSION_NUMBER)
    if accession:
        identifiers.append(build(Identifier, value=accession, system=None, type="ACSN", assigner=None))
    study_id = ctx.text(ds, STUDY_ID)
    if study_id:
        identifiers.append(build(Identifier, value=study_id, system=None, type="STUDYID", assigner=None))
    referrer = [p.names[0] for p in people if p.role == "referring"]
    return build(ImagingStudy,
        uid=study_uid, identifiers=tuple(identifiers), description=ctx.text(ds, STUDY_DESCRIPTION),
        started=ctx.timestamp(ds, STUDY_DATE, STUDY_TIME),
        procedure_codes=ctx.concepts(ds, PROCEDURE_CODE_SEQUENCE),
        reason=(ctx.text(ds, REASON_FOR_REQUESTED_PROCEDURE) or ctx.text(ds, REASON_FOR_STUDY)
                or ctx.text(ds, REQUESTED_PROCEDURE_DESCRIPTION)),
        referrer=_name_text(referrer[0]) if referrer else None,
        series=series,
        source=tag_source(STUDY_INSTANCE_UID),
    )


def _name_text(name) -> str:
    if name.text:
        return name.text
    return " ".join(p for p in (name.prefix, *name.given, name.family, name.suffix) if p)
