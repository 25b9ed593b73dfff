"""IHE PCD-04 Report Alert (ORU^R40^ORU_R40, the ACM profile) checks.

One OBR per alert; its OBX rows are facets of one containment path (MDS.VMD.CHAN.METRIC) with the
facet number as a fifth part: 1 the event (alert code; OBX-8 priority and kind), 2 its source, then
the alert attributes (event phase, alarm state, inactivation state, priority, alert type) with their
value sets (IHE PCD TF-2 Rev 9.0 §3.4, "Report Alert [PCD-04]"). Attribute codes: IEEE 11073-10101
68480–68485 (the 2008-era 68164–68168 are also read, and flagged, since 20601 gives those numbers to
other attributes).
"""

from __future__ import annotations

from collections.abc import Iterator

from interop.codecs.hl7v2 import alarm as alert_table
from interop.codecs.hl7v2.tokenizer import Segment

from interop.text import is_ascii_digits

from ..catalogue import check
from ..finding import Hit
from .checks import shown, valid_dtm
from .context import V2Context
from .pcd import EUI64, ZONE, orders, sub_id

PCD04_OIDS = {"1.3.6.1.4.1.19376.1.6.1.4.1", "1.3.6.1.4.1.19376.1.6.4.4"}
# Which OBX rows are alert attributes: the codec's own table (codecs/hl7v2/alert_attributes.toml), so what
# the suite judges and what the decoder reads never drift apart.
ROLE_BY_CODE = alert_table.ROLE_BY_CODE
LEGACY_CODES = alert_table.LEGACY_ROLE_BY_CODE
ROLE_BY_REFID = alert_table.ROLE_BY_REFID
PHASES = frozenset({"start", "start_only", "continue", "end", "present", "update", "escalate", "inactivate",
                    "deescalate", "de-escalate", "reset"})
STATES = frozenset({"inactive", "active", "latched"})
INACTIVATION = frozenset({"enabled", "audio-paused", "audio-off", "alarm-paused", "alarm-off", "alert-acknowledged"})
PRIORITIES = frozenset({"PH", "PM", "PL", "PN"})
KINDS = frozenset({"SP", "ST", "SA"})
EVT_FIRST, EVT_LAST = 3 * 65536, 4 * 65536 - 1  # MDC partition 3: events


def role(ctx: V2Context, obx: Segment) -> str | None:
    code, refid = ctx.value(obx, 3, 1).strip(), ctx.value(obx, 3, 2).strip()
    return ROLE_BY_REFID.get(refid) or ROLE_BY_CODE.get(code) or LEGACY_CODES.get(code)


def facets(ctx: V2Context, rows: list[Segment]) -> dict[tuple[int, ...], dict[int, Segment]]:
    """Alert groups under one OBR: 4-part containment prefix → {facet number: OBX}."""
    out: dict[tuple[int, ...], dict[int, Segment]] = {}
    for obx in rows:
        path = sub_id(ctx, obx)
        if path and len(path) == 5:
            out.setdefault(path[:4], {}).setdefault(path[4], obx)
    return out


def _alerts(ctx: V2Context):
    for order in orders(ctx):
        yield order, facets(ctx, order.obx)


def _attribute_rows(ctx: V2Context, wanted: str) -> Iterator[Segment]:
    for obx in ctx.segs("OBX"):
        if role(ctx, obx) == wanted:
            yield obx


@check("PCD04-MSH-009")
def msh_009(ctx: V2Context) -> Iterator[Hit]:
    code, event, struct = ctx.message_type
    if ctx.msh is not None and (code, event, struct) != ("ORU", "R40", "ORU_R40"):
        yield ctx.hit(ctx.msh, 9, f"PCD-04 is ORU^R40^ORU_R40; MSH-9 is {code}^{event}^{struct}")


@check("PCD04-MSH-012")
def msh_012(ctx: V2Context) -> Iterator[Hit]:
    if ctx.msh is not None and ctx.version != "2.6":
        yield ctx.hit(ctx.msh, 12, f"PCD-04 messages are HL7 v2.6; MSH-12 is {ctx.version!r}", comp=1)


@check("PCD04-MSH-021")
def msh_021(ctx: V2Context) -> Iterator[Hit]:
    msh = ctx.msh
    if msh is None:
        return
    for r, _ in enumerate(ctx.reps(msh, 21)):
        if ctx.value(msh, 21, 1, r).strip() == "IHE_PCD_ACM_001" or ctx.value(msh, 21, 3, r).strip() in PCD04_OIDS:
            return
    yield ctx.hit(msh, 21, "MSH-21 must name the PCD-04 message profile "
                  "(IHE_PCD_ACM_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.4.1^ISO)")


@check("PCD04-OBR-004")
def obr_004(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        code, system = ctx.value(obr, 4, 1).strip(), ctx.value(obr, 4, 3).strip()
        if (code, system) != ("196616", "MDC"):
            yield ctx.hit(obr, 4, f"OBR-4 of an alert is 196616^MDC_EVT_ALARM^MDC; it is {code or '-'}^{system or '-'}")


@check("PCD04-OBR-003")
def obr_003(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        if not ctx.value(obr, 3, 1).strip():
            yield ctx.hit(obr, 3, "OBR-3 (filler order number) carries the alert instance identifier; it is empty")


@check("PCD04-OBR-007")
def obr_007(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        v = ctx.value(obr, 7, 1).strip()
        if not v or not valid_dtm(v) or not ZONE.match(v):
            yield ctx.hit(obr, 7, f"OBR-7 (time the alert was raised) {shown(v)} must be a date/time with "
                          "its time zone offset")


@check("PCD04-OBR-029")
def obr_029(ctx: V2Context) -> Iterator[Hit]:
    for obr in ctx.segs("OBR"):
        parent = ctx.value(obr, 29, 2).strip()
        own = ctx.value(obr, 3, 1).strip()
        if parent and own and parent.split(ctx.delimiters.subcomponent)[0] == own:
            yield ctx.hit(obr, 29, "OBR-29 (parent alert) names the alert itself (OBR-3)")


@check("PCD04-ALT-001")
def alt_001(ctx: V2Context) -> Iterator[Hit]:
    for order, groups in _alerts(ctx):
        if len(groups) > 1:
            second = sorted(groups)[1]
            obx = next(iter(groups[second].values()))
            yield ctx.hit(obx, 4, f"a second alert ({'.'.join(map(str, second))}) under OBR[{order.obr.ordinal}]: "
                          "all OBX under one OBR pertain to a single alert")


@check("PCD04-OBX-004")
def obx_004(ctx: V2Context) -> Iterator[Hit]:
    for obx in ctx.segs("OBX"):
        path = sub_id(ctx, obx)
        device = not obx.get(5) and not ctx.value(obx, 2).strip()
        if path is None or len(path) != 5 and not (device and len(path) == 4):
            yield ctx.hit(obx, 4, f"OBX-4 {shown(ctx.value(obx, 4).strip())} is not a facet path "
                          "MDS.VMD.CHAN.METRIC.FACET (device rows: MDS.VMD.CHAN.METRIC)")


def _missing_facet(ctx: V2Context, number: int, name: str) -> Iterator[Hit]:
    for order, groups in _alerts(ctx):
        for prefix, rows in groups.items():
            if number not in rows:
                yield ctx.hit(order.obr, None, f"alert {'.'.join(map(str, prefix))} has no facet {number} ({name})")


@check("PCD04-OBX-041")
def obx_041(ctx: V2Context) -> Iterator[Hit]:
    for order, groups in _alerts(ctx):
        if not groups:
            yield ctx.hit(order.obr, None, "no alert facets (OBX-4 MDS.VMD.CHAN.METRIC.FACET) under this OBR")
    yield from _missing_facet(ctx, 1, "event identification")


@check("PCD04-OBX-042")
def obx_042(ctx: V2Context) -> Iterator[Hit]:
    yield from _missing_facet(ctx, 2, "source of the alert")


def _missing_role(ctx: V2Context, wanted: str, name: str) -> Iterator[Hit]:
    for order, groups in _alerts(ctx):
        for prefix, rows in groups.items():
            if not any(role(ctx, o) == wanted for o in rows.values()):
                yield ctx.hit(order.obr, None, f"alert {'.'.join(map(str, prefix))} has no {name} facet")


@check("PCD04-OBX-043")
def obx_043(ctx: V2Context) -> Iterator[Hit]:
    yield from _missing_role(ctx, "phase", "event phase (MDC_ATTR_EVENT_PHASE)")


@check("PCD04-OBX-044")
def obx_044(ctx: V2Context) -> Iterator[Hit]:
    yield from _missing_role(ctx, "state", "alarm state (MDC_ATTR_ALARM_STATE)")


@check("PCD04-OBX-045")
def obx_045(ctx: V2Context) -> Iterator[Hit]:
    yield from _missing_role(ctx, "inactivation", "alarm inactivation state (MDC_ATTR_ALARM_INACTIVATION_STATE)")


def _value_set(ctx: V2Context, wanted: str, values: frozenset[str], name: str) -> Iterator[Hit]:
    for obx in _attribute_rows(ctx, wanted):
        v = ctx.value(obx, 5).strip()
        if v not in values:
            yield ctx.hit(obx, 5, f"{name} {shown(v)} is not one of {', '.join(sorted(values))}")


@check("PCD04-PHS-001")
def phs_001(ctx: V2Context) -> Iterator[Hit]:
    yield from _value_set(ctx, "phase", PHASES, "event phase")


@check("PCD04-STA-001")
def sta_001(ctx: V2Context) -> Iterator[Hit]:
    yield from _value_set(ctx, "state", STATES, "alarm state")


@check("PCD04-INA-001")
def ina_001(ctx: V2Context) -> Iterator[Hit]:
    yield from _value_set(ctx, "inactivation", INACTIVATION, "alarm inactivation state")


@check("PCD04-PRI-001")
def pri_001(ctx: V2Context) -> Iterator[Hit]:
    yield from _value_set(ctx, "priority", PRIORITIES, "alarm priority")


@check("PCD04-TYP-001")
def typ_001(ctx: V2Context) -> Iterator[Hit]:
    yield from _value_set(ctx, "kind", KINDS, "alert type")


@check("PCD04-OBX-008")
def obx_008(ctx: V2Context) -> Iterator[Hit]:
    for _order, groups in _alerts(ctx):
        for rows in groups.values():
            event = rows.get(1)
            if event is None:
                continue
            flags = {rv.strip() for rv in ctx.reps(event, 8)}
            missing = [n for n, vs in (("priority (PH, PM, PL, PN)", PRIORITIES), ("alert type (SP, ST, SA)", KINDS))
                       if not flags & vs]
            if missing:
                yield ctx.hit(event, 8, f"OBX-8 of the event facet should carry the alarm {' and '.join(missing)}")


@check("PCD04-OBX-003")
def obx_003(ctx: V2Context) -> Iterator[Hit]:
    for obx in ctx.segs("OBX"):
        code = ctx.value(obx, 3, 1).strip()
        if code in LEGACY_CODES:
            yield ctx.hit(obx, 3, f"alert attribute code {code} is a 2008-era code (IEEE 11073-20601 uses it for "
                          f"another attribute); the current code is {68480 + int(code) - 68164}", comp=1)


@check("PCD04-OBX-031")
def obx_031(ctx: V2Context) -> Iterator[Hit]:
    for _order, groups in _alerts(ctx):
        for rows in groups.values():
            event = rows.get(1)
            if event is None:
                continue
            code = ctx.value(event, 3, 1).strip()
            if code == "196616":  # MDC_EVT_ALARM: the alert code is OBX-5 (CWE)
                code = ctx.value(event, 5, 1).strip()
            if ctx.value(event, 3, 3).strip() != "MDC" or not is_ascii_digits(code) or not EVT_FIRST <= int(code) <= EVT_LAST:
                yield ctx.hit(event, 3, f"the event facet's code {shown(code)} is not an MDC event code "
                              "(partition 3, MDC_EVT_*)")


@check("PCD04-OBX-011")
def obx_011(ctx: V2Context) -> Iterator[Hit]:
    for obx in ctx.segs("OBX"):
        v = ctx.value(obx, 11).strip()
        if v not in ("F", "R", "X", "C", "P", "D", "I", "S", "U", "W", "N", "O"):
            yield ctx.hit(obx, 11, f"OBX-11 is {shown(v)}; every alert facet has a table 0085 status")


@check("PCD04-OBX-018")
def obx_018(ctx: V2Context) -> Iterator[Hit]:
    for obx in ctx.segs("OBX"):
        for r, _ in enumerate(ctx.reps(obx, 18)):
            kind, ident = ctx.value(obx, 18, 4, r).strip(), ctx.value(obx, 18, 1, r).strip()
            if kind == "EUI-64" and not EUI64.match(ident):
                yield ctx.hit(obx, 18, f"OBX-18 {ident!r} says EUI-64 but is not 16 hexadecimal digits", rep=r)
            elif kind and kind != "EUI-64":
                yield ctx.hit(obx, 18, f"OBX-18 identifies the device by {kind!r}; IHE PCD uses EUI-64", rep=r)
