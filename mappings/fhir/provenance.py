"""Provenance: which input, which gateway, which translator produced the Bundle's resources."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

import interop
from interop.model import Message, Timestamp

from . import datatypes as fd
from .context import FhirContext, stable_id

PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
STANDARD_TEXT = {"hl7v2": "HL7 v2", "ieee11073-20601": "IEEE 11073-20601", "bluetooth-gatt": "Bluetooth GATT",
                 "dicom": "DICOM"}


ASSEMBLER = {"type": {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "assembler", "display": "Assembler"}]},
             "who": {"display": f"iomt-interop {interop.__version__}"}}
PERFORMER = {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "performer", "display": "Performer"}]}
AUTHOR = {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "author", "display": "Author"}]}
ACTIVITY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE",
                        "display": "create"}]}


def build(message: Message, ctx: FhirContext) -> None:
    if not ctx.entries:
        return
    # Provenance is the last builder: nothing edits its resource after `ctx.add`, so the fixed fragments
    # (ASSEMBLER, PERFORMER, AUTHOR, ACTIVITY) are shared by every Bundle (Bundle.data is a private copy)
    agents: list[dict[str, Any]] = [ASSEMBLER]
    if ctx.gateway_ref:
        agents.append({"type": PERFORMER, "who": ctx.reference(ctx.gateway_ref)})
    elif message.sending is not None and message.sending.application:
        agents.append({"type": AUTHOR, "who": {"display": message.sending.application}})
    res = {
        "resourceType": "Provenance",
        "id": "",
        "target": [{"reference": e["fullUrl"]} for e in ctx.entries],  # every target is an entry
        "recorded": "",
        "activity": ACTIVITY,
        "agent": agents,
        "entity": [],
    }
    res["id"], res["recorded"], res["entity"] = news(
        message.standard, message.message_type, message.control_id, message.raw.sha256 if message.raw else None,
        message.sent, ctx.options.get("timezone"), ctx.version)
    incomplete = [i.message for i in message.issues if i.code.endswith(".input-incomplete")]
    if incomplete:  # the source lost data on the way (a 20601 association): the Provenance says so
        what = res["entity"][0]["what"]
        res["entity"] = [{**res["entity"][0], "what": {**what, "display": f"{what['display']} (incomplete: "
                                                                         f"{'; '.join(incomplete)})"}}]
    ctx.add(res)


def news(standard: str, message_type: str | None, control_id: str | None, sha256: str | None,
         sent: Timestamp | None, assume_tz: tzinfo | None, version: str) -> tuple[str, str, list[dict[str, Any]]]:
    """The Provenance parts that change from message to message: (id, recorded, entity)."""
    recorded = sent.value if sent is not None and sent.precision in ("second", "millisecond", "microsecond") \
        else None
    if recorded is None:
        recorded = datetime.now(UTC)
    elif recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=assume_tz or UTC)
    what = STANDARD_TEXT.get(standard, standard)
    label = " ".join(x for x in (what, message_type, control_id) if x)
    entity_what: dict[str, Any] = {"display": label}
    if sha256 is not None:
        entity_what["identifier"] = {"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{sha256}"}
    rid = stable_id("Provenance", sha256 if sha256 is not None else control_id, version)
    return rid, fd.instant(recorded), [{"role": "source", "what": entity_what}]
