"""Many instances of one study → one Message with one ImagingStudy; equipment de-duplicated."""

from __future__ import annotations

from collections.abc import Iterable

from interop.errors import DecodeError
from interop.model import Device, ImagingStudy, Instance, Issue, Message, Series, fields, replace

from .construct import build

STANDARD = "dicom"


def _device_identity(device: Device) -> tuple:
    return (device.identifiers, device.manufacturer, device.model, device.name, device.production_specs)


def merge_messages(messages: Iterable[Message]) -> Message:
    """Merge decoded instances of one study; series and instances sorted by number then UID."""
    messages = list(messages)
    if not messages:
        raise DecodeError("no instances to merge", standard=STANDARD, position="study",
                          expected="at least one decoded instance")
    studies = [m.imaging_study for m in messages if m.imaging_study is not None]
    uids = {s.uid for s in studies}
    if len(uids) > 1:
        raise DecodeError(f"instances belong to {len(uids)} different studies", standard=STANDARD,
                          position="(0020,000D)", expected="one Study Instance UID")
    devices: dict[tuple, Device] = {}
    series: dict[str, Series] = {}
    instances: dict[str, dict[str, Instance]] = {}
    metrics, reports, steps, issues, practitioners = [], [], [], [], []
    patient = None
    seen: set[str] = set()
    for m in messages:
        if m.control_id and m.imaging_study is not None:
            if m.control_id in seen:  # the same instance sent twice: its content is already merged
                continue
            seen.add(m.control_id)
        remap: dict[str, str] = {}
        for d in m.devices:
            ident = _device_identity(d)
            if ident not in devices:
                devices[ident] = replace(d, **{"key": str(len(devices) + 1)})
            remap[d.key] = devices[ident].key
        if patient is None:
            patient = m.patient
        elif m.patient is not None and m.patient.identifiers != patient.identifiers:
            issues.append(build(Issue, severity="error", code="dicom.patient-mismatch",
                                                location=f"[{m.control_id}] (0010,0020)",
                                                message="instance names a different patient than the first one",
                                                offset=None))
        for p in m.practitioners:
            if p not in practitioners:
                practitioners.append(p)
        if m.imaging_study is not None:
            for s in m.imaging_study.series:
                key = remap.get(s.device_key or "", s.device_key)
                if s.uid not in series:
                    series[s.uid] = replace(s, **{"device_key": key, "instances": ()})
                    instances[s.uid] = {}
                for inst in s.instances:
                    instances[s.uid].setdefault(inst.sop_instance_uid, inst)
        metrics += [replace(x, **{"device_key": remap.get(x.device_key, x.device_key)})
                    if x.device_key in remap else x for x in m.metrics]
        reports += m.reports
        steps += [replace(x, **{"device_key": remap.get(x.device_key, x.device_key)})
                  if x.device_key in remap else x for x in m.procedure_steps]
        issues += [replace(i, **{"location": f"[{m.control_id}] {i.location}"}) for i in m.issues]
    merged_series = tuple(sorted(
        (replace(s, **{"instances": tuple(sorted(instances[s.uid].values(), key=_instance_order))})
         for s in series.values()), key=lambda s: (s.number is None, s.number or 0, s.uid)))
    first = studies[0] if studies else None
    study = None
    if first is not None:
        study = replace(first, **{"series": merged_series})
        for s in studies[1:]:  # fill study-level fields the first instance left empty
            study = replace(study, **{k: getattr(s, k) for k in fields(ImagingStudy)
                                             if getattr(study, k) in (None, ()) and k != "series"})
    head = messages[0]
    return build(Message,
        standard="dicom", version=head.version, message_type="DICOM study",
        control_id=study.uid if study else head.control_id, sending=head.sending, sent=head.sent,
        patient=patient, practitioners=tuple(practitioners), devices=tuple(devices.values()),
        metrics=tuple(metrics), imaging_study=study, reports=tuple(reports), procedure_steps=tuple(steps),
        issues=tuple(issues),
    )


def _instance_order(inst: Instance) -> tuple:
    return (inst.number is None, inst.number or 0, inst.sop_instance_uid)
