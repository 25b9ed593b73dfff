"""Canonical `Message` → FHIR Bundle (R4 or R5), assembled from the resource-family builders."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, timezone, tzinfo
from typing import Any, Literal

import orjson

from interop.errors import MappingError
from interop.model import Issue, Message, Timestamp
from interop.text import is_ascii_digits

from . import datatypes as fd
from . import prepared
from .context import FhirContext, FhirVersion, stable_id

# Order matters: later builders reference what earlier ones added.
BUILDERS = ("patient", "device", "specimen", "observation", "ecg", "alarm", "diagnostic", "encounter", "merge", "phd", "imaging",
            "provenance")
# Standards whose Bundles share recurring resources and fragments (mappings.fhir.prepared): their codec
# hands out one canonical object per recurring code, unit, range, identifier and patient (20601: one
# Device per association state, one concept per code), so the identity-keyed memos hit, and no later
# builder edits a shared resource in place (the PHD IG pass, `phd`, puts its own shared PhdDevice in the
# entry and copies a shared Observation.code before adding LOINC). For the others sharing would only miss.
SHARING_STANDARDS = frozenset({"hl7v2", "ieee11073-20601"})


_default = prepared.default  # kept under its old name: tests and callers serialise with it


class Bundle:
    """A FHIR Bundle as plain dicts: `.json()` bytes, `.resources`, `.to_model()` typed objects."""

    def __init__(self, version: FhirVersion, data: dict[str, Any], issues: list[Issue]) -> None:
        self.version = version
        self._shared = data  # may share recurring parts with other Bundles (mappings.fhir.prepared)
        self._data: dict[str, Any] | None = None
        self.issues = issues  # what the mapping could not express

    @property
    def data(self) -> dict[str, Any]:
        """The Bundle as plain dicts, private to this object (a deep copy made on first use: the
        assembled structure shares its recurring resources with other Bundles)."""
        if self._data is None:
            self._data = prepared.private_copy(self._shared)
        return self._data

    @property
    def resource_count(self) -> int:
        """How many resources the Bundle holds (without making `.data`)."""
        return len((self._shared if self._data is None else self._data).get("entry", []))

    @property
    def resources(self) -> list[dict[str, Any]]:
        return [e["resource"] for e in self.data.get("entry", [])]

    def json(self, *, indent: bool = False) -> bytes:
        """The Bundle as JSON bytes (after any change made through `.data`)."""
        source = self._shared if self._data is None else self._data
        if indent:
            return orjson.dumps(source, default=prepared.default_plain,
                                option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_SUBCLASS)
        return orjson.dumps(source, default=prepared.default, option=orjson.OPT_PASSTHROUGH_SUBCLASS)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (decimals as floats are NOT used: this round-trips through JSON text)."""
        return orjson.loads(self.json())

    def to_model(self):
        """The Bundle as fhir.resources models (R5: `fhir.resources`, R4: `fhir.resources.R4B`).

        This validates every resource, the Bundle invariant bdl-7 (fullUrl unique; fhir.resources
        checks no invariants) and that no conditional create is repeated; it costs milliseconds, so the
        hot path never calls it.
        """
        dup = entry_duplicates(self._shared if self._data is None else self._data)
        if dup:  # bdl-7, or one conditional create twice (a server makes both, then answers 412 for good)
            raise ValueError(f"{dup[0]} (fullUrl must be unique in a bundle, and a conditional create may not "
                             "be repeated)")
        if self.version == "R5":
            from fhir.resources.bundle import Bundle as ModelBundle
        else:
            from fhir.resources.R4B.bundle import Bundle as ModelBundle
        return ModelBundle.model_validate_json(self.json())


def to_bundle(message: Message, version: FhirVersion = "R4",
              bundle_type: Literal["collection", "transaction"] = "collection", **options: Any) -> Bundle:
    if version not in ("R4", "R5"):
        raise MappingError(f"unknown FHIR version {version!r}")
    tz = options.pop("assume_tz", None)
    if tz is not None:
        options["timezone"] = tz if hasattr(tz, "utcoffset") else _parse_tz(tz)
    ctx = FhirContext(version=version, message=message, bundle_type=bundle_type, options=options,
                      shares=message.standard in SHARING_STANDARDS and not _phd_over_v2(message))
    for build in _builders():
        build(message, ctx)
    data = head(message.raw.sha256 if message.raw else message.control_id, message.sent, options.get("timezone"),
                version, bundle_type)
    if len(ctx.urls) != len(ctx.entries):  # two entries for one resource: bdl-7 (fullUrl unique)
        ctx.entries = unique_entries(ctx.entries, ctx)
    data["entry"] = ctx.entries
    if CHECK_UNIQUE_ENTRIES:
        found = entry_duplicates(data)
        if found:
            raise MappingError(f"INTEROP_CHECK_UNIQUE_ENTRIES: the Bundle breaks {'; '.join(found[:3])}")
    return Bundle(version, data, ctx.issues)


def _phd_over_v2(message: Message) -> bool:
    """The PHD IG pass edits resources in place: a PHD gateway's v2 message shares none (mappings.fhir.phd)."""
    return bool(message.devices) and any(
        d.specializations and d.source is not None and d.source.location.startswith("OBX") for d in message.devices)


def unique_entries(entries: list[dict[str, Any]], ctx: FhirContext) -> list[dict[str, Any]]:
    """Entries with one fullUrl each (bdl-7): a repeated identical entry is dropped (noted); entries that
    share a fullUrl but differ are kept and reported as an error (`--validate` fails on them)."""
    kept: dict[str, dict[str, Any]] = {}
    out = []
    for e in entries:
        url = e["fullUrl"]
        first = kept.get(url)
        if first is None:
            kept[url] = e
            out.append(e)
        elif first == e:
            ctx.note("fhir.duplicate-entry", e["resource"]["resourceType"],
                     f"the same {e['resource']['resourceType']} was made twice; one entry kept (bdl-7)", "info")
        else:
            ctx.note("fhir.bdl-7", e["resource"]["resourceType"],
                     f"two different {e['resource']['resourceType']} entries share fullUrl {url} (bdl-7)", "error")
            out.append(e)
    return out


def entry_duplicates(data: dict[str, Any]) -> list[str]:
    """What breaks bdl-7 (a fullUrl repeated) or the uniqueness of conditional creates (two POSTs of one
    type with one `ifNoneExist`: a FHIR server creates both, then answers 412 to every later message)."""
    found = []
    urls: set[str] = set()
    creates: set[tuple[str, str]] = set()
    for e in data.get("entry", ()):
        url = e.get("fullUrl")
        if url is not None:
            if url in urls:
                found.append(f"bdl-7: fullUrl {url} repeated")
            urls.add(url)
        request = e.get("request")
        if request is not None and request.get("ifNoneExist"):
            key = (request.get("url", ""), request["ifNoneExist"])
            if key in creates:
                found.append(f"conditional create {key[0]}?{key[1]} repeated")
            creates.add(key)
    return found


# INTEROP_CHECK_UNIQUE_ENTRIES=1: every Bundle made is checked by `entry_duplicates` and a breach raises
# MappingError (the test suite sets it, so CLI and server subprocesses it starts are checked too; an
# integration team can set it in its own CI). Off by default: one more pass over the entries.
CHECK_UNIQUE_ENTRIES = os.environ.get("INTEROP_CHECK_UNIQUE_ENTRIES") == "1"


def head(identity: str | None, sent: Timestamp | None, assume_tz: tzinfo | None, version: FhirVersion,
         bundle_type: str) -> dict[str, Any]:
    """The Bundle without its entries: id (from the input's digest, else its control id), type, and the
    timestamp of a message sent at second precision or finer."""
    data: dict[str, Any] = {"resourceType": "Bundle", "id": stable_id("Bundle", identity, version, bundle_type),
                            "type": bundle_type}
    if sent is not None and sent.precision in ("second", "millisecond", "microsecond"):
        data["timestamp"] = fd.instant(sent.value if sent.value.tzinfo else sent.value.replace(tzinfo=assume_tz or UTC))
    return data


_BUILD_FUNCTIONS: dict[tuple[str, ...], list[Callable[[Message, FhirContext], None]]] = {}


def _builders() -> list[Callable[[Message, FhirContext], None]]:
    """The `build` function of each module in BUILDERS that exists, imported once per BUILDERS value
    (import_module per Bundle cost ~15 µs)."""
    found = _BUILD_FUNCTIONS.get(BUILDERS)
    if found is None:
        from importlib import import_module

        found = []
        for name in BUILDERS:
            try:
                module = import_module(f"interop.mappings.fhir.{name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"interop.mappings.fhir.{name}":
                    continue
                raise
            found.append(module.build)
        _BUILD_FUNCTIONS[BUILDERS] = found
    return found


def _parse_tz(text: str) -> timezone:
    """'+02:00', '-0400', 'Z' or 'UTC' → timezone."""
    from datetime import timedelta

    t = text.strip().upper()
    if t in ("Z", "UTC", "+00:00", "+0000"):
        return UTC
    sign = -1 if t.startswith("-") else 1
    digits = t.lstrip("+-").replace(":", "")
    if len(digits) != 4 or not is_ascii_digits(digits):
        raise MappingError(f"time zone {text!r}: expected +HH:MM, -HHMM or Z")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


class _FhirMapping:
    version: FhirVersion = "R4"
    name = "fhir-r4"

    def map(self, message: Message, **options: Any) -> Bundle:
        bundle_type = options.pop("bundle_type", "collection")
        return to_bundle(message, self.version, bundle_type, **options)


class FhirR4Mapping(_FhirMapping):
    """Canonical model → FHIR R4 Bundle."""

    version: FhirVersion = "R4"
    name = "fhir-r4"


class FhirR5Mapping(_FhirMapping):
    """Canonical model → FHIR R5 Bundle."""

    version: FhirVersion = "R5"
    name = "fhir-r5"
