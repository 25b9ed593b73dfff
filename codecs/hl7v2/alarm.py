"""IHE PCD-04 (ORU^R40, Report Alert) → canonical `Alarm`s.

An alert is reported as one OBR (OBR-3: the alert instance identifier, OBR-29: the alert it updates
or ends) and a group of OBX facets sharing a 4-part containment path, the facet number as a fifth
part (IHE PCD TF-2 "ORU^R40 OBX"; HL7 PoCD IG mappingv2):

    x.x.x.x.1  the event: OBX-3 the alert code (MDC_EVT_*) with the text in OBX-5, or OBX-3
               MDC_EVT_ALARM with the alert code as a CWE in OBX-5
    x.x.x.x.2  the source: OBX-3 the metric that raised it with its value (OBX-5) and limits (OBX-7),
               or MDC_ATTR_ALERT_SOURCE with the source as a code or a name
    x.x.x.x.3+ the alert attributes: MDC_ATTR_EVENT_PHASE, _ALARM_STATE, _ALARM_INACTIVATION_STATE,
               _ALARM_PRIORITY, _ALERT_TYPE, _ALERT_TEXT

OBX-8 of the event row repeats: the abnormality (table 0078), the priority (PH/PM/PL/PN) and the
kind (SP/ST/SA). The attributes are read by their MDC reference id first, then by code: senders use
the 2008-era codes (68164-68168, which IEEE 11073-20601 gives to other attributes, so they count only
inside an alert group) as well as the current ones (68480-68485, 68546); these codes, the reference
ids and the priority/kind spellings are data (alert_attributes.toml beside this module). An attribute row becomes part
of its `Alarm`, never a Metric; everything the alarm reader cannot place is reported in
`Message.issues`.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interop.model import (
    MDC_SYSTEM,
    CodeableConcept,
    CodedValue,
    Coding,
    Identifier,
    Issue,
    Metric,
    NumericValue,
    Order,
    SourceRef,
    StringValue,
    Timestamp,
)
from interop.model.alarm import Alarm
from interop.text import is_ascii_digits

from . import datatypes as dt
from .tokenizer import components, subcomponents, unescape

if TYPE_CHECKING:
    from .decoder import HL7v2Decoder

ROLES = frozenset({"source", "phase", "state", "inactivation", "priority", "kind", "text"})
PRIORITIES = frozenset({"high", "medium", "low", "none"})
KINDS = frozenset({"physiological", "technical", "advisory"})
TABLE = Path(__file__).resolve().parent / "alert_attributes.toml"


def _load_table(path: Path = TABLE) -> dict[str, Any]:
    """The alert attribute table (alert_attributes.toml, shipped as package data), checked: every role, priority
    and kind named there is one the Alarm model has."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    checks = {"refid": ROLES, "code": ROLES, "legacy_code": ROLES, "priority": PRIORITIES, "kind": KINDS}
    for section, allowed in checks.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise ValueError(f"{path.name}: section [{section}] is missing")
        bad = sorted(f"{k} = {v!r}" for k, v in table.items() if v not in allowed)
        if bad:
            raise ValueError(f"{path.name} [{section}]: {', '.join(bad)}; expected one of {', '.join(sorted(allowed))}")
    if not is_ascii_digits(str(data.get("event_alarm", ""))):
        raise ValueError(f"{path.name}: event_alarm must be an MDC code (digits)")
    return data


_TABLE = _load_table()
# MDC reference id → the Alarm field it fills (IEEE 11073-10101 alert attributes as IHE PCD TF-2 uses them)
ROLE_BY_REFID: dict[str, str] = dict(_TABLE["refid"])
# current codes (IEEE 11073-10101a, as in IHE PCD TF-2 rev 9+): always alert attributes
ROLE_BY_CODE: dict[str, str] = {str(k): v for k, v in _TABLE["code"].items()}
# the 2008-era codes some senders still use; inside an alert group only (IEEE 11073-20601 gives these
# numbers to other attributes)
LEGACY_ROLE_BY_CODE: dict[str, str] = {str(k): v for k, v in _TABLE["legacy_code"].items()}
EVENT_ALARM = str(_TABLE["event_alarm"])  # MDC_EVT_ALARM: OBX-5 carries the alert code

PRIORITY: dict[str, str] = dict(_TABLE["priority"])
KIND: dict[str, str] = dict(_TABLE["kind"])
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", re.ASCII)


def is_alert_message(message_type: str | None) -> bool:
    """ORU^R40 (PCD-04 Report Alert) or ORA^R41 (alert status): every 5-part facet group is an alert."""
    return bool(message_type) and ("^R40" in message_type or "^R41" in message_type)


def _mdc(code: CodeableConcept) -> tuple[str | None, str | None]:
    """(MDC code, MDC reference id) of an OBX-3 concept."""
    for c in code.codings:
        if c.system == MDC_SYSTEM:
            return c.code, c.display
    return None, None


def _role(code: CodeableConcept, in_alert: bool) -> str | None:
    mdc_code, refid = _mdc(code)
    if refid and refid in ROLE_BY_REFID:
        return ROLE_BY_REFID[refid]
    if mdc_code in ROLE_BY_CODE:
        return ROLE_BY_CODE[mdc_code]
    if in_alert and mdc_code in LEGACY_ROLE_BY_CODE:
        return LEGACY_ROLE_BY_CODE[mdc_code]
    for c in code.codings:  # refids sent as the code, codes sent without their system (CWE.3 empty)
        if c.code in ROLE_BY_REFID:
            return ROLE_BY_REFID[c.code]
        if c.system is None:
            if c.display in ROLE_BY_REFID:
                return ROLE_BY_REFID[c.display]
            if c.code in ROLE_BY_CODE:
                return ROLE_BY_CODE[c.code]
            if in_alert and c.code in LEGACY_ROLE_BY_CODE:
                return LEGACY_ROLE_BY_CODE[c.code]
    return None


def _text(m: Metric) -> str | None:
    v = m.value
    if isinstance(v, StringValue):
        return v.text.strip() or None
    if isinstance(v, CodedValue):
        c = v.concept
        if c.codings:
            return c.codings[0].code
        return c.text
    if isinstance(v, NumericValue):
        return str(v.quantity.value)
    return None


def identifier(raw: str, d, *, sub: bool = False) -> Identifier | None:
    """An EI (components, or subcomponents inside an EIP) as the alert instance identifier: value = EI.1
    (the entity id, kept as sent, never replaced by the namespace's EUI-64); system from EI.3/EI.4
    (an OID, URI or UUID), `urn:ieee:eui64:<EUI-64>` for an EUI-64 namespace, the RFC 3986 system for
    a bare UUID; the namespace id (EI.2) as assigner."""
    parts = [unescape(x, d).strip() for x in (subcomponents(raw, d) if sub else components(raw, d))]
    parts += [""] * (4 - len(parts))
    entity, namespace, universal, utype = parts[:4]
    if not entity or entity == dt.NULL:
        return None
    system = None
    if universal:
        kind = utype.upper().replace("_", "-")
        if kind in ("EUI-64", "EUI64"):
            system = f"urn:ieee:eui64:{universal.upper()}"
        elif kind in ("ISO", "") and dt._OID.match(universal):
            system = f"urn:oid:{universal}"
        elif universal.startswith(("urn:", "http://", "https://")):
            system = universal
        elif kind == "UUID":
            system = f"urn:uuid:{universal}"
    if system is None and namespace.startswith(("urn:", "http://", "https://")):
        system = namespace
    if system is None and _UUID.match(entity):
        return Identifier(value=f"urn:uuid:{entity.lower()}", system="urn:ietf:rfc:3986",
                          assigner=namespace or None, type="alert-instance")
    return Identifier(value=entity, system=system, assigner=namespace or None, type="alert-instance")


def extract(dec: HL7v2Decoder, message_type: str | None) -> tuple[Alarm, ...]:
    """Take the alert groups out of `dec.metrics` (their rows become `Alarm`s), mark their OBRs as
    alarms and drop the decoder's findings those rows answered (facet sub-ids, priority/kind flags)."""
    if not dec.metrics:
        return ()
    alert_message = is_alert_message(message_type)
    if not alert_message and not any(len(m.containment) == 5 for m in dec.metrics):
        return ()  # a PCD-01 feed without facets: nothing to look at
    segments = dec.p.segments
    obrs = [s for s in segments if s.name == "OBR"]
    obr_offsets = [s.offset for s in obrs]

    def obr_of(m: Metric):
        if m.source is None or m.source.offset is None or not obr_offsets:
            return None
        i = bisect.bisect_right(obr_offsets, m.source.offset) - 1
        return obrs[i] if i >= 0 else None

    # the OBX rows of an alert: 5-part facets under one OBR and one 4-part path
    groups: dict[tuple, list[int]] = {}
    alert_obrs: set[int] = set()
    for i, m in enumerate(dec.metrics):
        obr = obr_of(m)
        obr_is_alert = obr is not None and _obr_is_alert(obr, dec)
        if len(m.containment) == 5 or (obr_is_alert and m.containment == () and alert_message):
            key = (obr.offset if obr is not None else -1, m.containment[:4])
            groups.setdefault(key, []).append(i)
            if obr_is_alert:
                alert_obrs.add(key[0])
    consumed: set[int] = set()
    answered: set[tuple[str, str]] = set()  # (location, finding code) no longer true once read as an alert
    alarms: list[Alarm] = []
    for (obr_offset, path), rows in groups.items():
        in_alert = alert_message or obr_offset in alert_obrs
        roles = [_role(dec.metrics[i].code, True) for i in rows]
        if not in_alert and not any(_role(dec.metrics[i].code, False) for i in rows):
            continue  # facets of an ordinary metric (e.g. a waveform's sampling rate)
        obr = next((s for s in obrs if s.offset == obr_offset), None)
        alarm = _alarm(dec, [dec.metrics[i] for i in rows], roles, obr, path)
        if alarm is None:
            continue
        alarms.append(alarm)
        for i in rows:
            consumed.add(i)
            loc = dec.metrics[i].source.location if dec.metrics[i].source else ""
            answered.add((loc, "hl7v2.pcd-facet"))
            answered.add((loc, "hl7v2.unknown-flag"))
    if not alarms:
        return ()
    dec.metrics = [m for i, m in enumerate(dec.metrics) if i not in consumed]
    dec.last_metric_index = None
    # findings the alert reading answered: a facet sub-id is how PCD-04 numbers attributes, and
    # PH/PM/PL/PN, SP/ST/SA in OBX-8 are the alert's priority and kind
    dec.issues = [i for i in dec.issues if (_obx_location(i.location), i.code) not in answered
                  or (i.code == "hl7v2.unknown-flag" and not _alert_flag(i.message))]
    alarm_obr_offsets = {a.source.offset for a in alarms if a.source is not None}
    if alarm_obr_offsets:
        dec.orders = [_as_alarm_order(o) if o.source is not None and o.source.offset in alarm_obr_offsets else o
                      for o in dec.orders]
    return tuple(alarms)


def _obx_location(location: str) -> str:
    """'OBX[3]-8' → 'OBX[3]' (a finding's field position to its segment's)."""
    return location.split("-", 1)[0]


def _alert_flag(message: str) -> bool:
    m = re.search(r"flag '([^']*)'", message)
    return bool(m) and (m.group(1).upper() in PRIORITY or m.group(1).upper() in KIND)


def _obr_is_alert(seg, dec: HL7v2Decoder) -> bool:
    code = components(seg.get(4), dec.d)
    return code[0].strip() in (EVENT_ALARM, "MDC_EVT_ALARM") or (len(code) > 1 and code[1].strip() == "MDC_EVT_ALARM")


def _as_alarm_order(o: Order) -> Order:
    return Order(placer_id=o.placer_id, filler_id=o.filler_id, code=o.code, observed=o.observed,
                 observed_end=o.observed_end, set_id=o.set_id, status=o.status, kind="alarm", reason=o.reason,
                 source=o.source)


def _alarm(dec: HL7v2Decoder, rows: list[Metric], roles: list[str | None], obr, path: tuple[int, ...]) -> Alarm | None:
    d = dec.d
    f: dict = {"containment": path}
    event: Metric | None = None
    source_row: Metric | None = None
    for m, role in zip(rows, roles, strict=True):
        facet = m.containment[4] if len(m.containment) == 5 else None
        if role is None and event is None and (facet in (1, None)):
            event = m
            continue
        if role is None and source_row is None and facet == 2:
            source_row = m
            continue
        if role == "source":
            value = m.value
            concept = value.concept if isinstance(value, CodedValue) else None
            text = _text(m)
            if concept is None and text and d.component in text:
                concept = dt.parse_cwe(text, d)
            if concept is not None:
                f["source_code"] = concept
            elif text:
                f["source_device"] = text
            continue
        if role is None:  # an OBX in the alert group that is neither event, source nor attribute
            dec.issues.append(Issue(severity="info", code="hl7v2.alarm-row-not-placed",
                                    location=m.source.location if m.source else "OBX",
                                    message=f"OBX-3 {_label(m.code)} in an alert group is not an alert "
                                            "attribute; kept in the raw input only",
                                    offset=m.source.offset if m.source else None))
            continue
        text = _text(m)
        if text is None:
            continue
        if role == "priority":
            pr = PRIORITY.get(text.upper())
            if pr is None:
                _note(dec, m, "hl7v2.alarm-priority", f"alarm priority {text!r} is not PH, PM, PL or PN")
            f["priority"] = pr
        elif role == "kind":
            kind = KIND.get(text.upper())
            if kind is None:
                _note(dec, m, "hl7v2.alarm-kind", f"alert type {text!r} is not SP, ST or SA")
            f["kind"] = kind
        elif role == "text":
            f["text"] = text
        else:
            f[role] = text.lower()
    if event is None and source_row is None and len(f) == 1:
        return None
    if event is not None:
        code = event.code
        value = event.value
        if isinstance(value, CodedValue) and _mdc(code)[0] == EVENT_ALARM:
            code = value.concept
            f.setdefault("text", value.concept.text)
        elif isinstance(value, StringValue) and d.component in value.text and _mdc(code)[0] == EVENT_ALARM:
            parsed = dt.parse_cwe(value.text, d)
            if parsed is not None:
                code = parsed
                if parsed.text:
                    f.setdefault("text", parsed.text)
        else:
            text = _text(event)
            if text and not f.get("text"):
                f["text"] = text
        _flags(dec, event, f)
        f["device_key"] = event.device_key
        f["start"] = event.effective
    else:
        code = CodeableConcept(codings=(Coding(system=MDC_SYSTEM, code=EVENT_ALARM, display="MDC_EVT_ALARM"),))
    if source_row is not None:
        f["source_code"] = source_row.code
        if isinstance(source_row.value, NumericValue):
            f["source_value"] = source_row.value.quantity
        f["limits"] = source_row.alarm_limits or source_row.reference_range
        if "kind" not in f and "priority" not in f:
            _flags(dec, source_row, f)
        f.setdefault("device_key", source_row.device_key)
    if obr is not None:
        f["identifier"] = identifier(obr.get(3), d) or identifier(obr.get(2), d)
        eip = components(obr.get(29), d)
        parent = None
        if len(eip) > 1 and eip[1].strip():
            parent = identifier(eip[1], d, sub=True)
        if parent is None and eip[0].strip():
            parent = identifier(eip[0], d, sub=True)
        f["parent"] = parent
        observed = dec.ts(obr, 7)
        ended = dec.ts(obr, 8)
        f["start"] = f.get("start") or observed
        if ended is not None:
            f["end"] = ended
    if f.get("phase") in ("end", "stop") and f.get("end") is None and f.get("start") is not None:
        f["end"], f["start"] = f["start"], None
    src = obr if obr is not None else None
    f["source"] = SourceRef(location=src.where() if src is not None else (rows[0].source.location if rows[0].source
                                                                        else "OBX"),
                            offset=src.offset if src is not None else None)
    return Alarm(code=code, **{k: v for k, v in f.items() if v is not None})


def _flags(dec: HL7v2Decoder, m: Metric, f: dict) -> None:
    """OBX-8 of the event row: abnormality → interpretation, PH/PM/PL/PN → priority, SP/ST/SA → kind."""
    if m.interpretation:
        f["interpretation"] = m.interpretation
    for flag in m.measurement_status:
        if flag.startswith("alert-priority-"):  # PN/PL/PM/PH as the PCD flag table names them
            f.setdefault("priority", flag.removeprefix("alert-priority-"))
            continue
        up = flag.upper()
        if up in PRIORITY and len(up) == 2:
            f.setdefault("priority", PRIORITY[up])
        elif up in KIND and len(up) == 2:
            f.setdefault("kind", KIND[up])


def _note(dec: HL7v2Decoder, m: Metric, code: str, message: str) -> None:
    dec.issues.append(Issue(severity="warning", code=code, location=(m.source.location if m.source else "OBX") + "-5",
                            message=message + "; kept in the raw input", offset=m.source.offset if m.source else None))


def _label(code: CodeableConcept) -> str:
    c = code.codings[0] if code.codings else None
    return (c.display or c.code) if c else (code.text or "?")


__all__ = ["Alarm", "extract", "identifier", "is_alert_message", "Timestamp"]
