"""Imaging: study → series → instances, structured report content and procedure steps (DICOM)."""

from __future__ import annotations

from .common import CodeableConcept, Frozen, Identifier, Quantity, SourceRef, Timestamp


class Instance(Frozen, kw_only=True):
    """One SOP instance."""

    sop_instance_uid: str  # (0008,0018)
    sop_class_uid: str  # (0008,0016)
    number: int | None = None  # InstanceNumber (0020,0013)
    title: str | None = None  # document title / SR concept name meaning
    source: SourceRef | None = None


class Series(Frozen, kw_only=True):
    """One series of a study."""

    uid: str  # SeriesInstanceUID (0020,000E)
    modality: str  # Modality (0008,0060), DICOM DCM code
    number: int | None = None  # SeriesNumber
    description: str | None = None  # SeriesDescription
    body_site: CodeableConcept | None = None  # BodyPartExamined / AnatomicRegionSequence
    laterality: CodeableConcept | None = None  # (Image)Laterality
    started: Timestamp | None = None  # SeriesDate + SeriesTime
    device_key: str | None = None  # `Device.key` of the equipment that produced the series
    performer: str | None = None  # OperatorsName / PerformingPhysicianName (masked on output when asked)
    instances: tuple[Instance, ...] = ()


class ImagingStudy(Frozen, kw_only=True):
    """A study and everything of it that arrived."""

    uid: str  # StudyInstanceUID (0020,000D)
    identifiers: tuple[Identifier, ...] = ()  # accession number, StudyID
    description: str | None = None  # StudyDescription
    started: Timestamp | None = None  # StudyDate + StudyTime (+ TimezoneOffsetFromUTC)
    procedure_codes: tuple[CodeableConcept, ...] = ()  # ProcedureCodeSequence
    reason: str | None = None  # ReasonForPerformedProcedure / requested procedure description
    referrer: str | None = None  # ReferringPhysicianName (as text)
    series: tuple[Series, ...] = ()
    source: SourceRef | None = None


class ContentItem(Frozen, kw_only=True):
    """One node of a DICOM SR content tree."""

    relationship: str | None = None  # CONTAINS, HAS PROPERTIES, INFERRED FROM, HAS OBS CONTEXT ...
    value_type: str  # CONTAINER, NUM, CODE, TEXT, DATETIME, UIDREF, PNAME, IMAGE, COMPOSITE ...
    concept: CodeableConcept | None = None  # ConceptNameCodeSequence
    text: str | None = None  # TEXT / UIDREF / PNAME / DATETIME value as text
    code: CodeableConcept | None = None  # CODE value
    quantity: Quantity | None = None  # NUM value
    template: str | None = None  # TemplateIdentifier on containers (e.g. "1500")
    children: tuple[ContentItem, ...] = ()
    source: SourceRef | None = None  # tag path, e.g. "(0040,A730)[2].(0040,A730)[0]"


class Report(Frozen, kw_only=True):
    """A structured report (DICOM SR): its title, status and content tree.

    Measurements in the tree are also emitted as `Message.metrics` (with `group` = container path).
    """

    title: CodeableConcept  # root ConceptNameCodeSequence (e.g. DCM 126000 Imaging Measurement Report)
    template: str | None = None  # root TemplateIdentifier ("1500", "10001", "10011")
    completion: str | None = None  # CompletionFlag (PARTIAL / COMPLETE)
    verification: str | None = None  # VerificationFlag (UNVERIFIED / VERIFIED)
    issued: Timestamp | None = None  # ContentDate + ContentTime
    instance_uid: str | None = None  # SOP instance of the SR document
    study_uid: str | None = None  # study the report belongs to
    root: ContentItem | None = None  # the content tree
    source: SourceRef | None = None


class ProcedureStep(Frozen, kw_only=True):
    """A performed procedure step (DICOM MPPS N-CREATE / N-SET)."""

    uid: str  # affected SOP instance UID of the MPPS
    status: str  # PerformedProcedureStepStatus: IN PROGRESS, COMPLETED, DISCONTINUED
    step_id: str | None = None  # PerformedProcedureStepID
    description: str | None = None  # PerformedProcedureStepDescription
    modality: str | None = None
    started: Timestamp | None = None
    ended: Timestamp | None = None
    study_uids: tuple[str, ...] = ()  # referenced studies (ScheduledStepAttributesSequence)
    procedure_codes: tuple[CodeableConcept, ...] = ()
    discontinuation_reason: CodeableConcept | None = None
    device_key: str | None = None
    source: SourceRef | None = None
