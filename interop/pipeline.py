"""detect → decode → map, each stage a plain function (DESIGN.md, "The flow")."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from .errors import DecodeError, InteropError, UsageError
from .registry import get_codec, get_mapping

if TYPE_CHECKING:
    from .model import Issue, Message
    from .registry import Output

T = TypeVar("T")
MAX_INPUT_BYTES = 64 * 1024 * 1024  # one message/association/instance header; larger is refused


def read_input(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> tuple[bytes, str | None]:
    """Bytes and a label (file name) for `source`; a `str` is a path, never message text."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    path = Path(source)
    label = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DecodeError("no such file", position="path", expected="an existing file", source=label) from None
    except OSError as exc:
        raise DecodeError(f"cannot read file ({exc.strerror})", position="path", expected="a readable file",
                          source=label) from None
    if path.is_dir():
        raise DecodeError("is a directory", position="path", expected="a file", source=label)
    if size > MAX_INPUT_BYTES:
        raise DecodeError(f"file is {size} bytes", position="byte 0",
                          expected=f"at most {MAX_INPUT_BYTES} bytes per input", offset=0, source=label)
    try:
        return path.read_bytes(), label
    except OSError as exc:
        raise DecodeError(f"cannot read file ({exc.strerror})", position="path", expected="a readable file",
                          source=label) from None


def raw_ref(data: bytes, label: str | None):
    """`RawRef` for the input (digest, length, base name only)."""
    from .model import RawRef

    return RawRef.model_construct(sha256=hashlib.sha256(data).hexdigest(), length=len(data),
                                  name=os.path.basename(label) if label else None)


def decode(
    source: bytes | str | os.PathLike[str],
    standard: str = "auto",
    *,
    strict: bool = False,
    label: str | None = None,
) -> Message:
    """Decode bytes or a file into a canonical `Message`.

    `standard`: "auto" (detect by content) or a registered codec name ("hl7v2", "ieee11073", "dicom" ...).
    `strict`: raise `DecodeError` at the first violation instead of recording it in `Message.issues`.
    Raises only `InteropError` subclasses on bad input.
    """
    data, file_label = read_input(source)
    label = label or file_label
    if standard == "auto":
        standard = _detect(data, source=label)
    return _decode(data, standard, strict, label)


def _decode(data: bytes, standard: str, strict: bool, label: str | None) -> Message:
    """`decode` of bytes whose standard is known."""
    codec = get_codec(standard)
    try:
        message = codec.decode(data, strict=strict, source=label)
    except DecodeError as exc:
        if exc.source is None:
            exc.source = label
        raise
    except InteropError:
        raise
    except (RecursionError, MemoryError) as exc:  # pathological nesting/size: still a clean error
        raise DecodeError(f"input too deeply nested or too large ({type(exc).__name__})", standard=standard,
                          position="input", expected="a well-formed message", source=label) from None
    if message.raw is None:
        message = message.model_copy(update={"raw": raw_ref(data, label)})
    return message


def decode_all(
    source: bytes | str | os.PathLike[str],
    standard: str = "auto",
    *,
    strict: bool = False,
    label: str | None = None,
) -> Iterator[Message | DecodeError]:
    """Each message of an input that may hold several (an HL7 v2 batch file, an MLLP capture, messages
    written one after another): its `Message`, or the `DecodeError` that message raised, in order, so
    that one bad message loses none of the others. Errors name the message ("message 2, OBX[3]-5")
    and carry byte offsets into the whole input. An input of one message yields what `decode` gives
    (or raises). Raises `DecodeError` only for what concerns the input as a whole (no such file,
    unrecognised content).
    """
    data, label, standard, chunks = _messages(source, standard, label)
    return _each(data, chunks, lambda message: decode(message, standard, strict=strict, label=label))


def _messages(source: bytes | str | os.PathLike[str], standard: str,
              label: str | None) -> tuple[bytes, str | None, str, list[tuple[int, bytes]]]:
    """(bytes, label, standard, [(offset, message bytes) ...]) of an input that may hold several messages."""
    data, file_label = read_input(source)
    label = label or file_label
    if standard == "auto":
        standard = _detect(data, source=label)
    split = getattr(get_codec(standard), "split", None)
    return data, label, standard, split(data) if split is not None else [(0, data)]


def _each(data: bytes, chunks: list[tuple[int, bytes]], read: Callable[[bytes], T]) -> Iterator[T | InteropError]:
    """`read` of each message: an input of one message raises what `read` raises; of several, each
    message's error is yielded in its place, a DecodeError positioned in the whole input ("message 2, ...")."""
    if len(chunks) == 1:
        yield read(data)
        return
    for n, (offset, chunk) in enumerate(chunks, 1):
        try:
            yield read(chunk)
        except DecodeError as exc:
            exc.position = f"message {n}, {exc.position}" if exc.position else f"message {n}"
            exc.offset = offset + exc.offset if exc.offset is not None else offset
            yield exc
        except InteropError as exc:  # a message the mapping cannot express: the others still go
            exc.args = (f"message {n}: {exc}",)
            yield exc


def translate(message: Message, to: str, **options: Any) -> Output:
    """Map a decoded message to a registered target ("fhir-r4", "fhir-r5", "canonical", "hl7v2")."""
    return get_mapping(to).map(message, **options)


def to_fhir(
    message: Message,
    version: Literal["R4", "R5"] = "R4",
    *,
    bundle_type: Literal["collection", "transaction"] = "collection",
    **options: Any,
):
    """The FHIR Bundle for `message` (`.json()` bytes, `.resources`, `.to_model()`)."""
    if version not in ("R4", "R5"):
        raise UsageError(f"unknown FHIR version {version!r}; expected R4 or R5")
    return translate(message, f"fhir-{version.lower()}", bundle_type=bundle_type, **options)


def fhir_json(
    source: bytes | str | os.PathLike[str],
    version: Literal["R4", "R5"] = "R4",
    *,
    bundle_type: Literal["collection", "transaction"] = "collection",
    standard: str = "auto",
    label: str | None = None,
) -> bytes:
    """The FHIR Bundle JSON of one message: `to_fhir(decode(source), version).json()`."""
    return translate_json(source, version, bundle_type=bundle_type, standard=standard, label=label).json


def translate_json_all(
    source: bytes | str | os.PathLike[str],
    version: Literal["R4", "R5"] = "R4",
    *,
    bundle_type: Literal["collection", "transaction"] = "collection",
    standard: str = "auto",
    label: str | None = None,
) -> Iterator[Translation | InteropError]:
    """`translate_json` for each message of an input that may hold several (see `decode_all`): its
    result, or the error that message raised (DecodeError, MappingError), in order."""
    data, label, standard, chunks = _messages(source, standard, label)
    return _each(data, chunks, lambda message: translate_json(message, version, bundle_type=bundle_type,
                                                              standard=standard, label=label))


def _detect(data: bytes, source: str | None) -> str:
    from .detect import detect

    return detect(data, source=source)


class Translation(NamedTuple):
    """One message translated to FHIR JSON (`translate_json`)."""

    json: bytes  # the Bundle
    resources: int  # how many resources it holds
    issues: tuple[Issue, ...]  # the findings of decoding, then those mapping added
    message: Message  # the canonical Message
    bundle: Any  # the Bundle object (mappings.fhir.bundle.Bundle)


def translate_json(
    source: bytes | str | os.PathLike[str],
    version: Literal["R4", "R5"] = "R4",
    *,
    bundle_type: Literal["collection", "transaction"] = "collection",
    standard: str = "auto",
    label: str | None = None,
) -> Translation:
    """One message's FHIR Bundle JSON, resource count and findings, with its Message and Bundle:
    `decode` → `to_fhir` → `.json()` in one call (the one translation path: DESIGN.md, "Canonical model")."""
    if version not in ("R4", "R5"):
        raise UsageError(f"unknown FHIR version {version!r}; expected R4 or R5")
    data, file_label = read_input(source)
    label = label or file_label
    if standard == "auto":
        standard = _detect(data, source=label)
    message = _decode(data, standard, False, label)
    bundle = get_mapping(f"fhir-{version.lower()}").map(message, bundle_type=bundle_type)
    issues = message.issues + tuple(i for i in bundle.issues if i not in message.issues)
    return Translation(bundle.json(), bundle.resource_count, issues, message, bundle)


# Modules that remember what recurs from input to input, each with a `forget()`
_MEMO_MODULES = ("interop.codecs.hl7v2.decoder", "interop.mappings.fhir.context")


def clear_caches() -> None:
    """Forget what the codecs and mappings remember of earlier inputs: codes, units, OBX plans,
    numbers, patients and visits (PID/PV1), shared FHIR resources and fragments.

    Every memo is bounded (a few thousand entries each) and refills on use, so nothing needs this for
    correctness. Call it to drop what the process holds, for example patient identities after a
    discharge, or to measure a cold start.
    """
    import sys

    for name in _MEMO_MODULES:
        module = sys.modules.get(name)  # never imported: nothing remembered
        if module is not None:
            module.forget()
