"""Provenance: which input, which gateway, which translator produced the Bundle's resources."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import interop
from interop.model import Message

from . import datatypes as fd
from .context import FhirContext, stable_id

PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
STANDARD_TEXT = {"hl7v2": "HL7 v2", "ieee11073-20601": "IEEE 11073-20601", "bluetooth-gatt": "Bluetooth GATT",
                 "dicom": "DICOM"}


def build(message: Message, ctx: FhirContext) -> None:
    if not ctx.entries:
        return
    recorded = message.sent.value if message.sent is not None and message.sent.precision in (
        "second", "millisecond", "microsecond") else None
    if recorded is None:
        recorded = datetime.now(UTC)
    elif recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=ctx.options.get("timezone") or UTC)
    what = STANDARD_TEXT.get(message.standard, message.standard)
    label = " ".join(x for x in (what, message.message_type, message.control_id) if x)
    entity_what: dict[str, Any] = {"display": label}
    if message.raw is not None:
        entity_what["identifier"] = {"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{message.raw.sha256}"}
    agents: list[dict[str, Any]] = [{
        "type": {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "assembler", "display": "Assembler"}]},
        "who": {"display": f"iomt-interop {interop.__version__}"},
    }]
    if ctx.gateway_ref:
        agents.append({
            "type": {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "performer", "display": "Performer"}]},
            "who": ctx.reference(ctx.gateway_ref),
        })
    elif message.sending is not None and message.sending.application:
        agents.append({
            "type": {"coding": [{"system": PROVENANCE_AGENT_TYPE, "code": "author", "display": "Author"}]},
            "who": {"display": message.sending.application},
        })
    res = {
        "resourceType": "Provenance",
        "id": stable_id("Provenance", message.raw.sha256 if message.raw else message.control_id, ctx.version),
        "target": [{"reference": e["fullUrl"]} for e in ctx.entries],  # every target is an entry
        "recorded": fd.instant(recorded),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE", "display": "create"}]},
        "agent": agents,
        "entity": [{"role": "source", "what": entity_what}],
    }
    ctx.add(res)
