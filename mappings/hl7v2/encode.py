"""Canonical `Message` → IHE PCD-01 ORU^R01 (HL7 v2.6, ER7), so that a 20601 agent, a GATT sensor or
a DICOM SR can feed a system that only speaks HL7 v2 (`interop translate X --to hl7v2`).

Layout, per IHE PCD TF-2 "Communicate PCD Data" and the HL7 PoCD IG mappingv2 page:

- MSH: sending application = the gateway (or the device) as `name^EUI-64^EUI-64`; MSH-21 IHE_PCD_001.
- PID/PV1 from the patient and encounter, when the source had them.
- one OBR (OBR-4 182777000 "monitoring of patient", OBR-7 the earliest observation time).
- per device tree: an OBX device row for the MDS (OBX-4 `m.0.0.0`, OBX-18 its EUI-64), VMDs and channels.
- per metric: an OBX with OBX-4 its containment (`MDS.VMD.CHAN.METRIC`), or `m.0.0.n` when the source
  has none (20601, GATT, DICOM); NM with MDC and UCUM units, CWE, ST, DTM, SN (ranges, ratios,
  comparators), NA for sample arrays with the sampling period as an MDC_ATTR_TIME_PD_SAMP facet;
  compounds (systolic/diastolic/mean) as a value-less row and one facet row per component
  (the shape `codecs.hl7v2` reads back as one compound); OBX-7 the alarm limits or reference range,
  OBX-8 the abnormal flags and measurement status, OBX-11 the result status, OBX-14 the time.

Written by hand because what is hard here is the PCD layout, not ER7: hl7apy's message builder is
validation-oriented and costs tens of milliseconds per message.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any

from interop.model import (
    EUI64_SYSTEM,
    MDC_SYSTEM,
    UCUM_SYSTEM,
    CodeableConcept,
    Device,
    Identifier,
    Message,
    Metric,
    Quantity,
    Range,
    Specimen,
    Timestamp,
)
from interop.model.common import Issue

PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
OBR_CODE = "182777000^monitoring of patient^SNOMED-CT"
TIME_PD_SAMP = "67981^MDC_ATTR_TIME_PD_SAMP^MDC"
MS = "264338^MDC_DIM_MILLI_SEC^MDC"
_SYSTEM_NAMES = {MDC_SYSTEM: "MDC", "http://loinc.org": "LN", "http://snomed.info/sct": "SCT", UCUM_SYSTEM: "UCUM"}


ISO_4217 = "urn:iso:std:iso:4217"  # currency codes of amounts (codecs.hl7v2.values: MO, CP)

def escape(text: str) -> str:
    """HL7 v2 escape sequences for the default delimiters (chapter 2.7)."""
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
            .replace("~", "\\R\\").replace("\r", "\\X0D\\").replace("\n", "\\.br\\"))


def dtm(ts: Timestamp | None) -> str:
    """A Timestamp as DTM at its own precision, with its UTC offset when it has one."""
    if ts is None:
        return ""
    v = ts.value
    widths = {"year": 4, "month": 6, "day": 8, "hour": 10, "minute": 12}
    text = f"{v.year:04d}{v.month:02d}{v.day:02d}{v.hour:02d}{v.minute:02d}{v.second:02d}"
    if ts.precision in widths:
        text = text[:widths[ts.precision]]
    elif ts.precision in ("millisecond", "microsecond"):
        text += f".{v.microsecond // 1000:03d}" if ts.precision == "millisecond" else f".{v.microsecond // 100:04d}"
    off = v.utcoffset()
    if off is not None and ts.precision not in ("year", "month", "day"):
        minutes = int(off.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        text += f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return text


def cwe(cc: CodeableConcept | None) -> str:
    """CWE: the first two codings as identifier^text^system^alt identifier^alt text^alt system."""
    if cc is None:
        return ""
    parts: list[str] = []
    for c in cc.codings[:2]:
        parts += [escape(c.code), escape(c.display or ""), _system_name(c.system)]
    if not parts:
        return f"^{escape(cc.text or '')}"
    if cc.text and len(cc.codings) <= 2:
        parts += [""] * (8 - len(parts)) + [escape(cc.text)]
    return "^".join(parts).rstrip("^")


def _system_name(system: str | None) -> str:
    if system is None:
        return ""
    if system in _SYSTEM_NAMES:
        return _SYSTEM_NAMES[system]
    if system.startswith("urn:oid:"):
        return system[8:]
    return system


def unit(q: Quantity) -> str:
    """OBX-6: the MDC unit with its UCUM twin (code^refid^MDC^ucum^ucum^UCUM), else UCUM, else text."""
    if q.unit_mdc is not None:
        out = f"{q.unit_mdc.code}^{escape(q.unit_mdc.display or '')}^MDC"
        if q.unit:
            out += f"^{escape(q.unit)}^{escape(q.unit)}^UCUM"
        return out
    if q.unit:
        return f"{escape(q.unit)}^{escape(q.unit)}^UCUM"
    return escape(q.unit_text or "")


def number(v: Decimal) -> str:
    text = format(v, "f")
    return text


def limits(r: Range | None) -> str:
    if r is None:
        return ""
    if r.low is not None and r.high is not None:
        return f"{number(r.low.value)}-{number(r.high.value)}"
    if r.high is not None:
        return f"<{number(r.high.value)}"
    if r.low is not None:
        return f">{number(r.low.value)}"
    return escape(r.text or "")


def _eui64(device: Device | None) -> str | None:
    if device is None:
        return None
    for i in device.identifiers:
        if i.system == EUI64_SYSTEM or (i.type or "").upper() == "EUI-64":
            return i.value.replace("-", "").upper()
    return None


class Encoder:
    """One message's PCD-01 ORU^R01, segment by segment."""

    def __init__(self, message: Message) -> None:
        self.m = message
        self.segments: list[str] = []
        self.issues: list[Issue] = []
        self.set_id = 0
        self.mds_numbers: dict[str, int] = {}  # Device.key of a root → its MDS number in OBX-4

    def encode(self) -> bytes:
        m = self.m
        self.msh()
        if m.patient is not None:
            self.pid()
        if m.encounter is not None:
            self.pv1()
        times = [x.effective for x in m.metrics if x.effective is not None]
        first = min(times, key=lambda t: t.value.timestamp() if t.value.tzinfo else t.value.replace(
            tzinfo=_dt.UTC).timestamp()) if times and len(times) == len(m.metrics) else None
        # OBR-7 is the time of every OBX without OBX-14: left empty when a metric has no time of its own
        order = m.orders[0] if m.orders else None
        self.segments.append("|".join(["OBR", "1", escape(order.placer_id or "") if order else "",
                                       escape(order.filler_id or m.control_id or "") if order else
                                       escape(m.control_id or ""), OBR_CODE, "", "", dtm(first)]))
        for n, root in enumerate(m.devices, 1):
            self.mds_numbers[root.key] = n
            self.device_rows(root, (n, 0, 0, 0))
        counters: dict[int, int] = {}
        for metric in m.metrics:
            self.metric(metric, counters)
        for specimen in m.specimens:  # ORU^R01 SPECIMEN group: after the order's observations
            self.spm(specimen)
        for alarm in m.alarms:
            self.issues.append(Issue(severity="warning", code="hl7v2.encode-alarm-not-written",
                                     location=alarm.source.location if alarm.source else "alarm",
                                     message="alerts go in PCD-04 (ORU^R40), not in this PCD-01 message"))
        return ("\r".join(self.segments) + "\r").encode("utf-8")

    def msh(self) -> None:
        m = self.m
        sender = m.gateway or (m.devices[0] if m.devices else None)
        eui = _eui64(sender)
        app = escape((m.sending.application if m.sending and m.sending.application else None)
                     or (sender.name if sender and sender.name else "") or "IOMT_INTEROP")
        sending = f"{app}^{eui}^EUI-64" if eui else app
        facility = escape(m.sending.facility or "") if m.sending else ""
        receiving = escape(m.receiving.application or "") if m.receiving and m.receiving.application else ""
        sent = dtm(m.sent) or dtm(Timestamp(value=_dt.datetime.now(_dt.UTC), precision="second"))
        control = escape(m.control_id or (m.raw.sha256[:20] if m.raw else "1"))
        self.segments.append("|".join(["MSH", "^~\\&", sending, facility, receiving, "", sent, "",
                                       "ORU^R01^ORU_R01", control, "P", "2.6", "", "", "NE", "AL", "",
                                       "UNICODE UTF-8", "", "", PROFILE]))

    def pid(self) -> None:
        p = self.m.patient
        ids = "~".join(f"{escape(i.value)}^^^{escape(i.assigner or '')}^{escape(i.type or '')}".rstrip("^")
                       for i in p.identifiers)
        names = "~".join("^".join([escape(n.family or ""), escape(n.given[0] if n.given else ""),
                                   escape(" ".join(n.given[1:])), escape(n.suffix or ""), escape(n.prefix or ""),
                                   "", escape(n.use or "")]).rstrip("^") for n in p.names)
        birth = dtm(p.birth_date) if p.birth_date else ""
        fields = ["PID", "", "", ids, "", names, "", birth, escape(p.sex or "")]
        if p.identity_unknown:  # PID-31 identity unknown indicator: the identifiers name no one
            fields += [""] * (31 - len(fields) + 1)
            fields[31] = "Y"
        self.segments.append("|".join(fields).rstrip("|"))

    def pv1(self) -> None:
        e = self.m.encounter
        loc = e.location
        pl = "^".join(escape(x or "") for x in (loc.point_of_care, loc.room, loc.bed, loc.facility)).rstrip("^") \
            if loc is not None else ""
        self.segments.append("|".join(["PV1", "", escape(e.patient_class or "U"), pl]))

    def spm(self, s: Specimen) -> None:
        """SPM of a canonical Specimen (the fields codecs.hl7v2.specimen reads, same positions)."""
        def ei(i: Identifier | None) -> str:
            return f"{escape(i.value)}&{escape(i.assigner or '')}".rstrip("&") if i is not None else ""

        def cwes(items) -> str:
            return "~".join(cwe(c) for c in items)

        placer = next((i for i in s.identifiers if i.type == "PLAC"), None)
        filler = next((i for i in s.identifiers if i.type == "FILL"), None)
        q = s.quantity
        amount = ""
        if q is not None:
            amount = number(q.value) + (f"^{escape(q.unit)}&&UCUM" if q.unit else
                                        f"^{escape(q.unit_text)}" if q.unit_text else "")
        collected = dtm(s.collected) + (f"^{dtm(s.collected_end)}" if s.collected_end is not None else "")
        fields = ["SPM", s.key, f"{ei(placer)}^{ei(filler)}".rstrip("^"), "~".join(ei(p) for p in s.parents),
                  cwe(s.type), "", cwes(s.additives), cwe(s.method), cwe(s.body_site), cwes(s.body_site_modifiers),
                  "", cwes(s.roles), amount, "", escape(s.description or ""), "", "", collected, dtm(s.received), "",
                  {True: "Y", False: "N", None: ""}[s.available], cwes(s.reject_reasons), "", "", cwes(s.conditions),
                  "", "", cwe(s.container_type)]
        self.segments.append("|".join(fields).rstrip("|"))

    def device_rows(self, node: Device, path: tuple[int, ...]) -> None:
        eui = _eui64(node)
        equipment = f"{eui}^^{eui}^EUI-64" if eui else ""
        code = cwe(node.type) if node.type is not None else {
            "mds": "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC", "vmd": "70656^MDC_DEV_ANALY_VMD^MDC",
            "channel": "70657^MDC_DEV_ANALY_CHAN^MDC"}[node.level]
        self.obx("", code, ".".join(map(str, path)), "", "", "", "", "X", None, equipment)
        for i, child in enumerate(node.children, 1):
            sub = list(path)
            sub[{"mds": 1, "vmd": 2}.get(node.level, 3)] = i
            self.device_rows(child, tuple(sub))

    def _sub_id(self, metric: Metric, counters: dict[int, int]) -> str:
        if len(metric.containment) == 4 and all(isinstance(p, int) for p in metric.containment):
            return ".".join(map(str, metric.containment))
        root = metric.device_key.split(".", 1)[0] if metric.device_key else None
        mds = self.mds_numbers.get(root or "", 1 if self.mds_numbers else 1)
        counters[mds] = counters.get(mds, 0) + 1
        return f"{mds}.0.0.{counters[mds]}"

    def metric(self, metric: Metric, counters: dict[int, int]) -> None:
        sub = self._sub_id(metric, counters)
        code = cwe(metric.code)
        flags = "~".join([c.code for c in metric.interpretation] + [_flag(s) for s in metric.measurement_status])
        status = metric.result_status or ("X" if metric.value is None else "F")
        when = metric.effective
        rng = limits(metric.alarm_limits or metric.reference_range)
        v = metric.value
        kind = v.kind if v is not None else None
        if kind == "numeric":
            q = v.quantity
            if q.unit_mdc is not None and q.unit_mdc.system == ISO_4217:  # an amount (v2 MO/CP read in)
                self.obx("MO", code, sub, f"{number(q.value)}^{q.unit_mdc.code}", "", rng, flags, status, when)
            elif q.comparator:
                self.obx("SN", code, sub, f"{q.comparator}^{number(q.value)}", unit(q), rng, flags, status, when)
            else:
                self.obx("NM", code, sub, number(q.value), unit(q), rng, flags, status, when)
        elif kind == "compound":
            self.obx("", code, sub, "", "", rng, flags, status, when)
            for i, c in enumerate(v.components, 1):
                if c.quantity is not None:
                    self.obx("NM", cwe(c.code), f"{sub}.{i}", number(c.quantity.value), unit(c.quantity), "", "",
                             status, when)
                else:
                    self.obx("NM", cwe(c.code), f"{sub}.{i}", "", "", "", "NAV", "X", when)
        elif kind == "coded":
            self.obx("CWE", code, sub, cwe(v.concept), "", "", flags, status, when)
        elif kind == "string":
            self.obx("ST", code, sub, escape(v.text), "", "", flags, status, when)
        elif kind == "datetime":
            self.obx("DTM", code, sub, dtm(v.timestamp), "", "", flags, status, when)
        elif kind == "period":
            self.obx("DR", code, sub, f"{dtm(v.start)}^{dtm(v.end)}".rstrip("^"), "", "", flags, status, when)
        elif kind == "time":  # ISO "12:30:15.5+01:00" -> TM "123015.5+0100"
            self.obx("TM", code, sub, v.text.replace(":", ""), "", "", flags, status, when)
        elif kind == "range":
            low = number(v.low.value) if v.low else ""
            high = number(v.high.value) if v.high else ""
            self.obx("SN", code, sub, f"^{low}^-^{high}", unit(v.low or v.high), "", flags, status, when)
        elif kind == "ratio":
            self.obx("SN", code, sub, f"^{number(v.numerator.value)}^:^{number(v.denominator.value)}",
                     unit(v.numerator), "", flags, status, when)
        elif kind == "sample-array":
            self.obx("NA", code, sub, "^".join(number(s) for s in v.samples),
                     unit(v.origin) if v.origin is not None else "", rng, flags, status, when)
            if v.period_ms is not None:
                self.obx("NM", TIME_PD_SAMP, f"{sub}.1", number(v.period_ms), MS, "", "", status, when)
        elif kind == "bits":
            self.obx("ST", code, sub, escape(" ".join(v.set_names) or str(v.value)), "", "", flags, status, when)
        elif kind == "attachment":
            self._obx_value(*_attachment(v), code, sub, rng, flags, status, when)
        else:
            absent = {"not-a-number": "NaN"}.get(metric.data_absent_reason or "", "")
            self.obx("NM" if absent else "", code, sub, absent, "", rng, flags or "", status, when)
        for note in metric.notes:
            self.segments.append(f"NTE|1||{escape(note)}")

    def _obx_value(self, vtype: str, value: str, code: str, sub: str, rng: str, flags: str, status: str,
                   when: Timestamp | None) -> None:
        self.obx(vtype, code, sub, value, "", rng, flags, status, when)

    def obx(self, vtype: str, code: str, sub: str, value: str, units: str, rng: str, flags: str, status: str,
            when: Timestamp | None, equipment: str = "") -> None:
        self.set_id += 1
        fields = ["OBX", str(self.set_id), vtype, code, sub, value, units, rng, flags, "", "", status, "", "",
                  dtm(when), "", "", "", equipment]
        self.segments.append("|".join(fields).rstrip("|"))


def _attachment(v: Any) -> tuple[str, str]:
    """An AttachmentValue as OBX-2 and OBX-5: ED (app ^ type ^ subtype ^ Base64 ^ data) when it holds data,
    else RP (pointer ^ app ^ type ^ subtype); type and subtype as read, else split from the MIME type."""
    data_type, subtype = v.data_type, v.subtype
    if not data_type and not subtype and v.content_type and "/" in v.content_type:
        data_type, subtype = v.content_type.split("/", 1)
    app = escape(v.application or "")
    if v.data is not None:
        import base64

        payload = base64.b64encode(v.data).decode("ascii")
        return "ED", f"{app}^{escape(data_type or '')}^{escape(subtype or '')}^Base64^{payload}"
    return "RP", f"{escape(v.url or '')}^{app}^{escape(data_type or '')}^{escape(subtype or '')}".rstrip("^")


_FLAG_NAMES: dict[str, str] | None = None


def _flag(name: str) -> str:
    """A measurement-status name back to its IHE PCD OBX-8 flag (invalid → INV ...)."""
    global _FLAG_NAMES
    if _FLAG_NAMES is None:
        from interop.codecs.hl7v2 import pcd

        _FLAG_NAMES = {}
        for flag, n in pcd.MEASUREMENT_STATUS.items():
            _FLAG_NAMES.setdefault(n, flag)
    return _FLAG_NAMES.get(name, escape(name))


class HL7v2Output:
    """An encoded message: `bytes(out)` or `out.json()` (the CLI's name for 'the output bytes')."""

    def __init__(self, data: bytes, issues: list[Issue]) -> None:
        self.data = data
        self.issues = issues

    def __bytes__(self) -> bytes:
        return self.data

    def json(self, *, indent: bool = False) -> bytes:  # the Output protocol's method: the ER7 bytes
        return self.data


def encode(message: Message) -> bytes:
    """The IHE PCD-01 ORU^R01 of `message` (ER7, CR segment ends, UTF-8)."""
    return Encoder(message).encode()


class HL7v2Mapping:
    """Registry mapping "hl7v2": canonical → PCD-01 ORU^R01."""

    name = "hl7v2"

    def map(self, message: Message, **options: Any) -> HL7v2Output:
        enc = Encoder(message)
        data = enc.encode()
        return HL7v2Output(data, enc.issues)
