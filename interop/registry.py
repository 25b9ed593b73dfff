"""Codecs and mappings, found through entry points (groups `interop.codecs`, `interop.mappings`).

A third party registers its own in its pyproject.toml:

    [project.entry-points."interop.codecs"]
    mystandard = "mypkg.codec:MyCodec"

Entry points are read once, on first use; the classes they name are imported only when a codec
is actually needed, so translating an HL7 message never imports pydicom.
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

# The project's own entries, so a source checkout without installed metadata still works.
# Installed entry points with the same name take precedence.
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
    specs = dict(builtins)
    specs.update(_entry_point_specs(group))
    return specs


def codec_names() -> list[str]:
    """Names of every registered codec."""
    return sorted(_specs(CODEC_GROUP, _BUILTIN_CODECS))


def mapping_names() -> list[str]:
    """Names of every registered mapping."""
    return sorted(_specs(MAPPING_GROUP, _BUILTIN_MAPPINGS))


@cache
def get_codec(name: str) -> Codec:
    """The codec registered as `name` (instantiated once)."""
    specs = _specs(CODEC_GROUP, _BUILTIN_CODECS)
    if name not in specs:
        raise UsageError(f"unknown standard {name!r}; known: {', '.join(sorted(specs))}")
    factory: Callable[[], Codec] = _load(specs[name])
    return factory()


@cache
def get_mapping(name: str) -> Mapping:
    """The mapping registered as `name` (instantiated once)."""
    specs = _specs(MAPPING_GROUP, _BUILTIN_MAPPINGS)
    if name not in specs:
        raise UsageError(f"unknown target {name!r}; known: {', '.join(sorted(specs))}")
    factory: Callable[[], Mapping] = _load(specs[name])
    return factory()


def codecs() -> list[Codec]:
    """Every registered codec, instantiated."""
    return [get_codec(n) for n in codec_names()]
