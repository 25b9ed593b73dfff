"""ECG leads of one recording → one Observation with one component per lead.

The FHIR core ECG example (observation-example-sample-data) and the HL7 PoCD IG's
ECGSampleArrayObservation write a multi-lead recording as one Observation coded MDC_ECG_ELEC_POTL
(131328) whose components are the leads (MDC_ECG_ELEC_POTL_I 131329, _II 131330, _III 131389 …), each with
its SampledData. The codecs keep one sample-array Metric per lead (DICOM waveform channel, PCD-01 NA
row), coded the same way by both (codecs.dicom.waveform.lead_potential); this pass, run right after the
observation builder, folds the lead Observations of one recording into that shape.

One recording = the same device node, the same group (DICOM multiplex group, PCD-01 OBR) and the same
start time. The per-lead DeviceMetrics of a PoCD channel become one DeviceMetric typed MDC_ECG_ELEC_POTL,
as in the PoCD IG's ECGSampleArrayDeviceMetric. Personal health device messages are left alone: the PHD
IG has its own real-time sample array shape (PhdRtsaObservation), one Observation per metric.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from interop.model import MDC_SYSTEM, Message
from interop.text import is_ascii_digits

from .context import FhirContext, make_entry, recurring_id, stable_id

ELEC_POTL = {"system": MDC_SYSTEM, "code": "131328", "display": "MDC_ECG_ELEC_POTL"}
LEADS = range(131329, 131584)  # MDC_ECG_ELEC_POTL_<lead>: partition 2, 256 + lead number (1..255)
PHD_STANDARDS = frozenset({"ieee11073-20601", "bluetooth-gatt"})


def _lead(m) -> bool:
    v = m.value
    if v is None or v.kind != "sample-array":
        return False
    code = m.code.code_in(MDC_SYSTEM)
    return code is not None and is_ascii_digits(code) and int(code) in LEADS


def build(message: Message, ctx: FhirContext) -> None:
    if message.standard in PHD_STANDARDS or not any(_lead(m) for m in message.metrics):
        return
    refs = ctx.observation_refs
    if len(refs) != len(message.metrics):
        return
    from .phd import phd_over_v2

    if phd_over_v2(message):
        return
    recordings: dict[tuple, list[int]] = {}
    for i, m in enumerate(message.metrics):
        if _lead(m):
            key = (m.device_key, m.group, m.effective.value if m.effective is not None else None)
            recordings.setdefault(key, []).append(i)
    index = {f"{e['resource']['resourceType']}/{e['resource']['id']}": n for n, e in enumerate(ctx.entries)}
    replaced: dict[int, dict[str, Any] | None] = {}  # entry position -> new entry (None: dropped)
    folding = {refs[i] for members in recordings.values() for i in members}
    # DeviceMetrics another Observation (not a folded lead) points at stay as they are
    kept = {e["resource"].get("device", {}).get("reference") for ref, n in index.items()
            if ref.startswith("Observation/") and ref not in folding for e in (ctx.entries[n],)}
    metrics: dict[tuple[str, ...], str | None] = {}  # the leads' DeviceMetrics -> the one that replaces them
    for members in recordings.values():
        leads = [ctx.entries[index[refs[i]]]["resource"] for i in members]
        merged_ref = _fold(leads, members, refs, index, replaced, kept, metrics, ctx)
        for i in members:
            refs[i] = merged_ref
    ctx.entries = [replaced.get(n, e) for n, e in enumerate(ctx.entries) if replaced.get(n, e) is not None]


def _fold(leads: list[dict[str, Any]], members: list[int], refs: list[str], index: dict[str, int],
          replaced: dict[int, dict[str, Any] | None], kept: set, metrics: dict, ctx: FhirContext) -> str:
    first = leads[0]
    device = _one_metric_device(leads, index, replaced, kept, metrics, ctx)
    res: dict[str, Any] = {}
    for key, value in first.items():
        if key == "id":
            res["id"] = stable_id("Observation", "ecg", *(lead["id"] for lead in leads))
        elif key == "code":
            res["code"] = {"coding": [dict(ELEC_POTL)]}
        elif key == "device" and device is not None:
            res["device"] = ctx.reference(device)
        elif key not in ("valueSampledData", "component", "identifier"):
            res[key] = value
    res["component"] = [{"code": lead["code"], "valueSampledData": lead["valueSampledData"]} for lead in leads]
    period = _period(res, leads)
    if period is not None:
        res.pop("effectiveDateTime")
        res["effectivePeriod"] = period
    ref = f"Observation/{res['id']}"
    url = _new_url(ref, res["id"], ctx)
    for i in members:
        ctx.urls.pop(refs[i], None)
    positions = sorted(index[refs[i]] for i in members)
    replaced[positions[0]] = make_entry(res, ref, url, ctx.bundle_type)
    for p in positions[1:]:
        replaced[p] = None
    return ref


def _period(res: dict[str, Any], leads: list[dict[str, Any]]) -> dict[str, str] | None:
    """effectivePeriod of the recording (FHIR core / PoCD ECG examples): its start, and the end the samples
    reach (start + samples × sampling period), when the start is a time to the second and every lead says
    its period in milliseconds."""
    from datetime import datetime, timedelta

    start = res.get("effectiveDateTime")
    if not isinstance(start, str) or len(start) < 19:
        return None
    lasts = []
    for lead in leads:
        sd = lead["valueSampledData"]
        step = sd.get("period", sd.get("interval"))
        if not step or sd.get("intervalUnit", "ms") != "ms" or "data" not in sd:
            return None
        lasts.append(Decimal(str(step)) * len(sd["data"].split()))
    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        return None
    end = begin + timedelta(milliseconds=float(max(lasts)))
    spec = "seconds" if end.microsecond == 0 and "." not in start else "milliseconds"
    text = end.isoformat(timespec=spec)
    if start.endswith("Z") and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return {"start": start, "end": text}


def _one_metric_device(leads: list[dict[str, Any]], index: dict[str, int],
                       replaced: dict[int, dict[str, Any] | None], kept: set, metrics: dict,
                       ctx: FhirContext) -> str | None:
    """The leads' DeviceMetrics (PoCD: one per lead code under the channel) → one typed MDC_ECG_ELEC_POTL."""
    urls = [lead.get("device", {}).get("reference", "") for lead in leads]
    key = tuple(dict.fromkeys(urls))
    if key in metrics:  # another recording of the same channel in this message
        return metrics[key]
    by_url = {url: ref for ref, url in ctx.urls.items()}
    metric_refs = [by_url.get(u) for u in key]
    if any(r is None or not r.startswith("DeviceMetric/") for r in metric_refs) or any(u in kept for u in key):
        metrics[key] = None
        return None
    first = ctx.entries[index[metric_refs[0]]]["resource"]
    res = {key: value for key, value in first.items()}
    res["id"] = recurring_id("DeviceMetric", first["id"], ELEC_POTL["code"])
    res["type"] = {"coding": [dict(ELEC_POTL)]}
    ref = f"DeviceMetric/{res['id']}"
    url = _new_url(ref, res["id"], ctx)
    positions = sorted(index[r] for r in metric_refs)
    for r in metric_refs:
        ctx.urls.pop(r, None)
    replaced[positions[0]] = make_entry(res, ref, url, ctx.bundle_type)
    for p in positions[1:]:
        replaced[p] = None
    metrics[key] = ref
    return ref


def _new_url(ref: str, rid: str, ctx: FhirContext) -> str:
    from .context import entry_url

    url = entry_url(rid)
    ctx.urls[ref] = url
    return url
