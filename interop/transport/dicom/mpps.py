"""Modality Performed Procedure Step SCP state (PS3.4 Annex F.7): N-CREATE then N-SET until final."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
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


# Events: the DIMSE operation, and for N-SET the Performed Procedure Step Status it sets.
N_CREATE, N_SET, N_SET_COMPLETED, N_SET_DISCONTINUED = "N-CREATE", "N-SET", "N-SET COMPLETED", "N-SET DISCONTINUED"
NO_INSTANCE = None  # state of a UID the SCP does not manage

TRANSITION_TABLE: dict[tuple[str, str | None], tuple[str | None, int]] = {
    # (event, state) -> (next state, DIMSE status); PS3.4 F.7.2.1 (N-CREATE) and F.7.2.2 (N-SET)
    (N_CREATE, NO_INSTANCE): (IN_PROGRESS, SUCCESS),
    (N_CREATE, IN_PROGRESS): (IN_PROGRESS, DUPLICATE_SOP_INSTANCE),
    (N_CREATE, COMPLETED): (COMPLETED, DUPLICATE_SOP_INSTANCE),
    (N_CREATE, DISCONTINUED): (DISCONTINUED, DUPLICATE_SOP_INSTANCE),
    (N_SET, NO_INSTANCE): (NO_INSTANCE, NO_SUCH_OBJECT_INSTANCE),
    (N_SET_COMPLETED, NO_INSTANCE): (NO_INSTANCE, NO_SUCH_OBJECT_INSTANCE),
    (N_SET_DISCONTINUED, NO_INSTANCE): (NO_INSTANCE, NO_SUCH_OBJECT_INSTANCE),
    (N_SET, IN_PROGRESS): (IN_PROGRESS, SUCCESS),
    (N_SET_COMPLETED, IN_PROGRESS): (COMPLETED, SUCCESS),
    (N_SET_DISCONTINUED, IN_PROGRESS): (DISCONTINUED, SUCCESS),
    # "Once the MPPS is COMPLETED or DISCONTINUED the SCP shall no longer accept N-SET" (F.7.2.2)
    (N_SET, COMPLETED): (COMPLETED, PROCESSING_FAILURE),
    (N_SET_COMPLETED, COMPLETED): (COMPLETED, PROCESSING_FAILURE),
    (N_SET_DISCONTINUED, COMPLETED): (COMPLETED, PROCESSING_FAILURE),
    (N_SET, DISCONTINUED): (DISCONTINUED, PROCESSING_FAILURE),
    (N_SET_COMPLETED, DISCONTINUED): (DISCONTINUED, PROCESSING_FAILURE),
    (N_SET_DISCONTINUED, DISCONTINUED): (DISCONTINUED, PROCESSING_FAILURE),
}


def _status_of(ds: Any) -> str:
    return str(ds.get("PerformedProcedureStepStatus", "") or "").strip().upper()


class MppsTable:
    """The MPPS instances the SCP manages, keyed by SOP Instance UID; thread safe.

    With `persist`, each accepted N-CREATE / N-SET hands the step's new attribute list to it before the
    change takes effect and before the SCP answers (the node writes it to its durable store, so that an
    N-SET after a restart finds its step); when `persist` raises, the request fails with 0x0110
    (processing failure) and the step keeps its previous state. `restore` loads a persisted step."""

    def __init__(self, persist: Callable[[str, Any], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._steps: dict[str, Any] = {}  # uid -> pydicom Dataset (current attribute values)
        self.persist = persist

    def restore(self, uid: str, ds: Any) -> None:
        """Load a step kept from an earlier run (its current attribute list)."""
        with self._lock:
            self._steps[uid] = ds

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps)

    def _commit(self, uid: str, ds: Any) -> int:
        if self.persist is not None:
            try:
                self.persist(uid, ds)
            except Exception:  # noqa: BLE001 - not durable: refuse, the SCU may try again
                return PROCESSING_FAILURE
        self._steps[uid] = ds
        return SUCCESS

    def state(self, uid: str) -> str | None:
        """Current Performed Procedure Step Status of `uid`, or None when unknown."""
        with self._lock:
            ds = self._steps.get(uid)
            return _status_of(ds) if ds is not None else NO_INSTANCE

    def n_create(self, uid: str | None, attributes: Any) -> tuple[int, Any]:
        """F.7.2.1: create an instance in state IN PROGRESS; returns (status, attribute list)."""
        if not uid:
            return MISSING_ATTRIBUTE, None
        if _status_of(attributes) != IN_PROGRESS:
            return INVALID_ATTRIBUTE_VALUE, None
        with self._lock:
            current = _status_of(self._steps[uid]) if uid in self._steps else NO_INSTANCE
            _, status = TRANSITION_TABLE[(N_CREATE, current)]
            if status != SUCCESS:
                return status, None
            ds = attributes.copy()
            ds.SOPInstanceUID = uid
            status = self._commit(uid, ds)
        return status, ds if status == SUCCESS else None

    def n_set(self, uid: str, modifications: Any) -> tuple[int, Any]:
        """F.7.2.2: update a step that is still IN PROGRESS; returns (status, attribute list)."""
        new = _status_of(modifications) if "PerformedProcedureStepStatus" in modifications else ""
        event = {"": N_SET, IN_PROGRESS: N_SET, COMPLETED: N_SET_COMPLETED, DISCONTINUED: N_SET_DISCONTINUED}.get(new)
        if event is None:
            return INVALID_ATTRIBUTE_VALUE, None
        with self._lock:
            ds = self._steps.get(uid)
            current = _status_of(ds) if ds is not None else NO_INSTANCE
            _, status = TRANSITION_TABLE[(event, current)]
            if status != SUCCESS:
                return status, None
            new = copy.deepcopy(ds)  # Dataset.copy() shares its elements: a refused change must not leak in
            for elem in modifications:
                new[elem.tag] = elem
            status = self._commit(uid, new)
            return status, new if status == SUCCESS else None

    def studies(self, uid: str) -> list[str]:
        """Study Instance UIDs step `uid` refers to (its Scheduled Step Attributes Sequence)."""
        with self._lock:
            ds = self._steps.get(uid)
        if ds is None:
            return []
        out = []
        for item in ds.get("ScheduledStepAttributesSequence", None) or []:
            study = str(item.get("StudyInstanceUID", "") or "").strip()
            if study and study not in out:
                out.append(study)
        return out

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
