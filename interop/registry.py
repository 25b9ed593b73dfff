"""Codecs and mappings, found through entry points (groups `interop.codecs`, `interop.mappings`).

A third party registers its own in its pyproject.toml:

    [project.entry-points."interop.codecs"]
    mystandard = "mypkg.codec:MyCodec"

A codec may also register a sniffer, a light function `sniff(head: bytes) -> int` in a module that
imports nothing heavy, so that detection reads the first bytes of an input without importing any
codec and then imports only the one it picked:

    [project.entry-points."interop.sniffers"]
    mystandard = "mypkg.sniff:sniff"

(without one, detection imports the codec and calls its `sniff`).

The names of the built-in codecs and mappings ("hl7v2", "fhir-r4" ...) are this project's: they
resolve without reading the installed entry points at all (reading them costs a good part of the
start-up of translating one message). A third party adds new names; the entry points are read the
first time a name that is not built in is asked for, or the list of every name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import UsageError

if TYPE_CHECKING:
    from .model import Message

CODEC_GROUP = "interop.codecs"
MAPPING_GROUP = "interop.mappings"
SNIFFER_GROUP = "interop.sniffers"

# The project's own entries (a source checkout without installed metadata works too).
_BUILTIN_CODECS = {
    "hl7v2": "interop.codecs.hl7v2.codec:HL7v2Codec",
    "ieee11073": "interop.codecs.ieee11073.codec:X73Codec",
    "bluetooth-gatt": "interop.codecs.ieee11073.gatt.codec:GattCodec",
    "dicom": "interop.codecs.dicom.codec:DicomCodec",
}
_BUILTIN_MAPPINGS = {
    "fhir-r4": "interop.mappings.fhir.bundle:FhirR4Mapping",
    "fhir-r5": "interop.mappings.fhir.bundle:FhirR5Mapping",
    "canonical": "interop.mappings.canonical:CanonicalJsonMapping",
    "hl7v2": "interop.mappings.hl7v2.encode:HL7v2Mapping",
}
_BUILTIN_SNIFFERS = {
    "hl7v2": "interop.codecs.hl7v2.sniff:sniff",
    "ieee11073": "interop.codecs.ieee11073.sniff:sniff",
    "bluetooth-gatt": "interop.codecs.ieee11073.gatt.sniff:sniff",
    "dicom": "interop.codecs.dicom.sniff:sniff",
}


@runtime_checkable
class Codec(Protocol):
    """Decodes one standard's bytes into the canonical model."""

    name: str  # registry name, e.g. "hl7v2"
    standard: str  # model Standard literal it produces

    def sniff(self, head: bytes) -> int:
        """Confidence 0-100 that `head` (the first 4 KiB of the input) is this codec's format."""
        ...

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Decode `data`; raise `DecodeError` (strict: at the first violation) or record issues."""
        ...

    # Optional: `split(data) -> list[tuple[int, bytes]]`, the (byte offset, bytes) of each message when an
    # input can hold several (HL7 v2 batches and MLLP captures); `interop.pipeline.decode_all` uses it.


@runtime_checkable
class Output(Protocol):
    """What a mapping returns."""

    def json(self) -> bytes: ...


@runtime_checkable
class Mapping(Protocol):
    """Maps the canonical model to a target representation."""

    name: str  # registry name, e.g. "fhir-r4"

    def map(self, message: Message, **options: Any) -> Output: ...


def _load(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    obj: Any = import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@cache
def _entry_point_specs(group: str) -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=group)}


def _specs(group: str, builtins: dict[str, str]) -> dict[str, str]:
    """Every registered name: the built-in ones, and those installed packages add."""
    specs = dict(_entry_point_specs(group))
    specs.update(builtins)
    return specs


def _spec(group: str, builtins: dict[str, str], name: str) -> str | None:
    """What `name` names: a built-in without reading the installed entry points, else an entry point."""
    return builtins.get(name) or _entry_point_specs(group).get(name)


def builtin_codec_names() -> list[str]:
    """The codecs this project brings (found without reading the installed entry points)."""
    return list(_BUILTIN_CODECS)


def codec_names() -> list[str]:
    """Names of every registered codec."""
    return sorted(_specs(CODEC_GROUP, _BUILTIN_CODECS))


def mapping_names() -> list[str]:
    """Names of every registered mapping."""
    return sorted(_specs(MAPPING_GROUP, _BUILTIN_MAPPINGS))


@cache
def get_codec(name: str) -> Codec:
    """The codec registered as `name` (instantiated once)."""
    spec = _spec(CODEC_GROUP, _BUILTIN_CODECS, name)
    if spec is None:
        raise UsageError(f"unknown standard {name!r}; known: {', '.join(codec_names())}")
    factory = _FACTORIES.get(spec)
    if factory is None:  # import and attribute lookups once per spec (a codec is asked for per input)
        factory = _FACTORIES[spec] = _load(spec)
    return factory()


_FACTORIES: dict[str, Callable[[], Codec]] = {}  # codec spec -> its class (a new instance per get_codec)


@cache
def get_sniffer(name: str) -> Callable[[bytes], int]:
    """The function detection calls for codec `name`: its registered light sniffer, else the codec's `sniff`
    (which imports the codec)."""
    spec = _spec(SNIFFER_GROUP, _BUILTIN_SNIFFERS, name)
    if spec is not None:
        return _load(spec)
    return get_codec(name).sniff


@cache
def get_mapping(name: str) -> Mapping:
    """The mapping registered as `name` (instantiated once)."""
    spec = _spec(MAPPING_GROUP, _BUILTIN_MAPPINGS, name)
    if spec is None:
        raise UsageError(f"unknown target {name!r}; known: {', '.join(mapping_names())}")
    factory: Callable[[], Mapping] = _load(spec)
    return factory()


def codecs() -> list[Codec]:
    """Every registered codec, instantiated."""
    return [get_codec(n) for n in codec_names()]
