"""Encounter status and period by ADT trigger event (HL7 v2-to-FHIR IG, "ADT" message maps).

`patient` builds the Encounter from PV1; this pass sets what the event says of it: A01/A02/A04/A06/
A07/A13 in progress, A03 finished (R5 completed), A05/A14 planned, A11/A27 cancelled (an admit or
pre-admit withdrawn), A12 in progress again (a transfer undone), A08 from PV1-45 (finished once a
discharge time is known); the period from PV1-44/45, in every message with a PV1 (a monitor's ORU^R01 sends
PV1-44 too). A28/A31 (person information), other events and non-ADT messages leave the status unknown. The Encounter entry gets its own copy: shared resources are never edited.
"""

from __future__ import annotations

from interop.model import Message

from . import datatypes as fd
from .context import FhirContext
from .observation import sender_zone

IN_PROGRESS = "in-progress"
STATUS = {"A01": IN_PROGRESS, "A02": IN_PROGRESS, "A04": IN_PROGRESS, "A06": IN_PROGRESS, "A07": IN_PROGRESS,
          "A12": IN_PROGRESS, "A13": IN_PROGRESS, "A03": "finished", "A05": "planned", "A14": "planned",
          "A11": "cancelled", "A27": "cancelled", "A38": "cancelled"}
R5 = {"finished": "completed"}


def trigger(message: Message) -> str | None:
    """MSH-9.2 of an ADT message (A01 ...), else None."""
    mt = message.message_type or ""
    parts = mt.split("^")
    return parts[1] if len(parts) > 1 and parts[0] == "ADT" else None


def build(message: Message, ctx: FhirContext) -> None:
    if message.standard != "hl7v2" or ctx.encounter_ref is None:
        return
    event = trigger(message)
    e = message.encounter
    if e is None:
        return
    status = STATUS.get(event) if event else None
    if event == "A08":
        status = "finished" if e.discharge_time is not None else IN_PROGRESS
    if status is None and e.admit_time is None and e.discharge_time is None:
        return
    if status is not None and ctx.r5:
        status = R5.get(status, status)
    for entry in ctx.entries:
        res = entry["resource"]
        if res["resourceType"] == "Encounter" and f"Encounter/{res['id']}" == ctx.encounter_ref:
            own = dict(res)  # a private copy (the shared one recurs in other Bundles)
            if status is not None:
                own["status"] = status
            tz = ctx.options.get("timezone") or sender_zone(message.standard, message.sent)
            period = {}
            if e.admit_time is not None:
                period["start"] = fd.date_time(e.admit_time, tz)[0]
            if e.discharge_time is not None:
                period["end"] = fd.date_time(e.discharge_time, tz)[0]
            if period:
                own["actualPeriod" if ctx.r5 else "period"] = period
            entry["resource"] = own
            break
