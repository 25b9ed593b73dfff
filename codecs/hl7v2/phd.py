"""Personal health devices behind a PCD-01 gateway (Continua / PCHA WAN interface, IHE PCD-01 as the
Continua Design Guidelines H.812 profile it), compound panels and waveform facets.

A PHD gateway (AHD/PHG) sends each personal health device as rows keyed by the PHD's MDS number:

    OBX|1|CWE|68220^MDC_TIME_SYNC_PROTOCOL^MDC|0.0.0.1|532224^MDC_TIME_SYNC_NONE^MDC   the gateway's clock
    OBX|2||528391^MDC_DEV_SPEC_PROFILE_BPM^MDC|1|||||||X|||||||0123456789ABCDEF^EUI-64   MDS 1: the PHD
    OBX|3||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1|||||||X                               the BP compound
    OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|120|266016^MDC_DIM_MMHG^MDC     its members
    OBX|7|DTM|67975^MDC_ATTR_TIME_ABS^MDC|1.0.0.1|20091028123702                        the PHD's clock

These become what the IEEE 11073-20601 codec makes of the same device: an MDS `Device` with its
EUI-64 identifier, its dev-specialization and its clock (`TimeInfo`), metrics that point at it, and a
compound metric (systolic, diastolic, mean) rather than a row without a value and three loose ones.

The same compound reading applies wherever a row without a value is followed by rows whose MDC codes
are its own + 1, + 2, + 3 (the 10101 convention for SYS/DIA/MEAN: 150020 → 150021-150023): an NIBP
channel of a monitor gives one 150020 panel Observation (LOINC 85354-9) with components.

Waveform facets: MDC_ATTR_TIME_PD_SAMP (sampling period), MDC_ATTR_SAMP_RATE (samples per second)
and MDC_ATTR_DATA_RANGE (lowest^highest physical value) sent as 5-part sub-ids under an NA/MA
waveform set its SampledData period and limits instead of becoming Observations of their own.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from interop.model import (
    EUI64_SYSTEM,
    MDC_SYSTEM,
    CodedValue,
    Component,
    CompoundValue,
    DateTimeValue,
    Device,
    Identifier,
    Issue,
    Metric,
    NumericValue,
    SampleArrayValue,
    StringValue,
    TimeInfo,
)
from interop.text import is_ascii_digits

from . import datatypes as dt

if TYPE_CHECKING:
    from .decoder import HL7v2Decoder

SPEC_PROFILE_PREFIX = "MDC_DEV_SPEC_PROFILE_"
SPEC_PROFILE_CODES = range(528384, 528640)  # partition 8 (infrastructure) dev-specialization codes
TIME_ABS = "67975"  # MDC_ATTR_TIME_ABS
TIME_SYNC_PROTOCOL = "68220"  # MDC_TIME_SYNC_PROTOCOL
TIME_SYNC_ACCURACY = "68221"  # MDC_TIME_SYNC_ACCURACY
TIME_PD_SAMP = ("67981", "MDC_ATTR_TIME_PD_SAMP")
SAMP_RATE = "MDC_ATTR_SAMP_RATE"
DATA_RANGE = "MDC_ATTR_DATA_RANGE"
# period unit (UCUM or MDC refid) → milliseconds per unit
_PERIOD_MS = {"s": Decimal(1000), "ms": Decimal(1), "us": Decimal("0.001"), "MDC_DIM_SEC": Decimal(1000),
              "MDC_DIM_MILLI_SEC": Decimal(1), "MDC_DIM_MICRO_SEC": Decimal("0.001")}


def replace_metric(m: Metric, **changes) -> Metric:
    """`m` with some fields changed (keyword constructor over every Metric field)."""
    f = {"code": m.code, "value": m.value, "data_absent_reason": m.data_absent_reason,
         "measurement_status": m.measurement_status, "interpretation": m.interpretation,
         "result_status": m.result_status, "effective": m.effective, "effective_end": m.effective_end,
         "reference_range": m.reference_range, "alarm_limits": m.alarm_limits, "method": m.method,
         "body_site": m.body_site, "device_key": m.device_key, "containment": m.containment, "handle": m.handle,
         "observation_id": m.observation_id, "group": m.group, "person_id": m.person_id, "notes": m.notes,
         "source": m.source}
    f.update(changes)
    return Metric(**f)


def _mdc(m: Metric) -> tuple[str | None, str | None]:
    for c in m.code.codings:
        if c.system == MDC_SYSTEM:
            return c.code, c.display
    return None, None


def _is_spec_profile(m: Metric) -> bool:
    code, refid = _mdc(m)
    return bool(refid and refid.startswith(SPEC_PROFILE_PREFIX)) or (
        code is not None and is_ascii_digits(code) and int(code) in SPEC_PROFILE_CODES)


def read(dec: HL7v2Decoder) -> dict[str, dict]:
    """Rework `dec.metrics` in place; returns what the PHD MDS rows add to their root Devices
    (key → {"specializations", "identifiers", "time"}), for `decoder.build` to apply."""
    metrics = dec.metrics
    valueless = any(m.value is None for m in metrics)
    facets = any(len(m.containment) == 5 for m in metrics)
    if not valueless and not facets:
        return {}  # the common PCD-01 message: every row has its value, no facet rows
    phd = _phd_devices(dec) if valueless else {}
    if valueless:
        _compounds(dec)
    if facets:
        _waveform_facets(dec)
    return phd


def _phd_devices(dec: HL7v2Decoder) -> dict[str, dict]:
    roots: dict[str, dict] = {}
    keep: list[Metric] = []
    for m in dec.metrics:
        if m.value is None and _is_spec_profile(m) and m.observation_id and is_ascii_digits(m.observation_id):
            key = m.observation_id
            root = roots.setdefault(key, {"specializations": [], "identifiers": [], "source": m.source})
            root["specializations"].append(m.code)
            eq = _equipment(dec, m)
            for ident in eq:
                if ident not in root["identifiers"]:
                    root["identifiers"].append(ident)
            _answered(dec, m, ("hl7v2.field-not-placed",))
            continue
        keep.append(m)
    gateway_sync = None
    out: list[Metric] = []
    for m in keep:
        code, _ = _mdc(m)
        head = str(m.containment[0]) if m.containment else None
        if code == TIME_SYNC_PROTOCOL and isinstance(m.value, CodedValue):
            target = head if head in roots else None
            if target is None:
                gateway_sync = m.value.concept
            else:
                roots[target]["sync"] = m.value.concept
            continue
        if code == TIME_ABS and head in roots and isinstance(m.value, DateTimeValue):
            roots[head]["device_time"] = m.value.timestamp
            continue
        if head in roots and m.device_key is None:
            m = replace_metric(m, device_key=head)
        out.append(m)
    if not roots:
        return {}
    dec.metrics = out
    dec.last_metric_index = None
    if gateway_sync is not None:
        for root in roots.values():  # the gateway's clock is the time reference of what it relays
            root.setdefault("sync", gateway_sync)
    for key, root in roots.items():
        sync = root.get("sync")
        sync_code = None
        if sync is not None:
            sync_code = next((c.display or c.code for c in sync.codings if c.system == MDC_SYSTEM), None)
        if sync_code or root.get("device_time"):
            root["time"] = TimeInfo(device_time=root.get("device_time"), sync_protocol=sync_code)
        if key not in dec.nodes:
            from .decoder import _Node  # the decoder's mutable device node

            dec.nodes[key] = _Node(key=key, level="mds", type=root["specializations"][0],
                                   identifiers=list(root["identifiers"]), source=root["source"])
        else:
            node = dec.nodes[key]
            node.identifiers.extend(i for i in root["identifiers"] if i not in node.identifiers)
            node.type = node.type or root["specializations"][0]
    return roots


def _equipment(dec: HL7v2Decoder, m: Metric) -> list[Identifier]:
    """OBX-18 of a metric row, read again from its segment (the row became a metric, not a device)."""
    if m.source is None or m.source.offset is None:
        return []
    seg = next((s for s in dec.p.segments if s.offset == m.source.offset), None)
    if seg is None:
        return []
    out = []
    for rep in seg.get(18).split(dec.d.repetition) if seg.get(18) else ():
        ident = dt.parse_ei(rep, dec.d)
        if ident is not None:
            out.append(ident)
    return out


def _answered(dec: HL7v2Decoder, m: Metric, codes: tuple[str, ...]) -> None:
    loc = m.source.location if m.source else None
    if loc is None:
        return
    dec.issues = [i for i in dec.issues if not (i.code in codes and i.location.split("-", 1)[0] == loc)]


def apply(device: Device, extra: dict) -> Device:
    """A root Device with what its PHD MDS rows said (specializations, EUI-64, clock)."""
    return Device(key=device.key, level=device.level, type=device.type, identifiers=device.identifiers,
                  manufacturer=device.manufacturer, model=device.model, name=device.name,
                  production_specs=device.production_specs,
                  specializations=tuple(extra["specializations"]), config_id=device.config_id,
                  time=extra.get("time") or device.time, reg_cert=device.reg_cert, children=device.children,
                  is_gateway=device.is_gateway, source=device.source)


def _compounds(dec: HL7v2Decoder) -> None:
    """A row without a value followed by rows coded +1/+2/+3 one level below → one compound metric."""
    metrics = dec.metrics
    out: list[Metric] = []
    i = 0
    while i < len(metrics):
        m = metrics[i]
        code, _ = _mdc(m)
        members: list[Metric] = []
        if m.value is None and code and is_ascii_digits(code) and m.containment:
            base = int(code)
            j = i + 1
            while j < len(metrics) and len(members) < 3:
                n = metrics[j]
                ncode, _ = _mdc(n)
                if (n.containment[:len(m.containment)] != m.containment or len(n.containment) != len(m.containment) + 1
                        or not (ncode and is_ascii_digits(ncode)) or int(ncode) - base not in (1, 2, 3)):
                    break
                members.append(n)
                j += 1
        if len(members) >= 2 and all(isinstance(n.value, NumericValue) or n.value is None for n in members):
            comps = tuple(Component(code=n.code, quantity=n.value.quantity if n.value is not None else None,
                                    data_absent_reason=None if n.value is not None else (n.data_absent_reason or
                                                                                         "unknown"))
                          for n in members)
            first = members[0]
            out.append(replace_metric(
                m, value=CompoundValue(components=comps), data_absent_reason=None,
                result_status=first.result_status or m.result_status,
                effective=m.effective or first.effective, device_key=m.device_key or first.device_key,
                interpretation=tuple(c for n in members for c in n.interpretation),
                measurement_status=tuple(dict.fromkeys(s for n in members for s in n.measurement_status)),
                notes=tuple(t for n in [m, *members] for t in n.notes)))
            i += 1 + len(members)
            continue
        out.append(m)
        i += 1
    if len(out) != len(metrics):
        dec.metrics = out
        dec.last_metric_index = None


def _waveform_facets(dec: HL7v2Decoder) -> None:
    metrics = dec.metrics
    waves = {m.containment: n for n, m in enumerate(metrics)
             if isinstance(m.value, SampleArrayValue) and len(m.containment) == 4}
    if not waves:
        return
    consumed: set[int] = set()
    updated: dict[int, dict] = {}
    for n, m in enumerate(metrics):
        if len(m.containment) != 5 or m.containment[:4] not in waves:
            continue
        code, refid = _mdc(m)
        target = waves[m.containment[:4]]
        change = updated.setdefault(target, {})
        if code == TIME_PD_SAMP[0] or refid == TIME_PD_SAMP[1]:
            period = _period_ms(m)
            if period is not None:
                change["period_ms"] = period
                consumed.add(n)
        elif refid == SAMP_RATE:
            rate = _number(m)
            if rate:
                change["period_ms"] = Decimal(1000) / rate
                consumed.add(n)
        elif refid == DATA_RANGE:
            low, high = _range(m, dec)
            if low is not None or high is not None:
                change["lower_limit"], change["upper_limit"] = low, high
                consumed.add(n)
    if not consumed:
        return
    for target, change in updated.items():
        if not change:
            continue
        w = metrics[target]
        v = w.value
        metrics[target] = replace_metric(w, value=SampleArrayValue(
            samples=v.samples, period_ms=change.get("period_ms", v.period_ms), factor=v.factor, origin=v.origin,
            lower_limit=change.get("lower_limit", v.lower_limit), upper_limit=change.get("upper_limit", v.upper_limit),
            dimensions=v.dimensions))
    for n in consumed:
        _answered(dec, metrics[n], ("hl7v2.pcd-facet", "hl7v2.unsupported-value-type"))
    dec.metrics = [m for n, m in enumerate(metrics) if n not in consumed]
    dec.last_metric_index = None


def _number(m: Metric) -> Decimal | None:
    v = m.value
    if isinstance(v, NumericValue):
        return v.quantity.value
    if isinstance(v, StringValue):
        try:
            return dt.parse_nm(v.text)
        except ValueError:
            return None
    return None


def _period_ms(m: Metric) -> Decimal | None:
    value = _number(m)
    if value is None:
        return None
    q = m.value.quantity if isinstance(m.value, NumericValue) else None
    unit = (q.unit or (q.unit_mdc.display if q.unit_mdc else None) or q.unit_text) if q is not None else None
    factor = _PERIOD_MS.get(unit or "s")
    return value * factor if factor is not None else None


def _range(m: Metric, dec: HL7v2Decoder) -> tuple[Decimal | None, Decimal | None]:
    """MDC_ATTR_DATA_RANGE as NR/SN/ST 'low^high' (or a RangeValue)."""
    v = m.value
    low = getattr(v, "low", None)
    high = getattr(v, "high", None)
    if low is not None or high is not None:
        return (low.value if low else None), (high.value if high else None)
    if isinstance(v, StringValue):
        parts = [p.strip() for p in v.text.split(dec.d.component)]
        try:
            nums = [dt.parse_nm(p) if p else None for p in parts[:2]] + [None, None]
        except (ValueError, InvalidOperation):
            return None, None
        return nums[0], nums[1]
    return None, None


__all__ = ["EUI64_SYSTEM", "Issue", "apply", "read", "replace_metric"]
