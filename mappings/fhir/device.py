"""Device trees → FHIR Device (+ DeviceMetric) resources.

PoCD IG shape: one Device per DIM node (MDS, VMD, channel) linked by `Device.parent`; a metric
that belongs to a VMD/channel gets a DeviceMetric (R4: `source` = that node; R5: `device`) which
its Observations reference. Metrics attached directly to an MDS (personal health devices, DICOM
equipment) reference the Device itself. R4 and R5 differ in Device.type (0..1 vs 0..*),
Device.deviceName vs Device.name, and DeviceMetric.source/parent vs DeviceMetric.device.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from interop.memo import Memo
from interop.model import EUI64_SYSTEM, MDC_SYSTEM, Device, Identifier, Message, Metric

from . import datatypes as fd
from .context import FhirContext, recurring_id, stable_id
from .prepared import Prepared, Recurring, ids

PRODUCTION_SPEC_TEXT = {
    "unspecified": "unspecified", "serial-number": "serial-number", "part-number": "part-number",
    "hw-revision": "hardware-revision", "sw-revision": "software-revision", "fw-revision": "firmware-revision",
    "protocol-revision": "protocol-revision", "prod-spec-gmdn": "GMDN",
}


@lru_cache(maxsize=4096)  # device identities recur in every message of a device
def eui64(value: str) -> str:
    """The one spelling of an EUI-64 (and EUI-48) in FHIR: capital hex pairs joined by dashes, as the PHD and
    PoCD IGs' examples write it (01-23-45-67-89-AB-CD-EF), whatever the source wrote ("0123456789abcdef",
    "01:23:.."); a value that is not 8 or 6 hex octets is kept as written."""
    h = "".join(ch for ch in value if ch not in ":- ").upper()
    if len(h) not in (12, 16) or any(ch not in "0123456789ABCDEF" for ch in h):
        return value
    return "-".join(h[i:i + 2] for i in range(0, len(h), 2))


# EUI-64 system id and the PHD IG's transport addresses (ContinuaDeviceIdentifiers BTMAC, ETHMAC, ZIGBEE)
EUI_SYSTEMS = frozenset({EUI64_SYSTEM, "http://hl7.org/fhir/sid/eui-48/bluetooth",
                         "http://hl7.org/fhir/sid/eui-48/ethernet", "http://hl7.org/fhir/sid/eui-64/zigbee"})


def identifier_value(i: Identifier) -> str:
    """Identifier.value as written in FHIR (EUI-64 and EUI-48 addresses in their one spelling)."""
    return eui64(i.value) if i.system in EUI_SYSTEMS else i.value


def build(message: Message, ctx: FhirContext) -> None:
    """Devices of every tree (and the gateway), then DeviceMetrics for metrics below an MDS."""
    anchor = message.raw.sha256 if message.raw else (message.control_id or "")
    gateway = message.gateway
    itself = _gateway_itself(gateway, message.devices) if gateway is not None else None
    if gateway is not None and itself is None:
        ctx.gateway_ref = _device(gateway, None, anchor, message, ctx)
        ctx.device_refs[gateway.key] = ctx.gateway_ref
    nodes: dict[str, Device] = {}  # every node of every tree by key
    for root in message.devices:
        _tree(root, None, anchor, message, ctx, nodes)
    if gateway is not None and itself is not None:
        # A device that is its own gateway (same EUI-64): one Device, or the Bundle would hold two conditional
        # creates of one identifier (bdl-7; a FHIR server then answers 412 to every later message).
        ctx.gateway_ref = ctx.device_refs[gateway.key] = ctx.device_refs[itself.key]
        ctx.note("device.gateway-is-device", f"Device {itself.key}",
                 "the gateway and the device share one identifier: written as one Device", severity="info")
    metric_devices: dict[tuple[str, str], str] = {}
    device_refs = ctx.device_refs
    refs = ctx.observation_devices  # what each metric's Observation.device points at (`observation_device`)
    for m in message.metrics:
        key = m.device_key
        node = nodes.get(key) if key else None
        if node is None or node.level == "mds":
            refs.append(device_refs.get(key) if key else None)
            continue
        mkey = (node.key, fd.code_facts(m.code).primary)
        ref = metric_devices.get(mkey)
        if ref is None:
            ref = metric_devices[mkey] = _device_metric(m, node, ctx)
        refs.append(ref)
    ctx.options["_metric_devices"] = metric_devices


def observation_device(m: Metric, ctx: FhirContext, facts: fd.CodeFacts | None = None) -> str | None:
    """The reference an Observation of `m` carries in `device` (DeviceMetric, else Device); `build` lists
    it for each metric of the message in `ctx.observation_devices`."""
    if not m.device_key:
        return None
    primary = (facts or fd.code_facts(m.code)).primary
    dm = ctx.options.get("_metric_devices", {}).get((m.device_key, primary))
    return dm or ctx.device_refs.get(m.device_key)


def _gateway_itself(gateway: Device, roots: tuple[Device, ...]) -> Device | None:
    """The device tree root that is the gateway itself (an identifier in common), if any."""
    mine = {(i.system, identifier_value(i)) for i in gateway.identifiers}
    if not mine:
        return None
    for root in roots:
        if any((i.system, identifier_value(i)) in mine for i in root.identifiers):
            return root
    return None


def _tree(node: Device, parent_ref: str | None, anchor: str, message: Message, ctx: FhirContext,
          nodes: dict[str, Device]) -> None:
    ref = _device(node, parent_ref, anchor, message, ctx)
    ctx.device_refs[node.key] = ref
    nodes[node.key] = node
    for child in node.children:
        _tree(child, ref, anchor, message, ctx, nodes)


def _identity(node: Device, parent_ref: str | None, anchor: str) -> tuple[str | None, ...]:
    if node.identifiers:
        i = node.identifiers[0]
        return ("Device", i.system, i.value, node.level, parent_ref if node.level != "mds" else None)
    code = node.type.codings[0].code if node.type and node.type.codings else ""
    return ("Device", parent_ref or anchor, node.key, code)


def _serial(node: Device) -> str | None:
    """The serial number: an SNO identifier, else a serial-number production spec."""
    for i in node.identifiers:
        if i.type == "SNO":
            return i.value
    for p in node.production_specs:
        if p.kind == "serial-number":
            return p.value
    return None


_DEVICES = Recurring()  # (what a Device resource is built from) -> (Prepared resource, conditional create)
_METRICS = Recurring()  # (what a DeviceMetric resource is built from) -> Prepared resource
# Device fields its own resource does not depend on; every other field is in `_device_key`
NOT_IN_DEVICE_RESOURCE = frozenset({"children", "source"})


def _device_key(node: Device, version: str, parent_ref: str | None, patient_ref: str | None) -> tuple:
    """What a Device resource is built from (see prepared.Recurring: objects by id, kept by the entry)."""
    specs, specializations = node.production_specs, node.specializations  # nearly always empty: no ids() call
    return (version, parent_ref, patient_ref, node.key, node.level, id(node.type), ids(node.identifiers),
            node.manufacturer, node.model, node.name, ids(specs) if specs else (),
            ids(specializations) if specializations else (), node.specialization_versions,
            node.config_id, id(node.time), node.reg_cert, node.is_gateway)


def _device(node: Device, parent_ref: str | None, anchor: str, message: Message, ctx: FhirContext) -> str:
    # identities from device identifiers or a parent device recur from message to message; those
    # built on the message anchor (no identifier, no parent) do not, so they are never shared
    recurs = bool(node.identifiers) or parent_ref is not None
    if not (recurs and ctx.shares):
        res, cond = _device_resource(node, parent_ref, anchor, recurs, ctx)
        return _add(node, res, cond, ctx)
    patient_ref = ctx.patient_ref if not ctx.r5 and node.level == "mds" and not node.is_gateway else None
    key = _device_key(node, ctx.version, parent_ref, patient_ref)
    hit = _DEVICES.table.get(key)  # Recurring.get's young-generation hit, without the call
    hit = hit[0] if hit is not None else _DEVICES.get(key)
    if hit is None:
        res, cond = _device_resource(node, parent_ref, anchor, recurs, ctx)
        hit = _DEVICES.put(key, (ctx.prepare(res), cond), keep=node)
    return _add(node, hit[0], hit[1], ctx)


def _add(node: Device, res: dict[str, Any] | Prepared, cond: str | None, ctx: FhirContext) -> str:
    """Add a Device entry, once: a second device node with the identity of one already written (two MDS
    roots that carry the same identifier, e.g. an OBX-4 that names no known MDS beside OBX-18 equipment of
    the monitor) is that same Device (bdl-7: one fullUrl per entry; one conditional create per identifier)."""
    ref = res.ref if type(res) is Prepared else f"Device/{res['id']}"
    if ref in ctx.urls:
        ctx.note("device.same-identity", f"Device {node.key}", "carries the identity (identifier) of a device "
                 "already written to this Bundle: written as that one Device", severity="info")
        return ref
    return ctx.add(res, if_none_exist=cond)


def _device_resource(node: Device, parent_ref: str | None, anchor: str, recurs: bool,
                     ctx: FhirContext) -> tuple[dict[str, Any], str | None]:
    """The Device resource of one node and its conditional-create query (transaction Bundles)."""
    identity = _identity(node, parent_ref, anchor)  # EUI-64s: source spelling (ids stay as they were)
    rid = recurring_id(*identity) if recurs else stable_id(*identity)
    res: dict[str, Any] = {"resourceType": "Device", "id": rid}
    if node.identifiers:
        res["identifier"] = [_identifier(i) for i in node.identifiers]
    serial = _serial(node)
    if ctx.r5:
        if node.name:
            res["displayName"] = node.name
            res["name"] = [{"value": node.name, "type": "user-friendly-name"}]
    elif node.name:
        res["deviceName"] = [{"name": node.name, "type": "user-friendly-name"}]
    if node.manufacturer:
        res["manufacturer"] = node.manufacturer
    if node.model:
        res["modelNumber"] = node.model
    if serial:
        res["serialNumber"] = serial
    if node.type is not None:
        res["type"] = [fd.concept(node.type)] if ctx.r5 else fd.concept(node.type)
    if node.production_specs:
        versions = [{"type": {"text": PRODUCTION_SPEC_TEXT.get(p.kind, p.kind)}, "value": p.value}
                    for p in node.production_specs if p.kind not in ("serial-number",)]
        if versions:
            res["version"] = versions
    if parent_ref:
        res["parent"] = ctx.reference(parent_ref)
    if not ctx.r5 and ctx.patient_ref and node.level == "mds" and not node.is_gateway:
        res["patient"] = ctx.reference(ctx.patient_ref)
    cond = None
    if node.identifiers and node.identifiers[0].system and node.level == "mds":
        # the search value is the spelling written in identifier (a server matches tokens exactly)
        cond = f"identifier={node.identifiers[0].system}|{identifier_value(node.identifiers[0])}"
    return res, cond


def _identifier(i: Identifier) -> dict[str, Any]:
    out = fd.identifier(i)
    if i.system in EUI_SYSTEMS:
        out = {**out, "value": eui64(i.value)}
    return out


def _device_metric(m: Metric, node: Device, ctx: FhirContext) -> str:
    # PoCD IG (DeviceMetric-HeartRateNumericDeviceMetric): R4 `source` is the MDS, `parent` the channel (the
    # node the metric belongs to: a channel, else the VMD when the source names no channel)
    device_ref = ctx.device_refs[node.key]
    mds = node.key.split(".", 1)[0]
    parent_ref = ctx.device_refs.get(mds)
    if not ctx.shares:
        return ctx.add(_device_metric_resource(m, device_ref, parent_ref, ctx))
    q = _unit_quantity(m)
    unit = (q.unit, id(q.unit_mdc), q.unit_text) if q is not None else None
    key = (ctx.version, device_ref, parent_ref, id(m.code), unit, id(m.alarm_limits))
    hit = _METRICS.table.get(key)  # Recurring.get's young-generation hit, without the call
    hit = hit[0] if hit is not None else _METRICS.get(key)
    if hit is None:
        hit = _METRICS.put(key, ctx.prepare(_device_metric_resource(m, device_ref, parent_ref, ctx)),
                           keep=(m.code, q.unit_mdc if q is not None else None, m.alarm_limits))
    return ctx.add(hit)


def _device_metric_resource(m: Metric, device_ref: str, parent_ref: str | None, ctx: FhirContext) -> dict[str, Any]:
    facts = fd.code_facts(m.code)
    res: dict[str, Any] = {
        "resourceType": "DeviceMetric",
        "id": recurring_id("DeviceMetric", device_ref, facts.primary),  # a device's metric recurs
        "type": _metric_type(facts),
    }
    unit = _unit_concept(m)
    if unit:
        res["unit"] = unit
    if ctx.r5:
        res["device"] = ctx.reference(device_ref)
    else:  # `parent_ref` is the MDS here, `device_ref` the channel (or VMD)
        res["source"] = ctx.reference(parent_ref or device_ref)
        res["parent"] = ctx.reference(device_ref)
    if m.alarm_limits is not None and (m.alarm_limits.low is not None or m.alarm_limits.high is not None):
        res["extension"] = [_alarm_limits_extension(m)]
    res["category"] = "measurement"
    return res


# HL7 PoCD IG extension "reference-range" (StructureDefinition-reference-range.xml, context DeviceMetric):
# a typed range (low, high, type from CodeSystem reference-range-type) on the metric's DeviceMetric.
REFERENCE_RANGE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/reference-range"


def _alarm_limits_extension(m: Metric) -> dict[str, Any]:
    rng = fd.range_(m.alarm_limits)
    parts = [{"url": k, "valueQuantity": rng[k]} for k in ("low", "high") if k in rng]
    parts.append({"url": "type", "valueCodeableConcept": {"coding": [dict(fd.ALARM_LIMITS)]}})
    return {"url": REFERENCE_RANGE_EXTENSION, "extension": parts}


def _metric_type(facts: fd.CodeFacts) -> dict[str, Any]:
    """DeviceMetric.type: the MDC codings of the metric code (else its first coding, else its text);
    computed once per code and copied on use."""
    frag = _METRIC_TYPES.get(facts) or _METRIC_TYPES.recall(facts)
    if frag is None:
        code = facts.source
        mdc = [c for c in code.codings if c.system == MDC_SYSTEM] or list(code.codings[:1])
        frag = {"coding": [fd.coding(c) for c in mdc]} if mdc else {"text": code.text or "unknown"}
        _METRIC_TYPES.put(facts, frag)
    if "coding" in frag:
        return {"coding": [c.copy() for c in frag["coding"]]}
    return dict(frag)


# Keyed by the CodeFacts object of a code (identity; see fd.code_facts): codes recur.
_METRIC_TYPES = Memo(4096)  # fd.CodeFacts -> DeviceMetric.type fragment


def forget() -> None:
    """Empty the memo of DeviceMetric types (the shared resources are in mappings.fhir.prepared)."""
    _METRIC_TYPES.forget()


def _unit_quantity(m: Metric):
    """The quantity whose unit a metric's DeviceMetric.unit states (a numeric's, or a waveform's origin)."""
    return getattr(m.value, "quantity", None) or getattr(m.value, "origin", None)


def _unit_concept(m: Metric) -> dict[str, Any] | None:
    q = _unit_quantity(m)
    if q is None:
        return None
    codings = []
    if q.unit_mdc is not None:
        codings.append(fd.coding(q.unit_mdc))
    if q.unit:
        codings.append({"system": "http://unitsofmeasure.org", "code": q.unit})
    if codings:
        return {"coding": codings}
    return {"text": q.unit_text} if q.unit_text else None
