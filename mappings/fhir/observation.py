"""Metrics → Observations (FHIR Observation, vital-signs profile where the LOINC code says so).

value[x] by metric kind: numeric → valueQuantity, compound → component[], sample array →
valueSampledData (R4 `period`, R5 `interval` + `intervalUnit`), coded → valueCodeableConcept,
string → valueString, date/time → valueDateTime, range → valueRange, ratio → valueRatio, period →
valuePeriod, time → valueTime.
"""

from __future__ import annotations

from datetime import timezone, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any

from interop.model import Coding, Message, Metric, Timestamp

from . import datatypes as fd
from .context import FhirContext, hex_urn, id_prefix, make_entry, stable_id, stable_id_after
from .device import observation_device
from .prepared import Recurring, RenderedList

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS = {"coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}]}

# OBX-11 (HL7 table 0085) -> Observation.status: the v2-to-FHIR IG ConceptMap owns the mapping
# (interop.terminology.v2tables, table 0085). It leaves these codes unmapped; read by their table 0085
# meaning, they map as follows (Observation.status is required, "unknown" says nothing):
UNMAPPED_RESULT_STATUS = {
    "R": "preliminary",  # "results entered - not verified": in IHE PCD-01 the status of a raw device
    # measurement, neither reviewed nor validated (HL7 PoCD IG mappingv2.md, OBX-8 Measurement status)
    "S": "preliminary",  # "partial results"
    "I": "registered",  # "specimen in lab; results pending"
    "O": "registered",  # "order detail description only (no result)"
    "N": "cancelled",  # "not asked"
    "U": "final",  # "status changed to final without retransmitting results"
    "V": "final",  # "verified final results"
    "B": "amended",  # "appended report": final results reviewed, further information provided
}


def build(message: Message, ctx: FhirContext) -> None:
    default_tz = default_zone(message, ctx)
    if message.standard == "dicom" and message.reports:
        from .dose import replaces_observations

        if replaces_observations(message):  # a dose SR's own Observations replace one per NUM (mappings.fhir.dose)
            _notes(message, ctx, default_tz)
            return
    seen: dict[str, int] = {}
    anchor, recurs = _anchor(message)
    refs = ctx.observation_refs
    metrics = message.metrics
    devices = ctx.observation_devices  # Observation.device of each metric (the device builder lists them)
    if len(devices) != len(metrics):
        devices = [observation_device(m, ctx) for m in metrics]
    if message.standard in _PHD_STANDARDS and _phd().observations(message, ctx, devices, default_tz):
        return  # made in their PHD form at once (mappings.fhir.phd.observations)
    # A metric's fixed part recurs from message to message when its anchor does (a device or patient
    # identifier, not the message digest) and the Bundle may share fragments: built once per what it is
    # built from (objects by id, kept alive by the entry: see prepared.Recurring)
    common = (ctx.version, anchor, ctx.patient_ref, ctx.encounter_ref) if recurs and ctx.shares else None
    times: dict[int, tuple[str, bool]] = {}  # this message's times, by Timestamp object (shared over its OBXs)
    # Observation ids are stable_ids (32 hex digits): their fullUrl is laid out directly (ctx.add inlined)
    urls = ctx.urls
    entries = ctx.entries
    transaction = ctx.bundle_type == "transaction"
    for m, device in zip(metrics, devices, strict=True):
        if common is None:
            static = ObservationStatic(m, ctx, anchor, device)
        else:
            key = (common, id(m.code), m.device_key, m.observation_id, m.handle, id(m.reference_range),
                   id(m.alarm_limits), id(m.method), id(m.body_site), device)
            static = _STATICS.table.get(key)  # Recurring.get's young-generation hit, without the call
            static = static[0] if static is not None else _STATICS.get(key)
            if static is None:
                static = _STATICS.put(key, ObservationStatic(m, ctx, anchor, device),
                                      keep=(m.code, m.reference_range, m.alarm_limits, m.method, m.body_site))
        res = observation(static, m, ctx, default_tz, times)
        rid = res["id"]
        if rid in seen:  # the same observation twice in one input: keep both, distinct ids
            seen[rid] += 1
            rid = res["id"] = stable_id(rid, seen[rid])
        else:
            seen[rid] = 0
        ref = "Observation/" + rid
        url = urls[ref] = hex_urn(rid)
        entries.append(make_entry(res, ref, url, "transaction") if transaction else {"fullUrl": url, "resource": res})
        refs.append(ref)


_PHD_STANDARDS = frozenset({"ieee11073-20601", "bluetooth-gatt"})  # mappings.fhir.phd.PHD_STANDARDS


def _phd():
    global _phd_module
    if _phd_module is None:
        from . import phd  # imported on first use: phd imports this module

        _phd_module = phd
    return _phd_module


_phd_module = None


def _notes(message: Message, ctx: FhirContext, default_tz) -> None:
    """What `observation` notes for metrics whose Observations are not made (numeric or absent values)."""
    for m in message.metrics:
        note = _code_note(fd.code_facts(m.code))
        if note is not None:
            ctx.note("fhir.code-whitespace", _location(m), note)
        effective = m.effective
        if (effective is not None and default_tz is None and effective.value.tzinfo is None
                and effective.precision not in ("year", "month", "day")):  # fd.date_time assumes UTC
            ctx.note("fhir.zone-assumed", _location(m), _ZONE_NOTE)


def _code_note(facts: fd.CodeFacts) -> str | None:
    return (f"code {', '.join(repr(c) for c in facts.respelled)} has whitespace FHIR's code type "
            "forbids (tab, line break, leading, trailing or repeated spaces); written with single "
            "spaces" if facts.respelled else None)


_ZONE_NOTE = "observation time has no UTC offset (nor has the message); UTC assumed (use --assume-tz)"


def _anchor(message: Message) -> tuple[str, bool]:
    """What Observation ids are anchored on, and whether it recurs in other messages (an identifier)."""
    roots = message.devices
    if roots and roots[0].identifiers:
        return roots[0].identifiers[0].value, True
    if message.patient and message.patient.identified:
        return message.patient.identifiers[0].value, True
    return (message.raw.sha256 if message.raw else (message.control_id or "")), False


def default_zone(message: Message, ctx: FhirContext) -> timezone | None:
    """The zone of a time stated without an offset: the caller's, else (v2) the sender's from MSH-7."""
    tz = ctx.options.get("timezone")
    if tz is not None:
        return tz
    return sender_zone(message.standard, message.sent)


def sender_zone(standard: str, sent: Timestamp | None) -> tzinfo | None:
    """v2: a time without offset is in the sender's zone, the zone of MSH-7 (None if it states none)."""
    if standard == "hl7v2" and sent is not None:
        return sent.value.tzinfo
    return None


class ObservationStatic:
    """What an Observation takes from a metric's fixed part (code, device, ranges, body site, method)
    and from the Bundle it is in (subject, encounter): everything but its value, status and time.

    A device feed repeats these message after message; `mappings.fhir.replay` keeps them with the
    structure they were built for. Shared fragments are never mutated (mappings.fhir.prepared)."""

    __slots__ = ("id_parts", "id_prefix", "head", "tail", "code_note")

    def __init__(self, m: Metric, ctx: FhirContext, anchor: str, device: str | None) -> None:
        facts = fd.code_facts(m.code)
        self.code_note = _code_note(facts)
        shares = ctx.shares  # recurring fragments go in as they are (mappings.fhir.prepared), else copies
        # the parts of Observation.id before the time and person (see `observation`)
        self.id_parts = ("Observation", anchor, m.device_key, facts.id_code, m.observation_id or m.handle)
        self.id_prefix = id_prefix(*self.id_parts)
        head: dict[str, Any] = {}  # the elements before effective[x], in their order
        if facts.loinc and _is_vital(facts.loinc):
            head["category"] = VITAL_SIGNS_CATEGORY if shares else [{"coding": [VITAL_SIGNS["coding"][0].copy()]}]
        head["code"] = facts.concept if shares else fd.copy_concept(facts.concept)
        if ctx.patient_ref:
            head["subject"] = ctx.reference(ctx.patient_ref)
        if ctx.encounter_ref:
            head["encounter"] = ctx.reference(ctx.encounter_ref)
        self.head = head
        tail: dict[str, Any] = {}  # the elements after value[x], interpretation and note, in their order
        if m.body_site is not None:
            tail["bodySite"] = fd.concept(m.body_site)
        if m.method is not None:
            tail["method"] = fd.concept(m.method)
        if device:  # observation_device(m, ctx)
            tail["device"] = ctx.reference(device)
        if m.reference_range is not None or m.alarm_limits is not None:
            if shares:
                ranges = _RANGES.get((id(m.reference_range), id(m.alarm_limits)))
                if ranges is None:
                    ranges = _RANGES.put((id(m.reference_range), id(m.alarm_limits)),
                                         RenderedList(_reference_ranges(m)), keep=(m.reference_range, m.alarm_limits))
            else:
                ranges = _reference_ranges(m)
            if ranges:
                tail["referenceRange"] = ranges
        self.tail = tail


def observation(static: ObservationStatic, f: Metric, ctx: FhirContext, default_tz,
                times: dict[int, tuple[str, bool]] | None = None) -> dict[str, Any]:
    """The Observation of metric `f`: its fixed part (`static`) and the rest read from `f`."""
    effective = f.effective
    if effective is not None:
        when = effective.raw or effective.value.isoformat()
    else:  # an untimed reading is this message's: another message's untimed reading is another Observation
        msg = ctx.message
        when = "untimed " + (msg.raw.sha256 if msg.raw else msg.control_id or "")
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": stable_id_after(static.id_prefix, when, f.person_id),
    }
    if f.measurement_status:
        security, status_interpretation, unmapped = _measurement_status(f)
        if security:
            res["meta"] = {"security": security}
    else:  # the common case, without the call
        security, status_interpretation, unmapped = (), (), ()
    res["status"] = _status(f)
    res.update(static.head)
    if static.code_note is not None:
        ctx.note("fhir.code-whitespace", _location(f), static.code_note)
    if effective is not None:
        hit = times.get(id(effective)) if times is not None else None
        if hit is None:
            hit = fd.date_time(effective, default_tz)
            if times is not None:
                times[id(effective)] = hit
        text, assumed = hit
        if assumed and default_tz is None:
            ctx.note("fhir.zone-assumed", _location(f), _ZONE_NOTE)
        if f.effective_end is not None:
            res["effectivePeriod"] = {"start": text, "end": fd.date_time(f.effective_end, default_tz)[0]}
        else:
            res["effectiveDateTime"] = text
    _value(f, res, ctx)
    interpretation = f.interpretation
    if status_interpretation:
        res["interpretation"] = _interpretation(interpretation) + list(status_interpretation)
    elif interpretation:
        if ctx.shares:  # codecs reuse the tuple of a recurring flag text (H, L ...): so does the mapping
            hit = _INTERPRETATIONS.get(id(interpretation))
            if hit is None:
                hit = _INTERPRETATIONS.put(id(interpretation), _interpretation(interpretation), keep=interpretation)
            res["interpretation"] = hit
        else:
            res["interpretation"] = _interpretation(interpretation)
    if f.value is None and "dataAbsentReason" not in res:
        absent = f.data_absent_reason or _status_absent_reason(f)
        if absent:
            res["dataAbsentReason"] = _absent(absent)
    if f.specimen is not None:  # the v2 SPM the result was measured on (mappings.fhir.specimen)
        specimen = ctx.specimen_refs.get(f.specimen)
        if specimen:
            res["specimen"] = ctx.reference(specimen)
    notes = f.notes
    if notes or unmapped:
        notes = list(notes)
        if unmapped:
            notes.append("measurement status: " + ", ".join(unmapped))
        res["note"] = [{"text": n} for n in notes]
    if static.tail:
        res.update(static.tail)
    return res


def _location(f: Metric) -> str:
    source = f.source
    return source.location if source is not None else "metric"


def _interpretation(codings: tuple[Coding, ...]) -> list[dict[str, Any]]:
    return [{"coding": [fd.coding(c)]} for c in codings]


VITAL_SIGNS_CATEGORY = [VITAL_SIGNS]  # shared (never mutated): Observation.category of a vital sign
_INTERPRETATIONS = Recurring()  # tuple of interpretation codings -> Observation.interpretation
_RANGES = Recurring()  # (reference range, alarm limits) objects -> Observation.referenceRange
_STATICS = Recurring(8192)  # what a metric's Observation fixes (see `build`) -> ObservationStatic


def _reference_ranges(m: Metric) -> list[dict[str, Any]]:
    """Observation.referenceRange: the normal range, then the alarm limits typed as such (PoCD IG)."""
    ranges = []
    if m.reference_range is not None:
        rr = fd.range_(m.reference_range)
        if not rr and m.reference_range.text:
            rr = {"text": m.reference_range.text}
        if rr:
            ranges.append(rr)
    if m.alarm_limits is not None:
        rr = fd.range_(m.alarm_limits)
        rr["type"] = {"coding": [dict(fd.ALARM_LIMITS)]}
        if m.alarm_limits.text and len(rr) == 1:
            rr["text"] = m.alarm_limits.text
        ranges.append(rr)
    return ranges


def _measurement_status(f: Metric) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """IEEE 11073 MeasurementStatus names → (meta.security, interpretation, names with no FHIR
    mapping), per the HL7 PoCD IG measurement-status table (interop.terminology.status)."""
    if not f.measurement_status:
        return [], [], []
    from interop.terminology import status

    security: list[dict[str, Any]] = []
    interpretation: list[dict[str, Any]] = []
    unmapped: list[str] = []
    for name in f.measurement_status:
        mapping = status.by_name(name)
        if mapping is None or not (mapping.security or mapping.interpretation or mapping.data_absent_reason):
            unmapped.append(name)
            continue
        if mapping.security:
            coding = {"system": mapping.security[0], "code": mapping.security[1]}
            if coding not in security:
                security.append(coding)
        if mapping.interpretation:
            interpretation.append({"coding": [{"system": mapping.interpretation[0],
                                               "code": mapping.interpretation[1]}], "text": name})
    return security, interpretation, unmapped


def _status_absent_reason(f: Metric) -> str | None:
    from interop.terminology import status

    for name in f.measurement_status:
        mapping = status.by_name(name)
        if mapping is not None and mapping.data_absent_reason:
            return mapping.data_absent_reason
    return None


@cache
def _result_status(obx11: str) -> str:
    """Observation.status for an OBX-11 code (cached per code: codes recur)."""
    from interop.terminology import v2tables

    code = obx11.strip().upper()
    return v2tables.observation_status(code, default="") or UNMAPPED_RESULT_STATUS.get(code, "unknown")


def _status(f: Metric) -> str:
    if f.result_status:
        return _result_status(f.result_status)
    if "invalid" in f.measurement_status:
        return "entered-in-error" if f.value is not None else "final"
    return "final"


@cache
def _is_vital(loinc: str) -> bool:
    """Whether the LOINC code is in the vital-signs profile (cached per code: codes recur)."""
    from interop.terminology import mdc

    return mdc.is_vital_sign_loinc(loinc)


def _absent(reason: str) -> dict[str, Any]:
    return {"coding": [{"system": fd.DATA_ABSENT_SYSTEM, "code": reason}]}


def _value(f: Metric, res: dict[str, Any], ctx: FhirContext) -> None:
    v = f.value
    if v is None:
        if f.data_absent_reason:
            res["dataAbsentReason"] = _absent(f.data_absent_reason)
        return
    kind = v.kind
    if kind == "numeric":
        res["valueQuantity"] = fd.quantity(v.quantity)
    elif kind == "compound":
        comps = []
        for c in v.components:
            comp: dict[str, Any] = {"code": fd.concept(c.code)}
            if c.quantity is not None:
                comp["valueQuantity"] = fd.quantity(c.quantity)
            else:
                comp["dataAbsentReason"] = _absent(c.data_absent_reason or "unknown")
            comps.append(comp)
        res["component"] = comps
    elif kind == "sample-array":
        res["valueSampledData"] = _sampled_data(v, f, ctx)
    elif kind == "coded":
        res["valueCodeableConcept"] = fd.concept(v.concept)
    elif kind == "string":
        res["valueString"] = v.text
    elif kind == "datetime":
        res["valueDateTime"] = fd.date_time(v.timestamp, None)[0]
    elif kind == "range":
        res["valueRange"] = {k: fd.quantity(q) for k, q in (("low", v.low), ("high", v.high)) if q is not None}
    elif kind == "ratio":
        res["valueRatio"] = {"numerator": fd.quantity(v.numerator), "denominator": fd.quantity(v.denominator)}
    elif kind == "bits":
        res["valueString"] = ", ".join(v.set_names) if v.set_names else f"0x{v.value:0{v.width // 4}X}"
    elif kind == "period":  # v2 DR (v2-to-FHIR IG: DR[Period])
        res["valuePeriod"] = {k: fd.date_time(t, None)[0] for k, t in (("start", v.start), ("end", v.end))
                              if t is not None}
    elif kind == "time":  # v2 TM (IG: valueTime)
        res["valueTime"] = _fhir_time(v.text, f, ctx)
    elif kind == "attachment":  # R5 valueAttachment; R4 a DocumentReference (mappings.fhir.attachment)
        from .attachment import place

        place(v, f, res, ctx)
    if f.data_absent_reason and "dataAbsentReason" not in res and kind == "string":
        # a value that failed to parse is kept as text; FHIR forbids value + dataAbsentReason together
        ctx.note("fhir.value-as-text", _location(f),
                 "value could not be read in its declared type and is carried as valueString", severity="info")


def _fhir_time(text: str, f: Metric, ctx: FhirContext) -> str:
    """ISO time of day ("12:30", "12:30:15.5+01:00") -> FHIR time (hh:mm:ss[.f], which has no zone)."""
    zone = ""
    for i, ch in enumerate(text):
        if ch in "+-Z" and i >= 5:
            text, zone = text[:i], text[i:]
            break
    if len(text) == 5:
        text += ":00"
    if zone:
        ctx.note("fhir.time-zone", _location(f), f"FHIR time has no zone; the source's offset {zone} is not "
                 "carried by valueTime", severity="info")
    return text


def _sampled_data(v, f: Metric, ctx: FhirContext) -> dict[str, Any]:
    origin = fd.quantity(v.origin) if v.origin is not None else {"value": Decimal(0)}
    origin.pop("comparator", None)
    out: dict[str, Any] = {"origin": origin}
    period = v.period_ms
    if period is None:
        period = Decimal(0)
        ctx.note("fhir.sampled-period", _location(f),
                 "the source states no sampling period; SampledData period/interval set to 0")
    if ctx.r5:
        out["interval"] = period
        out["intervalUnit"] = "ms"
    else:
        out["period"] = period
    if v.factor is not None:
        out["factor"] = v.factor
    if v.lower_limit is not None:
        out["lowerLimit"] = v.lower_limit
    if v.upper_limit is not None:
        out["upperLimit"] = v.upper_limit
    out["dimensions"] = v.dimensions
    out["data"] = " ".join(str(s) for s in v.samples)
    return out
