"""Modality Performed Procedure Step (PS3.4 Annex F.7): N-CREATE / N-SET datasets → `ProcedureStep`.

The MPPS instance UID travels in the DIMSE command (Affected/Requested SOP Instance UID), not in the
dataset, so the caller passes it. An N-SET without (0040,0252) leaves the step IN PROGRESS: once
COMPLETED or DISCONTINUED an MPPS accepts no further N-SET (PS3.4 F.7.2.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from interop.model import Device, Endpoint, Message, ProcedureStep

from .construct import build
from .elements import Context, tag_source, tag_str

if TYPE_CHECKING:
    from pydicom import Dataset

MODALITY, PROCEDURE_CODE_SEQUENCE = 0x00080060, 0x00081032
STUDY_INSTANCE_UID = 0x0020000D
PERFORMED_STATION_AE_TITLE, PERFORMED_STATION_NAME = 0x00400241, 0x00400242
PPS_START_DATE, PPS_START_TIME, PPS_END_DATE, PPS_END_TIME = 0x00400244, 0x00400245, 0x00400250, 0x00400251
PPS_STATUS, PPS_ID, PPS_DESCRIPTION = 0x00400252, 0x00400253, 0x00400254
SCHEDULED_STEP_ATTRIBUTES_SEQUENCE, DISCONTINUATION_REASON = 0x00400270, 0x00400281

STATUSES = ("IN PROGRESS", "COMPLETED", "DISCONTINUED")


def decode_procedure_step(ds: Dataset, ctx: Context, *, sop_instance_uid: str | None,
                          operation: Literal["N-CREATE", "N-SET"] = "N-CREATE",
                          device_key: str | None = None) -> ProcedureStep:
    """The `ProcedureStep` an N-CREATE or N-SET dataset describes."""
    if not sop_instance_uid:
        ctx.missing("", 0x00001000, "Affected SOP Instance UID of the MPPS")
    status = ctx.text(ds, PPS_STATUS)
    if status is None:
        if operation == "N-CREATE":
            ctx.missing("", PPS_STATUS, "Performed Procedure Step Status")
        status = "IN PROGRESS"
    elif status not in STATUSES:
        ctx.problem(tag_str(PPS_STATUS), "dicom.bad-value", "Performed Procedure Step Status is not a defined term",
                    expected=", ".join(STATUSES))
    study_uids: list[str] = []
    for i, item in enumerate(ctx.sequence(ds, SCHEDULED_STEP_ATTRIBUTES_SEQUENCE)):
        uid = ctx.text(item, STUDY_INSTANCE_UID, f"{tag_str(SCHEDULED_STEP_ATTRIBUTES_SEQUENCE)}[{i}].")
        if uid and uid not in study_uids:
            study_uids.append(uid)
    reasons = ctx.concepts(ds, DISCONTINUATION_REASON)
    return build(ProcedureStep,
        uid=sop_instance_uid or "", status=status, step_id=ctx.text(ds, PPS_ID),
        description=ctx.text(ds, PPS_DESCRIPTION), modality=ctx.text(ds, MODALITY),
        started=ctx.timestamp(ds, PPS_START_DATE, PPS_START_TIME),
        ended=ctx.timestamp(ds, PPS_END_DATE, PPS_END_TIME), study_uids=tuple(study_uids),
        procedure_codes=ctx.concepts(ds, PROCEDURE_CODE_SEQUENCE),
        discontinuation_reason=reasons[0] if reasons else None, device_key=device_key,
        source=tag_source(PPS_STATUS),
    )


def decode_mpps(ds: Dataset, *, sop_instance_uid: str | None, operation: Literal["N-CREATE", "N-SET"] = "N-CREATE",
                strict: bool = False, source: str | None = None, sending_ae: str | None = None,
                ctx: Context | None = None) -> Message:
    """A Message carrying the step, the patient (N-CREATE) and the performing station as a Device."""
    from .header import patient

    ctx = ctx or Context.for_dataset(ds, strict=strict, source=source)
    station = ctx.text(ds, PERFORMED_STATION_NAME)
    device = build(Device, key="1", level="mds", name=station,
                                    source=tag_source(PERFORMED_STATION_NAME)
                                    ) if station else None
    step = decode_procedure_step(ds, ctx, sop_instance_uid=sop_instance_uid, operation=operation,
                                 device_key=device.key if device else None)
    ae = sending_ae or ctx.text(ds, PERFORMED_STATION_AE_TITLE)
    return build(Message,
        standard="dicom", message_type=f"MPPS {operation}", control_id=sop_instance_uid,
        sending=build(Endpoint, application=ae) if ae else None,
        patient=patient(ds, ctx), devices=(device,) if device else (), procedure_steps=(step,),
        issues=tuple(ctx.issues),
    )
