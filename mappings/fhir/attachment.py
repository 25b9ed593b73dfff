"""Attachment values (v2 OBX ED / RP) → FHIR Attachment, placed per FHIR version.

- R5: `Observation.valueAttachment` (R5 added Attachment to Observation.value[x]).
- R4: Observation.value[x] has no Attachment. Per the HL7 v2-to-FHIR IG (ORU map: OBX with OBX-2 ED or
  RP → DocumentReference, ConceptMap "segment-obx-to-documentreference": OBX-5 → content.attachment,
  OBX-3 → type, OBX-14 → date), the attachment becomes a DocumentReference; the Observation stays (so
  the DiagnosticReport's `result` still lists every OBX) without a value and points at it through
  `Observation.derivedFrom` (R4 allows DocumentReference there).

Attachment: contentType from ED.2/ED.3 (codecs.hl7v2.attachment), `data` the decoded octets as base64
(written once, whatever the source encoding: Base64, Hex or A), `size` and `hash` (SHA-1, base64, as
FHIR defines it) of the octets, `url` for RP, `title` the OBX-3 display.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from interop.model import AttachmentValue, Metric

from .context import FhirContext, stable_id


def attachment(v: AttachmentValue, title: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if v.content_type:
        out["contentType"] = v.content_type
    elif v.data is not None:  # att-1: data needs a contentType; the source named none (reported by the codec)
        out["contentType"] = "text/plain" if v.encoding == "A" else "application/octet-stream"
    if v.data is not None:
        out["data"] = base64.b64encode(v.data).decode("ascii")
    if v.url:
        out["url"] = v.url
    if v.data is not None:
        out["size"] = len(v.data)
        out["hash"] = base64.b64encode(hashlib.sha1(v.data).digest()).decode("ascii")  # noqa: S324 - FHIR's hash
    if title:
        out["title"] = title
    return out


def _title(m: Metric) -> str | None:
    c = m.code
    return c.text or next((x.display for x in c.codings if x.display), None)


def place(v: AttachmentValue, m: Metric, res: dict[str, Any], ctx: FhirContext) -> None:
    """Put the attachment of metric `m` into its Observation `res` (R5) or a DocumentReference (R4)."""
    att = attachment(v, _title(m))
    if ctx.r5:
        res["valueAttachment"] = att
        return
    # the OBX position in the id too: two rows of one code and time (the same Observation id until
    # `observation.build` tells them apart) must not make one DocumentReference id twice (bdl-7)
    where = m.source.location if m.source is not None else None
    doc: dict[str, Any] = {"resourceType": "DocumentReference", "id": stable_id("DocumentReference", res["id"], where),
                           "status": "current"}
    doc["type"] = res["code"]
    if "subject" in res:
        doc["subject"] = res["subject"]
    if m.effective is not None and m.effective.precision in ("second", "millisecond", "microsecond") \
            and "effectiveDateTime" in res:
        doc["date"] = res["effectiveDateTime"]  # an instant: a dateTime to the second with its zone is one
    doc["content"] = [{"attachment": att}]
    if "encounter" in res:
        doc["context"] = {"encounter": [res["encounter"]]}
    ref = ctx.add(doc)
    res["derivedFrom"] = [ctx.reference(ref)]
