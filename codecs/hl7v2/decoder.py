"""Tokenized HL7 v2 message → canonical `Message` (ORU^R01 / IHE PCD-01 first; ADT and lab ORU
segments are read with the same segment readers).

One reader per segment id; what a reader cannot place is recorded as an `Issue` with its
position, so nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TypeVar

from interop.errors import DecodeError
from interop.memo import Memo
from interop.model import (
    EUI64_SYSTEM,
    LOINC_SYSTEM,
    MDC_SYSTEM,
    UCUM_SYSTEM,
    CodeableConcept,
    CodedValue,
    Coding,
    DateTimeValue,
    Device,
    Encounter,
    Endpoint,
    Identifier,
    Issue,
    Message,
    Metric,
    MetricValue,
    NumericValue,
    Order,
    Patient,
    Practitioner,
    Quantity,
    Range,
    RangeValue,
    RatioValue,
    SampleArrayValue,
    SourceRef,
    StringValue,
    Timestamp,
    TimeValue,
    replace,
)
from interop.model.message import RawRef
from interop.terminology import mdc
from interop.text import is_ascii_digits

from . import alarm, attachment, pcd, phd, quirks, values
from . import datatypes as dt
from . import specimen as spm
from .tokenizer import Delimiters, ParsedMessage, Segment, components, repetitions, unescape

T = TypeVar("T")
STANDARD = "hl7v2"
NUMERIC_TYPES = {"NM"}
STRING_TYPES = {"ST", "TX", "FT", "EI", "HD"}  # ID, IS, TN, AD, XAD, XPN, XTN, CX ...: codecs.hl7v2.values
CODED_TYPES = {"CWE", "CE", "CNE", "CF"}
TIME_TYPES = {"DTM", "TS", "DT", "TM"}
PATIENT_SEGMENTS = frozenset({"PID", "PD1", "NK1", "PV1", "PV2", "GT1", "IN1", "IN2", "IN3", "MRG", "ACC"})
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
# fields the segment readers place (PID: ids, name, mother's maiden name, birth, sex, address; PV1: class, location, practitioners, visit
# number, admit/discharge; OBR: set id, placer/filler, service, times, status, parent (PCD-04), reason)
PLACED_NTE_FIELDS = frozenset({1, 3})  # set id, comment (NTE-2 source, -4 type, -5 entered by, -6 time: reported)
PLACED_MSH_FIELDS = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 18, 21})
PLACED_PID_FIELDS = frozenset({1, 2, 3, 5, 6, 7, 8, 11, 31})
PLACED_PV1_FIELDS = frozenset({1, 2, 3, 7, 8, 9, 17, 19, 44, 45})
PLACED_OBR_FIELDS = frozenset({1, 2, 3, 4, 7, 8, 25, 29, 31})
PLACED_OBX_FIELDS = {1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 17, 18, 20}
UNPLACED_OBX_FIELDS = tuple(n for n in range(9, 21) if n not in PLACED_OBX_FIELDS)  # then 21 onwards


@dataclass(slots=True)
class _Node:
    key: str
    level: pcd.Level
    type: CodeableConcept | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    name: str | None = None
    source: SourceRef | None = None
    implicit: bool = False


@dataclass(slots=True)
class _ObxPlan:
    """What one OBX text reads to, apart from its value (OBX-5), flags (OBX-8) and time (OBX-14).

    Device feeds repeat their OBX rows message after message with only those two fields changed,
    so the decoder plans each distinct row once (per delimiters, bounded) and reuses the plan.
    Flags are read apart (`_flags`): they change with the patient's state."""

    vtype: str  # OBX-2
    code: CodeableConcept  # OBX-3 with its LOINC translation
    path: tuple[int, ...] | None  # OBX-4 containment
    level: pcd.Level | None  # DIM level when OBX-4 names a device (a device row if OBX-5 is empty)
    equipment: tuple[Identifier, ...]  # OBX-18
    sets_pcd: bool  # this row shows the message is an IHE PCD message
    device_key: str = ""  # device rows: the node key
    device_findings: tuple[int, ...] = ()  # device rows: fields that cannot be placed there
    # metric rows: the Metric fields fixed by the text
    result_status: str | None = None  # OBX-11
    method: CodeableConcept | None = None  # OBX-17
    body_site: CodeableConcept | None = None  # OBX-20
    observation_id: str | None = None  # OBX-4
    unit: tuple | None = None  # OBX-6 read (UCUM, MDC coding, text) when it reads without a finding


@dataclass
class _Group:
    """An OBR and what belongs to it."""

    order: Order | None
    observed: Timestamp | None


class HL7v2Decoder:
    """Reads one tokenized message into the canonical model."""

    def __init__(self, parsed: ParsedMessage, *, strict: bool = False, raw: RawRef | None = None,
                 profile: quirks.Profile | None = None) -> None:
        self.p = parsed
        self.d = parsed.delimiters
        self.strict = strict
        self.raw = raw
        # the quirk profile (codecs.hl7v2.quirks): --quirks / quirks.use, else detected from MSH-3/4/21, else default
        self.profile = profile or _profile_for(parsed)
        self.aliases = self.profile.aliases
        self._quirks_seen: set[tuple[str, str]] = set()
        tables_key = self.d if self.profile is quirks.DEFAULT() else (self.d, self.profile.name)
        t = _TABLES.get(tables_key) or _tables(tables_key)  # what this decoder remembers of earlier messages
        self.codes = t.codes  # OBX-3/OBX-5 text -> enriched concept
        self.units = t.units  # OBX-6 text -> (UCUM, MDC coding, text)
        self.entities = t.entities  # EI text -> Identifier (device, filler ids)
        self.systems = t.systems  # MSH-3..6 text -> Endpoint / gateway Device
        self.plans = t.plans  # OBX text but OBX-1/5/14 -> _ObxPlan
        self.ranges = t.ranges  # (OBX-7 text, OBX-6 text) -> Range
        self.segments_read = t.segments_read  # PID/PV1 text and place -> what it reads to
        self.issues: list[Issue] = [self._governed(i, None) for i in parsed.issues] if parsed.issues else []
        self.times: dict[str, Timestamp] = {}  # field text -> Timestamp, for this message only
        self.fields: dict = {}
        self.patient: Patient | None = None
        self.encounter: Encounter | None = None
        self.practitioners: list[Practitioner] = []
        self.orders: list[Order] = []
        self.metrics: list[Metric] = []
        self.nodes: dict[str, _Node] = {}
        self.gateway: Device | None = None
        self.group = _Group(None, None)
        self.pcd = False
        self.last_metric_index: int | None = None
        self.order_note = False  # the last OBR is the segment an NTE would comment
        self.specimens: list = []  # SPM → Specimen (codecs.hl7v2.specimen), orders linked in `build`
        self.specimen_key: str | None = None  # the SPM whose observations are being read
        self.specimen_orders: dict[str, list[str]] = {}  # specimen key -> keys of the orders it serves

    # -- findings ------------------------------------------------------------------------------

    def tolerate(self, seg: Segment, n: int | None, code: str, message: str, *, expected: str = "",
                 severity: str = "warning") -> None:
        """Record a deviation, or raise in strict mode (info findings never raise).

        In segments that carry patient data, quoted source values are masked: findings and errors end
        up in logs and on terminals (DEVELOPERS' rule: no patient data in messages by default)."""
        where = seg.where(n)
        if seg.name in PATIENT_SEGMENTS:
            message = _QUOTED.sub("'***'", message)
        quirk = self.profile.by_finding.get(code)
        if quirk is not None:  # a profile governs this finding: its action decides (codecs.hl7v2.quirks)
            self.issues.append(self._governed(Issue(severity=severity, code=code, location=where, message=message,
                                                    offset=seg.offset), quirk))
            return
        if self.strict and severity != "info":
            raise DecodeError(message, standard=STANDARD, position=where, expected=expected, offset=seg.offset)
        self.issues.append(Issue(severity=severity, code=code, location=where, message=message,
                                 offset=seg.offset))

    def _governed(self, issue: Issue, quirk: quirks.Quirk | None) -> Issue:
        """`issue` as the profile's quirk for its code says: its severity, its name in the message, or a
        DecodeError when the profile rejects that shape."""
        if quirk is None:
            quirk = self.profile.by_finding.get(issue.code)
            if quirk is None:
                return issue
        text = f"{issue.message} (quirk {quirk.name!r} of profile {self.profile.name!r}: {quirk.action})"
        if quirk.action == "reject":
            raise DecodeError(text, standard=STANDARD, position=issue.location,
                              expected=quirk.description or "no such deviation", offset=issue.offset)
        return Issue(severity=quirk.severity, code=issue.code, location=issue.location, message=text,
                     offset=issue.offset)

    def quirk(self, seg: Segment, n: int | None, name: str, message: str) -> quirks.Quirk | None:
        """The active profile's quirk `name` when it lists it (the shape is then read), recorded once per
        place as `hl7v2.quirk.<name>` with its action's severity; None when the profile does not list it."""
        q = self.profile.quirks.get(name)
        if q is None:
            return None
        where = seg.where(n)
        if (name, where) in self._quirks_seen:
            return q
        self._quirks_seen.add((name, where))
        text = f"{message} (quirk {name!r} of profile {self.profile.name!r}: {q.action})"
        if q.action == "reject":
            raise DecodeError(text, standard=STANDARD, position=where, expected=q.description or "no such deviation",
                              offset=seg.offset)
        self.issues.append(Issue(severity=q.severity, code=f"hl7v2.quirk.{name}", location=where, message=text,
                                 offset=seg.offset))
        return q

    # -- entry ---------------------------------------------------------------------------------

    def decode(self) -> Message:
        readers = {"MSH": self.msh, "PID": self.pid, "PV1": self.pv1, "OBR": self.obr, "OBX": self.obx,
                   "NTE": self.nte, "MRG": self.mrg, "SPM": self.spm}
        msh = self.p.segments[0]
        self.msh(msh)
        segments = self.p.segments
        for i in range(1, len(segments)):
            seg = segments[i]
            reader = readers.get(seg.name)
            if reader is None:
                self._not_placed(seg)
                continue
            if seg.name == "MSH":  # another message: never mixed into this one (its patient may differ)
                self.tolerate(seg, None, "hl7v2.second-msh",
                              f"a second message starts here; it and the {len(segments) - i - 1} segments after "
                              "it are not read into this one (interop.decode_all and `interop translate` read "
                              "every message)", expected="one message per decode()")
                break
            reader(seg)
        return self.build()

    def _not_placed(self, seg: Segment) -> None:
        """A segment no reader places: reported with the fields it carries (nothing dropped silently)."""
        f = seg.fields
        valued = [f"{seg.name}-{n}" for n in range(1, len(f)) if f[n] and not f[n].isspace()]
        carries = f"; it carries {', '.join(valued)}" if valued else ""
        kind = "envelope segment" if seg.name in ENVELOPE_SEGMENTS else "segment"
        self.tolerate(seg, None, "hl7v2.segment-not-placed",
                      f"{kind} {seg.name} is not mapped to the canonical model{carries}; kept only in the raw input",
                      severity="info")

    def build(self) -> Message:
        f = self.fields
        alarms = alarm.extract(self, f.get("message_type")) if self.pcd else ()  # PCD-04 (codecs.hl7v2.alarm)
        phd_roots = phd.read(self) if self.pcd else {}  # PHD behind a gateway, panels, waveform facets
        keys = sorted(self.nodes, key=_key_order)
        kids: dict[str, list[str]] = {}
        for k in keys:
            if "." in k:
                kids.setdefault(k.rsplit(".", 1)[0], []).append(k)
        gateway = self.gateway
        if self.nodes:
            _hoist_identities(self.nodes, gateway)
        own = _own_gateway(gateway, self.nodes) if gateway is not None and self.nodes else None
        if own is not None:  # a device that is its own DOR: one Device, not two with one EUI-64 (bdl-7)
            gateway = None
            self.nodes[own].name = self.nodes[own].name or self.gateway.name
            self.issues.append(Issue(severity="info", code="hl7v2.gateway-is-device", location="MSH-3",
                                     message=f"MSH-3's EUI-64 is the EUI-64 of MDS {own} (OBX-18): one device, "
                                             "read as that MDS (it sent its own data)", offset=0))
        devices = tuple(self._tree(key, kids) for key in keys if "." not in key)
        metrics, specimens = (self._link_specimens() if self.specimens else (tuple(self.metrics), ()))
        if phd_roots:
            devices = tuple(phd.apply(d, phd_roots[d.key]) if d.key in phd_roots else d for d in devices)
        return Message(standard="hl7v2",
            version=f.get("version"),
            message_type=f.get("message_type"),
            control_id=f.get("control_id"),
            profiles=f.get("profiles", ()),
            sending=f.get("sending"),
            receiving=f.get("receiving"),
            sent=f.get("sent"),
            patient=self.patient,
            encounter=self.encounter,
            practitioners=tuple(self.practitioners),
            orders=tuple(self.orders),
            devices=devices,
            gateway=gateway,
            metrics=metrics,
            specimens=specimens,
            alarms=alarms,
            issues=tuple(self.issues),
            raw=self.raw,
        )

    def _link_specimens(self) -> tuple[tuple[Metric, ...], tuple]:
        """Specimens with the orders they serve; each metric of an order with one specimen gets it
        (an ORU^R01 SPM follows the OBXs of its OBR)."""
        by_order: dict[str, list[str]] = {}
        for key, orders in self.specimen_orders.items():
            for o in orders:
                by_order.setdefault(o, []).append(key)
        specimens = tuple(replace(s, orders=tuple(dict.fromkeys(self.specimen_orders.get(s.key, ()))))
                          for s in self.specimens)
        metrics = tuple(replace(m, specimen=by_order[m.group][0])
                        if m.specimen is None and m.group is not None and len(by_order.get(m.group, ())) == 1 else m
                        for m in self.metrics)
        return metrics, specimens

    def _tree(self, key: str, kids: dict[str, list[str]]) -> Device:
        node = self.nodes[key]
        children = tuple(self._tree(k, kids) for k in kids.get(key, ()))
        return Device(key=node.key, level=node.level, type=node.type, identifiers=tuple(node.identifiers),
                       name=node.name, children=children, source=node.source)

    # -- helpers -------------------------------------------------------------------------------

    def ts(self, seg: Segment, n: int, raw: str | None = None) -> Timestamp | None:
        """Field n (or the given repetition text) as a Timestamp; malformed → issue."""
        field = seg.get(n) if raw is None else raw
        stamp = self.times.get(field)  # the same time text recurs over the OBXs of one message
        if stamp is not None:
            return stamp
        text = components(field, self.d)[0].strip()
        if not text or text == dt.NULL:
            return None
        stamp = self.dtm(seg, n, text)
        if stamp is not None:
            self.times[field] = stamp
        return stamp

    def dtm(self, seg: Segment, n: int, text: str) -> Timestamp | None:
        """A DTM text of field n → Timestamp; malformed → finding (a dot-less fraction read when the profile
        lists the quirk)."""
        try:
            return dt.parse_dtm(text)
        except ValueError as exc:
            m = _DOTLESS.match(text)
            if m and self.quirk(seg, n, "dotless-timestamp", f"{seg.name}-{n} {text!r} has its fraction of a "
                                "second without '.'; read as " + f"{m.group(1)}.{m.group(2)}{m.group(3) or ''}"):
                return dt.parse_dtm(f"{m.group(1)}.{m.group(2)}{m.group(3) or ''}")
            self.tolerate(seg, n, "hl7v2.bad-dtm", str(exc), expected="a DTM value")
            return None

    # -- segments ------------------------------------------------------------------------------

    def msh(self, seg: Segment) -> None:
        # all but MSH-7 (time) and MSH-10 (control id) recur in every message of a sender
        f = seg.fields
        static = self._recurring(seg, self._msh_static, ("MSH", seg.offset, *f[:7], *f[8:10], *f[11:]))
        fields, self.gateway, self.pcd = static
        self.fields.update(fields)
        self.fields["sent"] = self.ts(seg, 7)
        self.fields["control_id"] = seg.get(10).strip() or None

    def _msh_static(self, seg: Segment) -> tuple[dict, Device | None, bool]:
        d = self.d
        f: dict = {}
        if seg.get(3)[:1] == " ":
            self.tolerate(seg, 3, "hl7v2.leading-space", "MSH-3 starts with a space; trimmed", severity="info")
        self._eui64_shape(seg, 3, seg.get(3))
        f["sending"], gateway = self._sender(seg.get(3), seg.get(4), seg.offset)
        f["receiving"] = self._endpoint(seg.get(5), seg.get(6))
        mtype = [x.strip() for x in components(seg.get(9), d)]
        f["message_type"] = "^".join(x for x in mtype if x) or None
        if not f["message_type"]:
            self.tolerate(seg, 9, "hl7v2.missing-field", "MSH-9 message type is empty",
                          expected="message type such as ORU^R01^ORU_R01")
        f["version"] = components(seg.get(12), d)[0].strip() or None
        profiles = []
        for rep in repetitions(seg.get(21), d):
            ei = components(rep, d)
            if ei[0].strip():
                profiles.append(ei[0].strip())
        if not profiles:
            q = self.quirk(seg, 21, "msh21-missing", "MSH-21 (message profile) is empty")
            if q is not None:
                profiles = [str(p) for p in q.params.get("profiles", ())]
        f["profiles"] = tuple(profiles)
        # MSH-11/15/16 are read by the acknowledgement (transport.mllp.ack), MSH-18 by the tokenizer
        fields = seg.fields
        for n in range(1, len(fields)):
            if n not in PLACED_MSH_FIELDS and fields[n] and not fields[n].isspace():
                self.tolerate(seg, n, "hl7v2.field-not-placed", f"MSH-{n} is not mapped", severity="info")
        return f, gateway, any(p.startswith("IHE_PCD") for p in profiles)

    def _endpoint(self, application: str, facility: str) -> Endpoint:
        """MSH-5/6 (or MSH-3/4) → Endpoint, cached per text: a system's identity recurs in every message."""
        key = (application, facility)
        hit = self.systems.get(key) or self.systems.recall(key)
        if hit is None:
            app = dt.parse_hd(application, self.d)
            hit = Endpoint(application=app[0], facility=dt.parse_hd(facility, self.d)[0], identifier=app[1])
            self.systems.put(key, hit)
        return hit

    def _sender(self, application: str, facility: str, offset: int) -> tuple[Endpoint, Device | None]:
        """MSH-3/4 → sending Endpoint, plus the gateway Device when MSH-3 is an EUI-64 (IHE PCD), cached
        per text and segment offset: a gateway's identity recurs in every message it relays."""
        key = ("sender", application, facility, offset)
        hit = self.systems.get(key) or self.systems.recall(key)
        if hit is None:
            app, app_uid, app_type = dt.parse_hd(application, self.d)
            gateway = None
            if app and app_uid and not app_type and dt.is_eui64_type(app_uid) and dt.EUI64.match(app):
                app_uid, app_type = app, "EUI-64"  # "0030E60000000001^EUI-64": the type in HD.2
            if app_type and dt.is_eui64_type(app_type) and app_uid:
                gateway = Device(key="gateway", level="mds", name=app, is_gateway=True,
                                  identifiers=(Identifier(value=app_uid.upper(), system=EUI64_SYSTEM, type="EUI-64"),),
                                  source=SourceRef(location="MSH-3", offset=offset))
            hit = (self._endpoint(application, facility), gateway)
            self.systems.put(key, hit)
        return hit

    def pid(self, seg: Segment) -> None:
        if self.patient is not None:
            self.tolerate(seg, None, "hl7v2.repeated-segment", "a second PID was ignored", expected="one PID")
            return
        self.patient = self._recurring(seg, self._patient)

    def mrg(self, seg: Segment) -> None:
        """MRG-1 (prior patient identifier list) of a merge (ADT A40 ...): identifiers merged into the PID's
        patient; MRG-2..7 (prior alternate ids, accounts, visits, name) are reported, not placed."""
        d = self.d
        merged = tuple(i for i in (dt.parse_cx(r.strip(), d) for r in repetitions(seg.get(1), d)) if i)
        if not merged:
            self.tolerate(seg, 1, "hl7v2.missing-field", "MRG-1 prior patient identifier is empty",
                          expected="the identifier of the record merged into this one")
        for n in range(2, len(seg.fields)):
            if seg.get(n).strip():
                self.tolerate(seg, n, "hl7v2.field-not-placed", f"MRG-{n} is not mapped", severity="info")
        p = self.patient
        if p is None:
            self.tolerate(seg, None, "hl7v2.merge-without-patient", "MRG without a PID before it; not placed",
                          expected="PID then MRG")
            return
        self.patient = replace(p, merged=p.merged + merged)

    def _recurring(self, seg: Segment, read: Callable[[Segment], T], key: tuple | None = None) -> T:
        """`read(seg)`, reused for the same `key` (default: the segment's text and place): a monitor's
        PID and PV1 recur unchanged in every message it sends."""
        if key is None:
            key = (seg.name, seg.ordinal, seg.offset, *seg.fields)
        hit = self.segments_read.get(key) or self.segments_read.recall(key)
        return self._read_new(self.segments_read, key, read, seg) if hit is None else hit

    def _read_new(self, table: Memo, key: object, read: Callable[..., T], *args: object) -> T:
        """`read(*args)`, remembered in `table` under `key` for the messages to come, unless reading
        it raised a finding: a finding is raised anew (with its own position) every time."""
        before = len(self.issues)
        hit = read(*args)
        if len(self.issues) == before:
            table.put(key, hit)
        return hit

    def _unplaced(self, seg: Segment, placed: frozenset[int]) -> None:
        """Report every valued field of `seg` that no reader places (nothing dropped silently)."""
        f = seg.fields
        for n in range(1, len(f)):
            if n not in placed and f[n] and f[n].strip():
                self.tolerate(seg, n, "hl7v2.field-not-placed", f"{seg.name}-{n} is not mapped", severity="info")

    def _patient(self, seg: Segment) -> Patient:
        self._unplaced(seg, PLACED_PID_FIELDS)
        d = self.d
        ids = []
        for rep in repetitions(seg.get(3), d):
            ident = dt.parse_cx(rep.strip(), d)
            if ident:
                ids.append(ident)
        if seg.get(2).strip():  # PID-2 external id (v2.3-2.5, withdrawn later): keep it
            ident = dt.parse_cx(seg.get(2), d)
            # senders often repeat PID-3 in PID-2 (FHIR-Converter MDM-T02-02: both '987654321'): one identifier,
            # not two equal ones in Patient.identifier
            if ident and ident not in ids:
                ids.append(ident)
        names = [n for n in (dt.parse_xpn(r, d) for r in repetitions(seg.get(5), d)) if n]
        sex = seg.get(8).strip() or None
        maiden = [n for n in (dt.parse_xpn(r, d) for r in repetitions(seg.get(6), d)) if n]  # PID-6
        addresses = [a for a in (dt.parse_xad(r, d, lambda t: self.dtm(seg, 11, t))
                                 for r in repetitions(seg.get(11), d)) if a]  # PID-11
        return Patient(identifiers=tuple(ids), names=tuple(names), birth_date=self.ts(seg, 7),
                       sex=None if sex == dt.NULL else sex, addresses=tuple(addresses),
                       mothers_maiden_names=tuple(maiden), identity_unknown=seg.get(31).strip().upper() == "Y",
                       source=_source(seg))

    def pv1(self, seg: Segment) -> None:
        self.encounter, practitioners = self._recurring(seg, self._visit)
        self.practitioners.extend(practitioners)

    def _visit(self, seg: Segment) -> tuple[Encounter, tuple[Practitioner, ...]]:
        self._unplaced(seg, PLACED_PV1_FIELDS)
        d = self.d
        ids = [i for i in (dt.parse_cx(r, d) for r in repetitions(seg.get(19), d)) if i]
        encounter = Encounter(identifiers=tuple(ids), patient_class=seg.get(2).strip() or None, location=dt.parse_pl(seg.get(3), d),
            admit_time=self.ts(seg, 44), discharge_time=self.ts(seg, 45), source=_source(seg))
        practitioners = []
        for n, role in ((7, "attending"), (8, "referring"), (9, "consulting"), (17, "admitting")):
            for rep in repetitions(seg.get(n), d):
                ident, name = dt.parse_xcn(rep, d)
                if ident or name:
                    practitioners.append(Practitioner(role=role, identifiers=(ident,) if ident else (),
                                                 names=(name,) if name else (),
                                                 source=SourceRef(location=seg.where(n), offset=seg.offset)))
        return encounter, tuple(practitioners)

    def obr(self, seg: Segment) -> None:
        # all but OBR-2/3 (placer and filler order numbers: a gateway may number every request anew) and
        # OBR-7/8 (observation times) recur in every message of a device
        f = seg.fields
        set_id, code, status, reason = self._recurring(seg, self._order_static, ("OBR", *f[:2], *f[4:7], *f[9:]))
        observed = self.ts(seg, 7)
        placer, filler = seg.get(2), seg.get(3)  # EI.1 as sent (IHE PCD: the namespace is an EUI-64)
        if "EUI" in filler or "eui" in filler or "Eui" in filler:
            self._eui64_shape(seg, 3, filler)
        order = Order(set_id=set_id, placer_id=_entity(placer, dt.parse_ei(placer, self.d), self.d),
                      filler_id=_entity(filler, dt.parse_ei(filler, self.d), self.d), code=code, observed=observed,
                      observed_end=self.ts(seg, 8), status=status, reason=reason, source=_source(seg))
        self.orders.append(order)
        self.group = _Group(order, observed)
        self.last_metric_index = None
        self.order_note = True  # an NTE now comments the order
        if self.specimens:
            if spm.specimen_first(self.fields.get("message_type")):  # OUL^R22: the SPM before serves this OBR
                okey = order.filler_id or order.placer_id
                if self.specimen_key is not None and okey:
                    self.specimen_orders.setdefault(self.specimen_key, []).append(okey)
            else:  # ORU^R01: an SPM follows its OBR; the next OBR starts without one
                self.specimen_key = None

    def spm(self, seg: Segment) -> None:
        """SPM → Specimen (codecs.hl7v2.specimen), linked to its order(s) and the observations after it."""
        key = str(len(self.specimens) + 1)
        self.specimens.append(spm.read(self, seg, key))
        self.order_note = False
        self.specimen_key = key
        self.last_metric_index = None
        order = self.group.order
        if spm.specimen_first(self.fields.get("message_type")):
            self.group = _Group(None, None)  # a new SPECIMEN group: its OBXs belong to no OBR yet
        elif order is not None:
            okey = order.filler_id or order.placer_id
            if okey:
                self.specimen_orders.setdefault(key, []).append(okey)

    def _order_static(self, seg: Segment) -> tuple:
        """(set id, universal service id, status, reason): what an OBR fixes apart from its order numbers,
        times and place."""
        self._unplaced(seg, PLACED_OBR_FIELDS)
        d = self.d
        set_id = seg.get(1).strip()
        return (int(set_id) if is_ascii_digits(set_id) else None, dt.parse_cwe(seg.get(4).strip(), d),
                seg.get(25).strip() or None, dt.parse_cwe(seg.get(31), d))

    def note(self, seg: Segment) -> str:
        """An NTE's comment (NTE-3, repetitions as lines); '' when it says nothing."""
        return "\n".join(unescape(r, self.d) for r in repetitions(seg.get(3), self.d)).strip()

    def nte(self, seg: Segment) -> None:
        self._unplaced(seg, PLACED_NTE_FIELDS)
        text = self.note(seg)
        if not text:
            return
        if self.last_metric_index is not None:
            m = self.metrics[self.last_metric_index]
            self.metrics[self.last_metric_index] = replace(m, notes=m.notes + (text,))
        elif self.order_note and not self.pcd:
            # NTE right after an OBR (ORU_R01 ORDER_OBSERVATION, MDM, OML): the order's comment, which the
            # v2-to-FHIR IG maps to ServiceRequest.note (ConceptMap segment-nte-to-servicerequest); device
            # messages have no ServiceRequest (PoCD IG), so there it stays a finding
            self.orders[-1] = replace(self.orders[-1], notes=self.orders[-1].notes + (text,))
        else:
            self.tolerate(seg, 3, "hl7v2.note-not-placed",
                          "NTE not following an OBX (order or message comment) is not mapped", severity="info")

    # -- OBX -----------------------------------------------------------------------------------

    def obx(self, seg: Segment) -> None:
        f = seg.fields
        self.order_note = False
        if len(f) < 21:  # absent trailing fields read as empty
            f.extend(_EMPTY_FIELDS[:21 - len(f)])
        # Everything but OBX-1 (set id), OBX-5 (value), OBX-8 (flags) and OBX-14 (time) is the same in
        # every message of a device feed: what it reads to is planned once per text and reused (`_ObxPlan`).
        value_raw = f[5]
        key = (self.pcd, not value_raw or value_raw.isspace(), f[2], f[3], f[4], f[6], f[7], *f[9:14], *f[15:])
        plan = self.plans.get(key) or self.plans.recall(key)
        if plan is None:
            plan = self._read_new(self.plans, key, self._obx_plan, seg)
        if plan.sets_pcd:
            self.pcd = True
        if plan.level is not None and key[1]:  # no value: the row describes a device
            self._device_row(seg, plan)
            return
        value, absent, status, interpretation, effective = self.reading(seg, plan)
        limits = self._range(seg, 7, value) if f[7] else None
        order = self.group.order
        pcd = self.pcd
        device_key = self._metric_device(seg, plan.path, plan.equipment)
        if plan.equipment:  # OBX-18 on a metric row: the equipment that made it (serials, DOR, addresses)
            self._equipment(seg, device_key, plan.equipment)
        self.metrics.append(Metric(
            code=plan.code, value=value, data_absent_reason=absent, measurement_status=status,
            interpretation=interpretation, result_status=plan.result_status, effective=effective,
            reference_range=None if pcd else limits, alarm_limits=limits if pcd else None, method=plan.method,
            body_site=plan.body_site, device_key=device_key, containment=plan.path or (),
            observation_id=plan.observation_id, group=(order.filler_id or order.placer_id) if order else None,
            specimen=self.specimen_key, source=SourceRef(location=f"OBX[{seg.ordinal}]", offset=seg.offset)))
        self.last_metric_index = len(self.metrics) - 1

    def reading(self, seg: Segment, plan: _ObxPlan) -> tuple[MetricValue | None, str | None, tuple[str, ...],
                                                             tuple[Coding, ...], Timestamp | None]:
        """What an OBX row of `plan` says this time: (value, data-absent reason, measurement
        status, interpretation, effective time) from OBX-5, OBX-8 and OBX-14 (else the OBR-7 time), the
        fields that change from message to message; findings go to `self.issues`."""
        f = seg.fields  # padded to OBX-20 by the caller
        value_raw = f[5]
        vtype = plan.vtype
        if not f[8] and not f[14] and (not value_raw or value_raw.isspace()):  # device rows: nothing to read
            return None, "unknown" if vtype else None, (), (), self.group.observed
        # flags come and go (H/L, ALACT while in alarm ...): read per text, outside the plan
        status, interpretation, flag_absent, unknown = _flags(f[8], self.d) if f[8] else _NO_FLAGS
        for flag in unknown:
            self.tolerate(seg, 8, "hl7v2.unknown-flag", f"OBX-8 flag {flag!r} is neither in HL7 table 0078 nor an "
                          "IHE PCD measurement status; kept as a measurement status", severity="info")
        value = None
        if vtype == "NM" and plan.unit is not None:  # a plain number in a unit read before: no finding possible
            try:
                number = dt.parse_nm(value_raw)
            except ValueError:  # NaN, repetitions, bad numbers: `_value` reads and reports them
                pass
            else:
                unit = plan.unit
                value = NumericValue(quantity=Quantity(value=number, unit=unit[0], unit_mdc=unit[1],
                                                       unit_text=unit[2]))
                absent = None
        if value is None:
            value, absent = self._value(seg, vtype, value_raw)
        if value is None and absent is None:
            absent = flag_absent or ("unknown" if vtype else None)
        effective = (self.ts(seg, 14) if f[14] else None) or self.group.observed
        return value, absent, status, interpretation, effective

    def _obx_plan(self, seg: Segment) -> _ObxPlan:
        """What an OBX reads to apart from its value and time; findings go to `self.issues`."""
        d = self.d
        f = seg.fields  # padded to OBX-20 by `obx`
        vtype = f[2].strip()
        code_raw = f[3].strip()
        code = self._code(code_raw, seg, 3)
        if code is None:
            self.tolerate(seg, 3, "hl7v2.missing-field", "OBX-3 observation identifier is empty",
                          expected="a coded observation identifier (CWE)")
            code = CodeableConcept(text="(no observation identifier)")
        sub_raw = f[4]
        path = pcd.parse_sub_id(sub_raw)
        sets_pcd = not self.pcd and (path is not None and len(path) >= 4 or dt.cwe_system_name(code_raw, d) == "MDC")
        if sets_pcd:
            self.pcd = True
        if path is not None and len(path) > 4:
            self.tolerate(seg, 4, "hl7v2.pcd-facet",
                          f"OBX-4 {sub_raw.strip()!r} has {len(path)} parts; read as a facet of metric "
                          f"{'.'.join(map(str, path[:4]))}", severity="info")
        level = pcd.device_level(path) if path else None
        if vtype in SAMPLE_ARRAY_TYPES:  # a waveform is no vital sign: the profile wants a Quantity
            code = _without_added_loinc(code, code_raw, d)
        if f[18]:
            self._eui64_shape(seg, 18, f[18])
        if code.codings and dt.cwe_system_name(code_raw, d) == "MDC":
            first = components(code_raw, d)[0].strip()
            if first and not is_ascii_digits(first) and is_ascii_digits(code.codings[0].code):
                self.quirk(seg, 3, "refid-as-code", f"OBX-3 carries the MDC reference id {first!r} where the numeric "
                           f"code belongs; read as {code.codings[0].code}")
        equipment = tuple(e for e in (self._ei(r) for r in repetitions(f[18], d)) if e) if f[18] else ()
        if equipment and "eui64-in-entity-id" in self.profile.quirks:
            equipment = self._eui64_in_entity_id(seg, f[18], equipment)
        if f[18] and f[18].strip() and len(equipment) < len([r for r in repetitions(f[18], d) if r.strip()]):
            self.tolerate(seg, 18, "hl7v2.equipment-not-read", "OBX-18 repetition without an entity or universal "
                          "id (e.g. '^GATEWAY') is no identifier; kept in the raw input only", severity="info")
        for c in code.codings:
            if c.system is None:
                name = dt.cwe_system_name(code_raw, d)
                if name and name != "L" and not name.startswith("99"):
                    self.tolerate(seg, 3, "hl7v2.unknown-coding-system", f"OBX-3 coding system {name!r} has no "
                                  "known URI; the coding is emitted without a system", severity="info")
                break
        plan = _ObxPlan(vtype=vtype, code=code, path=path, level=level, equipment=equipment, sets_pcd=sets_pcd)
        if level is not None:  # a device row when OBX-5 is empty: fields a device row must not carry
            plan.device_key = pcd.device_key(path, level)
            plan.device_findings = tuple(n for n in (6, 7) if f[n] and f[n].strip())
        plan.result_status = f[11].strip() or None
        plan.method = dt.parse_cwe(f[17], d) if f[17] else None
        plan.body_site = dt.parse_cwe(repetitions(f[20], d)[0], d) if f[20] else None
        plan.observation_id = sub_raw.strip() or None
        unit_raw = self._unit_text(seg)
        if not unit_raw or unit_raw == dt.NULL:
            plan.unit = (None, None, None)
        else:
            try:
                plan.unit = _unit(unit_raw, d)
            except ValueError:  # `_unit` of the decoder reports it with each value
                plan.unit = None
        if level is None or f[5].strip():
            for n in UNPLACED_OBX_FIELDS:
                if f[n] and f[n].strip():
                    self.tolerate(seg, n, "hl7v2.field-not-placed", f"OBX-{n} is not mapped", severity="info")
            for n in range(21, len(f)):
                if f[n] and f[n].strip():
                    self.tolerate(seg, n, "hl7v2.field-not-placed", f"OBX-{n} is not mapped", severity="info")
        return plan

    def _code(self, raw: str, seg: Segment | None = None, n: int = 0) -> CodeableConcept | None:
        """CWE text -> concept with its LOINC translation (cached per text: codes recur in every message)."""
        if self.aliases and seg is not None:
            raw = self._aliased(raw, seg, n)
        concept = self.codes.lookup(raw, _MISSING)
        if concept is not _MISSING:
            return concept
        concept = dt.parse_cwe(raw, self.d)
        if concept is not None:
            concept = _enrich(concept)
        self.codes.put(raw, concept)
        return concept

    def _aliased(self, raw: str, seg: Segment, n: int) -> str:
        """CWE text with the profile's coding-system aliases (quirk coding-system-alias) replaced."""
        d = self.d
        c = components(raw, d)
        changed = False
        for i in (2, 5, 11):
            if len(c) > i and c[i].strip() in self.aliases:
                name = c[i].strip()
                c[i] = self.aliases[name]
                changed = True
                self.quirk(seg, n, "coding-system-alias", f"{seg.name}-{n} coding system {name!r} read as {c[i]!r}")
        return d.component.join(c) if changed else raw

    def _eui64_shape(self, seg: Segment, n: int, raw: str) -> None:
        """Record the EUI-64 shapes the decoder reads beyond IHE PCD's '<eui64>^^<eui64>^EUI-64' (quirks
        eui64-type-spelling and eui64-type-in-namespace)."""
        d = self.d
        for rep in repetitions(raw, d):
            c = [x.strip() for x in components(rep, d)]
            for x in c[1:]:
                if x and x != "EUI-64" and dt.is_eui64_type(x):
                    self.quirk(seg, n, "eui64-type-spelling", f"{seg.name}-{n} spells the EUI-64 type {x!r}")
            if len(c) == 2 and dt.EUI64.match(c[0]) and dt.is_eui64_type(c[1]):
                self.quirk(seg, n, "eui64-type-in-namespace", f"{seg.name}-{n} is '<EUI-64>^{c[1]}': the type in the "
                           "second component")

    def _eui64_in_entity_id(self, seg: Segment, raw: str, equipment: tuple[Identifier, ...]) -> tuple[Identifier, ...]:
        """OBX-18 '080019FFFE0B4020^B40_GE' (GE CARESCAPE/B40): 16 hex digits in EI.1, the model in EI.2, no
        universal id or type; read as the EUI-64 when the profile's quirk eui64-in-entity-id lists the namespace."""
        q = self.profile.quirks["eui64-in-entity-id"]
        patterns = [p.upper() for p in q.params.get("namespaces", ("*",))]
        out = []
        for ident in equipment:
            ns = (ident.assigner or "").upper()
            if (ident.system is None and ident.type is None and dt.EUI64.match(ident.value)
                    and any(fnmatchcase(ns, p) for p in patterns)):
                self.quirk(seg, 18, "eui64-in-entity-id", f"OBX-18 {raw.strip()!r} has no universal id type; its "
                           "entity id read as an EUI-64")
                ident = Identifier(value=ident.value.upper(), system=EUI64_SYSTEM, type="EUI-64",
                                   assigner=ident.assigner)
            out.append(ident)
        return tuple(out)

    def _unit_text(self, seg: Segment) -> str:
        """OBX-6 as read: '^unit' moved to the identifier when the profile lists units-in-component-2."""
        raw = seg.get(6).strip()
        if raw[:1] == self.d.component and "units-in-component-2" in self.profile.quirks:
            c = components(raw, self.d)
            if len(c) > 1 and c[1].strip() and not c[0].strip():
                if self.quirk(seg, 6, "units-in-component-2", f"OBX-6 {raw!r} has no identifier; its text "
                              f"{c[1].strip()!r} read as the unit"):
                    rest = c[2:] if len(c) > 2 and any(x.strip() for x in c[2:]) else []
                    return self.d.component.join([c[1].strip(), c[1].strip(), *rest]) if rest else c[1].strip()
        return raw

    def _ei(self, raw: str) -> Identifier | None:
        """EI text -> Identifier (cached per text: device and gateway identities recur in every message)."""
        ident = self.entities.lookup(raw, _MISSING)
        if ident is _MISSING:
            ident = self.entities.put(raw, dt.parse_ei(raw, self.d))
        return ident

    def _device_row(self, seg: Segment, plan: _ObxPlan) -> None:
        key = plan.device_key
        node = self.nodes.get(key)
        if node is None or node.implicit:
            node = _Node(key=key, level=plan.level)
            self.nodes[key] = node
        else:
            self.tolerate(seg, 4, "hl7v2.duplicate-device", f"device {key} described twice; merged",
                          severity="info")
        node.type = plan.code
        if plan.equipment:
            node.identifiers.extend(i for i in plan.equipment if i not in node.identifiers)
        node.source = SourceRef(location=f"OBX[{seg.ordinal}]", offset=seg.offset)  # _source(seg) of an OBX
        f = seg.fields  # padded to OBX-20 by `obx`
        runtime = tuple(n for n in (8, 14) if f[n] and f[n].strip())  # OBX-8/14 are outside the plan
        for n in plan.device_findings + runtime:
            self.tolerate(seg, n, "hl7v2.field-not-placed", f"OBX-{n} on a device row is not mapped",
                          severity="info")
        self._ensure_parents(key)

    def _equipment(self, seg: Segment, key: str | None, equipment: tuple[Identifier, ...]) -> None:
        """OBX-18 identifiers of a metric row land on its device node; without one they are reported."""
        node = self.nodes.get(key) if key else None
        while node is not None and node.implicit and "." in node.key:  # a channel/VMD known only from OBX-4:
            node = self.nodes.get(node.key.rsplit(".", 1)[0])  # the equipment is the nearest declared device
        if node is None:
            self.tolerate(seg, 18, "hl7v2.equipment-not-placed", "OBX-18 equipment identifier of a metric that "
                          "belongs to no device row; kept in the raw input only", severity="info")
            return
        for ident in equipment:
            if ident not in node.identifiers:
                node.identifiers.append(ident)

    def _ensure_parents(self, key: str) -> None:
        for depth, pkey in enumerate(_parent_keys(key), 1):
            if pkey not in self.nodes:
                self.nodes[pkey] = _Node(key=pkey, level=("mds", "vmd")[depth - 1], implicit=True)

    def _metric_device(self, seg: Segment, path: tuple[int, ...] | None,
                       equipment: tuple[Identifier, ...]) -> str | None:
        if path:
            keys = pcd.ancestors(path[:4])
            for key in keys:
                if key in self.nodes:
                    if len(keys) == 3 and key != keys[0]:
                        # PoCD IG device hierarchy: OBX-4 x.y.z.n names channel x.y.z (and VMD x.y) of a known
                        # MDS even when no device row declares them; the metric's DeviceMetric.parent is that
                        # channel's Device, made from OBX-4 (no type: the source gives none)
                        self.nodes[keys[0]] = _Node(key=keys[0], level="channel", implicit=True)
                        self._ensure_parents(keys[0])
                        return keys[0]
                    return key
        if equipment:  # match a declared device by identifier, else create an MDS for it
            for node in self.nodes.values():
                if any(e in node.identifiers for e in equipment):
                    return node.key
            if path and path[0] != 0:
                key = str(path[0])
                self.nodes[key] = _Node(key=key, level="mds", identifiers=list(equipment),
                                        source=SourceRef(location=seg.where(18), offset=seg.offset))
                if len(keys) == 3:  # the metric's channel, as for the rows after it (the branch above)
                    self.nodes[keys[0]] = _Node(key=keys[0], level="channel", implicit=True)
                    self._ensure_parents(keys[0])
                    return keys[0]
                return key
        if path and path[0] != 0 and self.nodes:
            return None
        return None

    def _value(self, seg: Segment, vtype: str, raw: str):
        """OBX-5 by OBX-2 → (MetricValue | None, absent reason | None)."""
        d = self.d
        text = raw.strip()
        if not text:
            return None, None
        if text == dt.NULL:
            return None, "unknown"
        try:
            if vtype in NUMERIC_TYPES:
                reps = repetitions(text, d)
                if len(reps) > 1:
                    self.tolerate(seg, 5, "hl7v2.repeated-value", "NM value repeats; only the first is read")
                if reps[0].strip().upper() == "NAN":
                    return None, "not-a-number"
                return NumericValue(quantity=self._quantity(seg, dt.parse_nm(reps[0]))), None
            if vtype in CODED_TYPES:
                reps = repetitions(text, d)
                concept = self._code(reps[0], seg, 5)
                if len(reps) > 1:
                    self.tolerate(seg, 5, "hl7v2.repeated-value", f"{vtype} value repeats; only the first is read")
                return (CodedValue(concept=concept), None) if concept else (None, "unknown")
            if vtype == "SN":
                return self._sn(seg, text), None
            if vtype in ("ED", "RP"):  # encapsulated data / reference pointer (codecs.hl7v2.attachment)
                return attachment.read(self, seg, vtype, raw)
            if vtype == "NA":
                return self._na(seg, text), None
            if vtype == "TM":  # a time of day (HHMM[SS[.S]][+ZZZZ]), not a date: ISO text -> FHIR valueTime
                return TimeValue(text=dt.parse_tm(text)), None
            if vtype in TIME_TYPES:
                stamp = self.ts(seg, 5, text)
                return (DateTimeValue(timestamp=stamp), None) if stamp else (None, "error")
            if vtype in STRING_TYPES or vtype == "":
                if vtype == "":
                    self.tolerate(seg, 2, "hl7v2.missing-value-type", "OBX-5 has a value but OBX-2 is empty; "
                                  "read as ST", expected="a value type from HL7 table 0125")
                parts = [unescape(r, d) for r in repetitions(raw, d)]
                return StringValue(text="\n".join(parts)), None
            if vtype == "NR":  # numeric range (HL7 v2 data type NR: low^high; IHE PCD sends MDC_ATTR_DATA_RANGE so)
                return self._nr(seg, text), None
            if vtype in values.RARE_TYPES:  # IS ID DR MA MO CP and the person/address/phone/id composites
                return values.read(self, seg, vtype, raw)
            self.tolerate(seg, 2, "hl7v2.unsupported-value-type",
                          f"value type {vtype!r} is not supported; value kept as text",
                          expected="a value type from HL7 table 0125 (v2.5-v2.8)")
            return StringValue(text=unescape(raw, d)), None
        except ValueError as exc:
            self.tolerate(seg, 5, "hl7v2.bad-value", f"{exc}; value kept as text",
                          expected=f"a valid {vtype} value")
            return StringValue(text=unescape(raw, d)), "error"

    def _unit(self, seg: Segment) -> tuple[str | None, Coding | None, str | None]:
        raw = self._unit_text(seg)
        if not raw or raw == dt.NULL:
            return None, None, None
        hit = self.units.get(raw) or self.units.recall(raw)
        if hit is not None:
            return hit
        try:
            unit = _unit(raw, self.d)
            self.units.put(raw, unit)
            return unit
        except UnitWhitespace as exc:  # not cached: the finding is recorded for every message that has it
            where = seg.where(6)  # once per OBX (its value and its reference range both read the unit)
            if not any(i.code == "hl7v2.unit-whitespace" and i.location == where for i in self.issues):
                self.tolerate(seg, 6, "hl7v2.unit-whitespace", f"UCUM unit {exc.text!r} has whitespace, which no "
                              "UCUM code has; kept as the unit's text, without a UCUM code", expected="a UCUM code")
            return None, None, exc.text
        except ValueError as exc:
            self.tolerate(seg, 6, "hl7v2.bad-unit", f"{exc}; no unit read",
                          expected="units as CWE (code^text^MDC|UCUM)")
            return None, None, None

    def _quantity(self, seg: Segment, value: Decimal, comparator: str | None = None) -> Quantity:
        ucum, mdc, text = self._unit(seg)
        return Quantity(value=value, comparator=comparator, unit=ucum, unit_mdc=mdc, unit_text=text)

    def _sn(self, seg: Segment, text: str):
        comparator, n1, sep, n2 = dt.parse_sn(text, self.d)
        if comparator == "<>" or sep in ("+", "."):
            # v2-to-FHIR IG: SN "<>" (not equal) and "+" (categorical, "2^+") have no Quantity form:
            # valueString of OBX-5.1..5.4 and the units (OBX-6), space separated
            parts = [comparator or "", _sn_number(n1), sep or "", _sn_number(n2), self._unit_label(seg)]
            return StringValue(text=" ".join(p for p in parts if p))
        if sep is None or n2 is None:
            return NumericValue(quantity=self._quantity(seg, n1 if n1 is not None else n2,
                                                        None if comparator == "=" else comparator))
        if sep == "-":
            return RangeValue(low=self._quantity(seg, n1), high=self._quantity(seg, n2))
        if sep in (":", "/"):
            return RatioValue(numerator=self._quantity(seg, n1), denominator=Quantity(value=n2))
        return StringValue(text=text)

    def _nr(self, seg: Segment, text: str) -> RangeValue:
        """NR `low^high` in OBX-6's unit; an empty side is unbounded (ValueError: not numbers)."""
        c = components(text, self.d)
        low, high = c[0].strip(), (c[1].strip() if len(c) > 1 else "")
        if len(c) > 2 and any(x.strip() for x in c[2:]):
            raise ValueError(f"NR {text!r} has more than two components")
        if not low and not high:
            raise ValueError("NR has neither a low nor a high value")
        return RangeValue(low=self._quantity(seg, dt.parse_nm(low)) if low else None,
                          high=self._quantity(seg, dt.parse_nm(high)) if high else None)

    def _unit_label(self, seg: Segment) -> str:
        ucum, mdc, utext = self._unit(seg)
        return ucum or utext or (mdc.display or mdc.code if mdc is not None else "")

    def _na(self, seg: Segment, text: str) -> SampleArrayValue:
        samples: list[Decimal] = []
        bad = 0
        for part in components(text, self.d):
            part = part.strip()
            if not part:
                bad += 1
                continue
            try:
                samples.append(dt.parse_nm(part.replace(" ", "")))
            except ValueError:
                bad += 1
        if not samples:  # nothing to sample: FHIR SampledData.data may not be empty
            raise ValueError("NA has no numeric sample")
        if bad:
            self.tolerate(seg, 5, "hl7v2.bad-sample", f"{bad} of {bad + len(samples)} NA samples are empty or "
                          "not numeric and were skipped", expected="numeric components")
        ucum, mdc, utext = self._unit(seg)
        origin = Quantity(value=Decimal(0), unit=ucum, unit_mdc=mdc, unit_text=utext)
        return SampleArrayValue(samples=tuple(samples), origin=origin)

    def _range(self, seg: Segment, n: int, value) -> Range | None:
        raw = seg.get(n).strip()
        if not raw or raw == dt.NULL:
            return None
        unit_raw = seg.get(6).strip() if isinstance(value, NumericValue) else ""
        cached = self.ranges.get((raw, unit_raw)) or self.ranges.recall((raw, unit_raw))  # ranges (alarm limits) repeat message after message
        if cached is not None:
            return cached
        return self._read_new(self.ranges, (raw, unit_raw), self._read_range, seg, n, raw, value)

    def _read_range(self, seg: Segment, n: int, raw: str, value) -> Range | None:
        text = unescape(raw, self.d)
        unit = self._unit(seg) if isinstance(value, NumericValue) else (None, None, None)
        low = high = None
        try:
            if text.startswith(("<", ">")):
                op = text[0]
                num = dt.parse_nm(text.lstrip("<>="))
                if op == "<":
                    high = num
                else:
                    low = num
            elif "-" in text[1:]:
                i = text.index("-", 1)
                lo, hi = text[:i], text[i + 1:]
                low = dt.parse_nm(lo) if lo.strip() else None
                high = dt.parse_nm(hi) if hi.strip() else None
            else:
                return Range(text=text)
            if low is not None and high is not None and low > high:  # e.g. a DTM '20150119221713-0000'
                self.tolerate(seg, n, "hl7v2.bad-range", f"OBX-{n} {text!r} is no range (its low end is above its "
                              "high end); not placed", expected="low-high with low <= high")
                return None
        except ValueError:
            self.tolerate(seg, n, "hl7v2.bad-range", f"OBX-{n} {text!r} is not a numeric range; kept as text",
                          severity="info")
            return Range(text=text)

        def q(v):
            return Quantity(value=v, unit=unit[0], unit_mdc=unit[1], unit_text=unit[2]) if v is not None else None

        return Range(low=q(low), high=q(high), text=text)


def _sn_number(n: Decimal | None) -> str:
    return "" if n is None else str(n)


class _Tables:
    """What the decoder remembers of earlier messages, for one set of delimiters (nearly always the default
    "|^~\\&"): codes, units, identifiers and whole OBX rows recur in every message of a sender. Keyed by
    field text, so a lookup hashes short strings only; each table is bounded and evicts the least recently
    used entries (interop.memo.Memo), so a busy feed keeps every monitor's rows."""

    __slots__ = ("codes", "units", "entities", "systems", "plans", "ranges", "segments_read")

    def __init__(self) -> None:
        # sized for a central station: 200+ monitors of a dozen OBX rows each stay in the young generation
        self.codes = Memo(4096)  # str -> CodeableConcept | None
        self.units = Memo(1024)  # str -> (UCUM, MDC coding, text)
        self.entities = Memo(4096)  # str -> Identifier | None
        self.systems = Memo(2048)  # tuple -> Endpoint, (Endpoint, gateway Device)
        self.plans = Memo(8192)  # tuple -> _ObxPlan
        self.ranges = Memo(4096)  # (str, str) -> Range
        self.segments_read = Memo(4096)  # tuple -> Patient, (Encounter, practitioners), MSH and OBR parts


_TABLES = Memo(16)  # Delimiters (or (Delimiters, quirk profile name)) -> _Tables (nearly always one: "|^~\\&")
_DOTLESS = re.compile(r"^(\d{14})(\d{1,4})([+-]\d{4})?$", re.ASCII)  # quirk dotless-timestamp


def _profile_for(parsed: ParsedMessage) -> quirks.Profile:
    """The quirk profile of a message: chosen (--quirks / quirks.use), else detected from MSH-3/4/21."""
    msh = parsed.segments[0] if parsed.segments else None
    if msh is None or msh.name != "MSH":
        return quirks.select("", "", "")
    d = parsed.delimiters

    def first(n: int) -> str:
        return msh.get(n).split(d.repetition, 1)[0].split(d.component, 1)[0].strip()

    return quirks.select(first(3), first(4), first(21))


def _tables(d) -> _Tables:
    tables = _TABLES.recall(d)
    return _TABLES.put(d, _Tables() if tables is None else tables)


def _source(seg: Segment) -> SourceRef:
    """Where `seg` is: its place ("OBX[3]") and byte offset."""
    return SourceRef(location=seg.where(), offset=seg.offset)

_EMPTY_FIELDS = [""] * 21


def _entity(raw: str, ident: Identifier | None, d: Delimiters) -> str | None:
    """An EI's entity id (EI.1) as sent; the identifier's value when EI.1 is empty."""
    first = unescape(components(raw, d)[0], d).strip() if raw else ""
    return first or (ident.value if ident else None)


def _hoist_identities(nodes: dict[str, _Node], gateway: Device | None) -> None:
    """OBX-18 identities that name a device above the row's own: kept on that device only.

    Monitors (GE CARESCAPE/B40, the IHE PCD examples) put the MDS's EUI-64 in OBX-18 of every metric row,
    so it reaches a declared channel as well as the MDS, or only the channel; with it on two Devices (or on
    the channel and on MSH-3's gateway Device) a conditional create matches two resources. An identifier
    that is MSH-3's EUI-64 belongs to the MDS (the device sent its own data); one that an ancestor already
    carries is that ancestor's."""
    own = {(i.system, i.value) for i in gateway.identifiers if i.system == EUI64_SYSTEM} if gateway else set()
    for key in sorted(nodes, key=_key_order):
        if "." not in key:
            continue
        node = nodes[key]
        if not node.identifiers:
            continue
        root = nodes.get(key.split(".", 1)[0])
        above = [nodes[k] for k in _parent_keys(key) if k in nodes]
        keep = []
        for ident in node.identifiers:
            if any(ident in a.identifiers for a in above):
                continue
            if (ident.system, ident.value) in own and root is not None:
                root.identifiers.append(ident)
                continue
            keep.append(ident)
        node.identifiers[:] = keep


def _own_gateway(gateway: Device, nodes: dict[str, _Node]) -> str | None:
    """The key of the MDS whose OBX-18 EUI-64 is the gateway's MSH-3 EUI-64, if any."""
    ids = {(i.system, i.value) for i in gateway.identifiers}
    for key, node in nodes.items():
        if node.level == "mds" and any((i.system, i.value) in ids for i in node.identifiers):
            return key
    return None


def forget() -> None:
    """Empty the decoder's memos of recurring text (codes, units, OBX plans, numbers, PID/PV1 ...)."""
    _TABLES.forget()


_MISSING = object()
# segments whose content has no place in the model (the message's envelope): reported as not placed
ENVELOPE_SEGMENTS = frozenset({"SFT", "EVN", "ORC", "PD1", "PV2", "TQ1", "MSA", "ERR"})


@lru_cache(maxsize=1024)  # device keys ("1", "1.2", "1.2.1") recur in every message
def _parent_keys(key: str) -> tuple[str, ...]:
    """Keys of the ancestors of a device key, top first ("1.2.1" -> ("1", "1.2"))."""
    parts = key.split(".")
    return tuple(".".join(parts[:depth]) for depth in range(1, len(parts)))


@lru_cache(maxsize=1024)  # device keys ("1", "1.2", "1.2.1") recur in every message
def _key_order(key: str) -> tuple[int, ...]:
    return tuple(int(p) if is_ascii_digits(p) else 0 for p in key.split("."))


# OBX value types read to a sample array (SampleArrayValue): numeric and multiplexed arrays
SAMPLE_ARRAY_TYPES = frozenset({"NA", "MA"})


def _without_added_loinc(concept: CodeableConcept, raw: str, d: Delimiters) -> CodeableConcept:
    """`concept` without the vital-signs LOINC coding `_enrich` added (a sender's own LOINC coding stays).

    A waveform (NA/MA) sent under a numeric's MDC code, e.g. '150456^MDC_PULS_OXIM_SAT_O2_WAVEFORM^MDC', is
    a SampledData: with the vital-signs LOINC code (2708-6) the R4 validator holds it to the vital-signs
    profile, whose value[x] is a Quantity, and the Observation fails."""
    if concept.code_in(LOINC_SYSTEM) is None:
        return concept
    sent = dt.parse_cwe(raw, d)
    if sent is not None and sent.code_in(LOINC_SYSTEM) is not None:
        return concept
    return replace(concept, codings=tuple(c for c in concept.codings if c.system != LOINC_SYSTEM))


@lru_cache(maxsize=4096)
def _enrich(concept: CodeableConcept) -> CodeableConcept:
    """Add the LOINC vital-signs coding to an MDC-coded concept (and the MDC refid as display)."""
    mdc_code = concept.code_in(MDC_SYSTEM)
    if mdc_code is None or concept.code_in(LOINC_SYSTEM):
        return concept
    codings = list(concept.codings)
    i = next(n for n, c in enumerate(codings) if c.system == MDC_SYSTEM)
    if is_ascii_digits(mdc_code):
        term = mdc.term(mdc_code)
        if term is not None and codings[i].display is None:
            codings[i] = replace(codings[i], display=term.refid)
    else:  # some senders put the reference id where the numeric code belongs
        term = mdc.term_by_refid(mdc_code)
        if term is not None:
            original = codings[i].display
            codings[i] = Coding(system=MDC_SYSTEM, code=str(term.code), display=term.refid)
            mdc_code = str(term.code)
            if original and original != term.refid and concept.text is None:
                concept = replace(concept, text=original)
    loinc = mdc.loinc_for(mdc_code) if is_ascii_digits(mdc_code) else None
    if loinc:
        codings.append(Coding(system=LOINC_SYSTEM, code=loinc[0], display=loinc[1]))
    return replace(concept, codings=tuple(codings))


class UnitWhitespace(ValueError):
    """A unit declared UCUM whose code has whitespace (tabs, double spaces): kept as unit text only."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@lru_cache(maxsize=1024)
def _unit(raw: str, d) -> tuple[str | None, Coding | None, str | None]:
    """OBX-6 → (UCUM code, MDC unit coding, text). MDC units are translated to UCUM through the
    terminology tables; UCUM units get their MDC twin when one exists."""
    c = components(raw, d)
    code = unescape(c[0], d).strip()
    text = unescape(c[1], d).strip() if len(c) > 1 else ""
    system = c[2].strip().upper() if len(c) > 2 else ""
    alt_code = unescape(c[3], d).strip() if len(c) > 3 else ""
    alt_system = c[5].strip().upper() if len(c) > 5 else ""
    ucum = mdc_coding = None
    for cd, tx, sy in ((code, text, system), (alt_code, "", alt_system)):
        if not cd:
            continue
        if sy == "MDC":
            mdc_coding = Coding(system=MDC_SYSTEM, code=cd, display=tx or None)
            unit = mdc.unit(cd) if is_ascii_digits(cd) else (mdc.unit_by_refid(tx) if tx else None)
            if unit is not None:
                if mdc_coding.display is None:
                    mdc_coding = Coding(system=MDC_SYSTEM, code=cd, display=unit.refid)
                ucum = ucum or unit.ucum
        elif sy in ("UCUM", "ANS+"):
            if len(cd.split()) != 1:  # no UCUM code has whitespace; a FHIR server refuses it in Quantity.code
                raise UnitWhitespace(" ".join(cd.split()))
            ucum = cd
            if mdc_coding is None:
                unit = mdc.unit_by_ucum(cd)
                if unit is not None:
                    mdc_coding = Coding(system=MDC_SYSTEM, code=str(unit.code), display=unit.refid)
        elif not sy and cd and len(c) == 1:
            # a bare unit string: UCUM when the tables know it, otherwise text
            unit = mdc.unit_by_ucum(cd)
            if unit is not None:
                return cd, Coding(system=MDC_SYSTEM, code=str(unit.code), display=unit.refid), None
            return None, None, cd
    if ucum is None and mdc_coding is None:
        numeric = sum(1 for p in c if is_ascii_digits(p.strip().lstrip("+-").replace(".", "", 1)))
        if len(c) > 6 and numeric * 2 >= len(c):
            raise ValueError(f"OBX-6 looks like data ({len(c)} numeric components), not a unit")
        return None, None, text or code or None
    return ucum, mdc_coding, None if ucum else (text or None)


_NO_FLAGS: tuple[tuple[str, ...], tuple[Coding, ...], str | None, tuple[str, ...]] = ((), (), None, ())


@lru_cache(maxsize=4096)  # flag texts recur ("", "H", "N", "ALACT~H" ...)
def _flags(text: str, d: Delimiters) -> tuple[tuple[str, ...], tuple[Coding, ...], str | None, tuple[str, ...]]:
    """OBX-8 → (measurement status names, interpretations, data-absent reason a flag names, flags that
    are neither): IHE PCD device flags per the terminology flag table, abnormal flags per table 0078."""
    status: list[str] = []
    interpretation: list[Coding] = []
    absent = None
    unknown: list[str] = []
    for flag in repetitions(text, d):
        flag = components(flag, d)[0].strip()  # OBX-8 is CWE from v2.7 ("N^Normal^HL70078"): the code
        if not flag:
            continue
        if flag in pcd.MEASUREMENT_STATUS:
            status.append(pcd.MEASUREMENT_STATUS[flag])
            if absent is None:
                absent = pcd.ABSENT_REASON.get(flag)
            continue
        coding = _interpretation(flag)
        if coding is None:
            status.append(flag)
            unknown.append(flag)
        else:
            interpretation.append(coding)
    return tuple(status), tuple(interpretation), absent, tuple(unknown)


@lru_cache(maxsize=256)
def _interpretation(flag: str) -> Coding | None:
    """OBX-8 flag (HL7 table 0078) → v3 ObservationInterpretation coding (interop.terminology.v2tables)."""
    from interop.terminology import v2tables

    hit = v2tables.interpretation_for(flag)
    if hit is None:
        return None
    system, code, display = hit
    return Coding(system=system, code=code, display=display)


__all__ = ["HL7v2Decoder", "UCUM_SYSTEM"]
