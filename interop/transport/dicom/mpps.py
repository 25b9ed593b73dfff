"""Modality Performed Procedure Step SCP state (PS3.4 Annex F.7): N-CREATE then N-SET until final."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from interop.model import CodeableConcept, Coding, ProcedureStep, Timestamp

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
            step = to_procedure_step(uid, ds)
            if study_uid in step.study_uids:
                out.append(step)
        return out


def to_procedure_step(uid: str, ds: Any) -> ProcedureStep:
    """Canonical `ProcedureStep` from an MPPS attribute list (PS3.3 C.4.13-C.4.16 attributes)."""
    studies = tuple(dict.fromkeys(
        str(item.StudyInstanceUID) for item in ds.get("ScheduledStepAttributesSequence", []) or []
        if item.get("StudyInstanceUID")))
    reasons = ds.get("PerformedProcedureStepDiscontinuationReasonCodeSequence") or []
    return ProcedureStep(
        uid=uid,
        status=str(ds.get("PerformedProcedureStepStatus", "")).upper(),
        step_id=_text(ds.get("PerformedProcedureStepID")),
        description=_text(ds.get("PerformedProcedureStepDescription")),
        modality=_text(ds.get("Modality")),
        started=_timestamp(ds.get("PerformedProcedureStepStartDate"), ds.get("PerformedProcedureStepStartTime")),
        ended=_timestamp(ds.get("PerformedProcedureStepEndDate"), ds.get("PerformedProcedureStepEndTime")),
        study_uids=studies,
        procedure_codes=tuple(_code(item) for item in ds.get("ProcedureCodeSequence", []) or []),
        discontinuation_reason=_code(reasons[0]) if len(reasons) else None,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _code(item: Any) -> CodeableConcept:
    scheme = str(item.get("CodingSchemeDesignator", "") or "")
    system = {"DCM": "http://dicom.nema.org/resources/ontology/DCM", "SCT": "http://snomed.info/sct",
              "LN": "http://loinc.org"}.get(scheme, f"urn:dicom:coding-scheme:{scheme}" if scheme else None)
    code = str(item.get("CodeValue", "") or item.get("LongCodeValue", "") or "")
    meaning = _text(item.get("CodeMeaning"))
    if not code:
        return CodeableConcept(text=meaning)
    return CodeableConcept(codings=(Coding(system=system, code=code, display=meaning),))


_TM_PRECISION = {2: "hour", 4: "minute", 6: "second"}


def _timestamp(da: Any, tm: Any) -> Timestamp | None:
    """DA + TM (PS3.5 6.2) → Timestamp at the precision given; None when absent or malformed."""
    d = str(da or "").strip()
    if len(d) != 8 or not d.isdigit():
        return None
    t = str(tm or "").strip().replace(":", "")
    whole, _, frac = t.partition(".")
    try:
        if not whole:
            return Timestamp(value=datetime(int(d[:4]), int(d[4:6]), int(d[6:8])), precision="day", raw=d)
        if len(whole) not in _TM_PRECISION or not whole.isdigit():
            return None
        hh, mm, ss = int(whole[:2]), int(whole[2:4] or 0), int(whole[4:6] or 0)
        micro = int((frac + "000000")[:6]) if frac.isdigit() else 0
        precision = "microsecond" if frac.isdigit() and len(frac) > 3 else (
            "millisecond" if frac.isdigit() else _TM_PRECISION[len(whole)])
        value = datetime(int(d[:4]), int(d[4:6]), int(d[6:8]), hh, mm, ss, micro)
    except ValueError:
        return None
    return Timestamp(value=value, precision=precision, raw=f"{d}{t}")  # type: ignore[arg-type]
