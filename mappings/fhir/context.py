"""State shared by the resource-family builders while one Bundle is assembled.

Resources are plain dicts (DESIGN.md, "Speed": fhir.resources costs ~6 ms per bundle); each
family module (`patient`, `device`, `observation`, `imaging`, `provenance` ...) exposes
`build(message, ctx) -> None` and appends through `ctx.add(...)`. Ids are deterministic: the same
input always gives the same Bundle.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from interop.memo import Memo
from interop.model import Issue, Message

from .prepared import Prepared

FhirVersion = Literal["R4", "R5"]


_blake2b = hashlib.blake2b


def stable_id(*parts: object) -> str:
    """A deterministic FHIR id (32 hex chars) from identifying parts (None counts as empty)."""
    return _blake2b(_joined(parts).encode(), digest_size=16).hexdigest()


def id_prefix(*parts: object) -> str:
    """The text `stable_id` hashes for its first parts, to be completed by `stable_id_after`."""
    return _joined(parts) + "\x1f"


def stable_id_after(prefix: str, *parts: object) -> str:
    """`stable_id(*first, *parts)` for `prefix = id_prefix(*first)`: the fixed parts joined once."""
    return _blake2b((prefix + _joined(parts)).encode(), digest_size=16).hexdigest()


def _joined(parts: tuple[object, ...]) -> str:
    # str parts first: they are the common case (speed over the obvious order of the tests)
    return "\x1f".join([p if type(p) is str else "" if p is None else str(p) for p in parts])


_RECURRING_IDS = Memo(8192)  # identity parts -> stable_id


def recurring_id(*parts: str | None) -> str:
    """`stable_id(*parts)` for identities that recur from message to message (a device, a device
    metric of a device, a patient), remembered so that the hash is computed once per identity.
    Parts must be strings or None (the key is the tuple itself)."""
    rid = _RECURRING_IDS.get(parts) or _RECURRING_IDS.recall(parts)
    if rid is None:
        rid = _RECURRING_IDS.put(parts, stable_id(*parts))  # bounded: evicts the least recently used
        _RECURRING_URNS.put(rid, _uuid_urn(rid))
    return rid


_RECURRING_URNS = Memo(8192)  # fullUrl of each id in _RECURRING_IDS


def forget() -> None:
    """Empty the memos of recurring ids (and the mappings' shared resources and fragments)."""
    from . import datatypes, device, prepared

    _RECURRING_IDS.forget()
    _RECURRING_URNS.forget()
    prepared.forget()
    datatypes.forget()
    device.forget()


@dataclass
class FhirContext:
    """Accumulates resources and cross references for one Bundle."""

    version: FhirVersion
    message: Message
    bundle_type: Literal["collection", "transaction"] = "collection"
    entries: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    patient_ref: str | None = None  # "Patient/<id>" once built
    encounter_ref: str | None = None
    device_refs: dict[str, str] = field(default_factory=dict)  # Device.key -> "Device/<id>"
    metric_device_refs: dict[str, str] = field(default_factory=dict)  # Device.key -> "DeviceMetric/<id>" (R5/R4 PoCD)
    observation_refs: list[str] = field(default_factory=list)
    specimen_refs: dict[str, str] = field(default_factory=dict)  # Specimen.key -> "Specimen/<id>" (v2 SPM)
    gateway_ref: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)  # "Type/id" -> entry fullUrl
    # whether builders may put recurring resources and fragments shared with other Bundles into this
    # one (mappings.fhir.prepared); False when a later builder edits resources in place (PHD IG pass)
    shares: bool = True
    references: dict[str, dict[str, str]] = field(default_factory=dict)  # "Type/id" -> Reference (shares)
    # the reference each metric's Observation carries in `device`, in the order of message.metrics (set by
    # the device builder; empty when it made none)
    observation_devices: list[str | None] = field(default_factory=list)
    r5: bool = field(init=False, repr=False)  # version == "R5" (read by every builder: an attribute, no call)

    def __post_init__(self) -> None:
        self.r5 = self.version == "R5"

    def add(self, resource: dict[str, Any], *, if_none_exist: str | None = None) -> str:
        """Append `resource` (must carry resourceType and id); returns its relative reference.

        In a transaction Bundle, `if_none_exist` (a search query such as "identifier=sys|val")
        makes the entry a conditional create; entries without it are PUT by id (idempotent).
        """
        if type(resource) is Prepared:
            ref, url = resource.ref, resource.url
        else:
            rid = resource["id"]
            ref = f"{resource['resourceType']}/{rid}"
            url = entry_url(rid)
        self.urls[ref] = url
        if self.bundle_type == "collection":  # make_entry's common case, without the call
            self.entries.append({"fullUrl": url, "resource": resource})
        else:
            self.entries.append(make_entry(resource, ref, url, self.bundle_type, if_none_exist))
        return ref

    def reference(self, ref: str) -> dict[str, str]:
        """A Reference pointing at an entry of this Bundle (by fullUrl, resolvable in both bundle types)."""
        hit = self.references.get(ref)
        if hit is not None:
            return hit
        url = self.urls.get(ref)
        if url is None:  # a resource outside this Bundle: a plain relative reference
            return {"reference": ref}
        hit = {"reference": url}
        if self.shares:  # one dict per target, used wherever this Bundle points at it (never mutated)
            self.references[ref] = hit
        return hit

    def prepare(self, resource: dict[str, Any]) -> Prepared:
        """`resource` built and rendered once, to be shared by the Bundles it recurs in (prepared.Prepared)."""
        return Prepared(resource, entry_url(resource["id"]))

    def note(self, code: str, location: str, message: str, severity: str = "warning") -> None:
        """Record something the target cannot express (shown by `translate --report`)."""
        self.issues.append(Issue(severity=severity, code=code, location=location, message=message))


def entry_url(rid: str) -> str:
    """Bundle.entry.fullUrl of a resource with id `rid` (a urn:uuid made from the id)."""
    return _RECURRING_URNS.get(rid) or _RECURRING_URNS.recall(rid) or _uuid_urn(rid)


def make_entry(resource: dict[str, Any], ref: str, url: str, bundle_type: str,
               if_none_exist: str | None = None) -> dict[str, Any]:
    """One Bundle.entry: fullUrl and resource, plus the request of a transaction Bundle (a conditional
    create when `if_none_exist` is given, else a PUT by id)."""
    entry: dict[str, Any] = {"fullUrl": url, "resource": resource}
    if bundle_type == "transaction":
        if if_none_exist:
            entry["request"] = {"method": "POST", "url": resource["resourceType"],
                                "ifNoneExist": encode_query(if_none_exist)}
        else:
            entry["request"] = {"method": "PUT", "url": ref}
    return entry


def encode_query(query: str) -> str:
    """A search query (`name=value&...`) for ifNoneExist or a conditional URL with each value percent-encoded
    (RFC 3986), '|' ':' '/' kept: a '+' (the UTC offset of a PHD identifier), a space or a '#' in an identifier
    is otherwise read by the server as something else ('+' as a space), the conditional create matches
    nothing and a re-delivered Bundle creates the resource twice."""
    if _PLAIN_QUERY.fullmatch(query):
        return query
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        parts.append(f"{name}{eq}{quote(value, safe='|:/,')}")
    return "&".join(parts)


_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.~:/|,=&-]*")
_HEX = frozenset("0123456789abcdef")


def _uuid_urn(rid: str) -> str:
    """The fullUrl of an entry: `urn:uuid:` and its 32-hex id laid out as a UUID (other ids hashed first)."""
    return hex_urn(rid if len(rid) == 32 and _HEX.issuperset(rid) else hashlib.md5(rid.encode()).hexdigest())


def hex_urn(h: str) -> str:
    """The fullUrl of an entry whose id is 32 hex digits (a `stable_id`): that id laid out as a urn:uuid."""
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
