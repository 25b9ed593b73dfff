"""Modality Performed Procedure Step SCP state (PS3.4 Annex F.7): N-CREATE then N-SET until final."""

from __future__ import annotations

import threading
from typing import Any

from interop.model import ProcedureStep

IN_PROGRESS, COMPLETED, DISCONTINUED = "IN PROGRESS", "COMPLETED", "DISCONTINUED"
FINAL = (COMPLETED, DISCONTINUED)

# DIMSE status codes (PS3.7 Annex C; PS3.4 F.7.2.1.2 / F.7.2.2.2)
SUCCESS = 0x0000
PROCESSING_FAILURE = 0x0110  # N-SET on a step that is already COMPLETED or DISCONTINUED
NO_SUCH_OBJECT_INSTANCE = 0x0112
DUPLICATE_SOP_INSTANCE = 0x0111
INVALID_ATTRIBUTE_VALUE = 0x0106  # N-CREATE with a status other than IN PROGRESS
MISSING_ATTRIBUTE = 0x0120  # N-CREATE without an SOP instance UID (we do not assign one)


class MppsTable:
    """The MPPS instances the SCP manages, keyed by SOP Instance UID; thread safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[str, Any] = {}  # uid -> pydicom Dataset (current attribute values)

    def n_create(self, uid: str | None, attributes: Any) -> tuple[int, Any]:
        """F.7.2.1: create an instance in state IN PROGRESS; returns (status, attribute list)."""
        if not uid:
            return MISSING_ATTRIBUTE, None
        status = str(attributes.get("PerformedProcedureStepStatus", "") or "").upper()
        if status != IN_PROGRESS:
            return INVALID_ATTRIBUTE_VALUE, None
        with self._lock:
            if uid in self._steps:
                return DUPLICATE_SOP_INSTANCE, None
            ds = attributes.copy()
            ds.SOPInstanceUID = uid
            self._steps[uid] = ds
        return SUCCESS, ds

    def n_set(self, uid: str, modifications: Any) -> tuple[int, Any]:
        """F.7.2.2: update a step that is still IN PROGRESS; returns (status, attribute list)."""
        with self._lock:
            ds = self._steps.get(uid)
            if ds is None:
                return NO_SUCH_OBJECT_INSTANCE, None
            if str(ds.get("PerformedProcedureStepStatus", "")).upper() in FINAL:
                return PROCESSING_FAILURE, None
            for elem in modifications:
                ds[elem.tag] = elem
            return SUCCESS, ds

    def steps_for_study(self, study_uid: str) -> list[ProcedureStep]:
        """Canonical steps that reference `study_uid`."""
        with self._lock:
            datasets = list(self._steps.items())
        out = []
        for uid, ds in datasets:
            try:
                step = to_procedure_step(uid, ds)
            except Exception:  # noqa: BLE001 - a step the codec cannot read is left out of the Bundle
                continue
            if study_uid in step.study_uids:
                out.append(step)
        return out


def to_procedure_step(uid: str, ds: Any) -> ProcedureStep:
    """Canonical `ProcedureStep` from the current MPPS attribute list (decoded by the DICOM codec)."""
    from interop.codecs.dicom.elements import Context
    from interop.codecs.dicom.mpps import decode_procedure_step

    return decode_procedure_step(ds, Context.for_dataset(ds, strict=False), sop_instance_uid=uid)
