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
# bytes, a path, a binary file object or an iterable of byte chunks (the inputs a stream is read from)
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | Any
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

    return RawRef(sha256=hashlib.sha256(data).hexdigest(), length=len(data),
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
        from .model import replace

        message = replace(message, raw=raw_ref(data, label))
    return message


def decode_all(
    source: Source,
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

    A generator over a stream: `source` may be bytes, a path, a binary file object (`sys.stdin.buffer`)
    or any iterable of byte chunks; it is read as the messages are asked for, one message in memory at
    a time, with no limit on the input's size (`MAX_INPUT_BYTES` per message).
    """
    standard, label, pieces = open_messages(source, standard, label=label)
    return _each_streamed(pieces, lambda message: decode(message, standard, strict=strict, label=label))


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
    source: Source,
    version: Literal["R4", "R5"] = "R4",
    *,
    bundle_type: Literal["collection", "transaction"] = "collection",
    standard: str = "auto",
    label: str | None = None,
) -> Iterator[Translation | InteropError]:
    """`translate_json` for each message of an input that may hold several (see `decode_all`): its
    result, or the error that message raised (DecodeError, MappingError), in order."""
    standard, label, pieces = open_messages(source, standard, label=label)
    return _each_streamed(pieces, lambda message: translate_json(message, version, bundle_type=bundle_type,
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
_MEMO_MODULES = ("interop.codecs.hl7v2.decoder", "interop.codecs.dicom.elements", "interop.mappings.fhir.context",
                 "interop.mappings.fhir.dose")


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


# ---------------------------------------------------------------------------------------------- streams
# An input of many messages (an HL7 v2 batch file, an MLLP capture, standard input) is read chunk by
# chunk and split as it comes: memory holds one message and one chunk, whatever the input's size.

READ_CHUNK = 1 << 20


def open_messages(source: Source, standard: str = "auto", *,
                  label: str | None = None) -> tuple[str, str | None, Iterator[tuple[int, bytes]]]:
    """(standard, label, the (byte offset, bytes) of each message) of an input that may hold several.

    `source`: bytes, a path, a binary file object (standard input, a socket file) or an iterable of
    byte chunks. The standard is detected from the first bytes ("auto") before any codec is imported;
    only the codec picked is imported. Errors that concern the whole input (no such file, unrecognised
    content) are raised here; the messages are read as the iterator is consumed. A codec that reads
    streams (`split_stream`) gets the chunks as they come; one that only splits bytes (`split`) gets
    the whole input (at most `MAX_INPUT_BYTES`); any other reads one message per input.
    """
    chunks, file_label = _chunks(source)
    label = label or file_label
    head, chunks = _head(chunks)
    if standard == "auto":
        standard = _detect(head, source=label)
    codec = get_codec(standard)
    split_stream = getattr(codec, "split_stream", None)
    if split_stream is not None:
        return standard, label, _labelled(split_stream(_prepend(head, chunks), limit=MAX_INPUT_BYTES), label)
    data = _read_all(head, chunks, label)
    split = getattr(codec, "split", None)
    return standard, label, iter(split(data) if split is not None else [(0, data)])


def split_messages(source: Source, standard: str = "auto", *,
                   label: str | None = None) -> Iterator[tuple[int, bytes]]:
    """The (byte offset, bytes) of each message of an input (see `open_messages`)."""
    return open_messages(source, standard, label=label)[2]


def _chunks(source: Source) -> tuple[Iterator[bytes], str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return iter([bytes(source)]), None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = str(path)
        try:
            if path.is_dir():
                raise DecodeError("is a directory", position="path", expected="a file", source=label)
            handle = path.open("rb")
        except FileNotFoundError:
            raise DecodeError("no such file", position="path", expected="an existing file", source=label) from None
        except OSError as exc:
            raise DecodeError(f"cannot read file ({exc.strerror})", position="path", expected="a readable file",
                              source=label) from None
        return _read_file(handle, close=True), label
    if hasattr(source, "read"):
        return _read_file(source, close=False), getattr(source, "name", None) if isinstance(
            getattr(source, "name", None), str) else None
    return (bytes(c) for c in source), None


def _read_file(handle: Any, *, close: bool) -> Iterator[bytes]:
    read = getattr(handle, "read1", None) or handle.read  # read1: what is there, without waiting for a full chunk
    try:
        while True:
            chunk = read(READ_CHUNK)
            if not chunk:
                return
            if isinstance(chunk, str):
                raise UsageError("a text-mode file was given; open it in binary mode ('rb')")
            yield chunk
    finally:
        if close:
            handle.close()


def _head(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """At least the first 4 KiB (what detection reads), and the chunks after them."""
    from .detect import HEAD

    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= HEAD:
            break
    return head, chunks


def _prepend(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if head:
        yield head
    yield from chunks


def _read_all(head: bytes, chunks: Iterator[bytes], label: str | None) -> bytes:
    parts = [head]
    size = len(head)
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_INPUT_BYTES:
            raise DecodeError(f"input is more than {MAX_INPUT_BYTES} bytes", position="byte 0",
                              expected=f"at most {MAX_INPUT_BYTES} bytes per input", offset=0, source=label)
        parts.append(chunk)
    return b"".join(parts)


def _labelled(pieces: Iterator[tuple[int, bytes]], label: str | None) -> Iterator[tuple[int, bytes]]:
    """A splitter's own errors (a message over the limit) name the input."""
    try:
        yield from pieces
    except DecodeError as exc:
        if exc.source is None:
            exc.source = label
        raise


def _each_streamed(pieces: Iterator[tuple[int, bytes]], read: Callable[[bytes], T]) -> Iterator[T | InteropError]:
    """`read` of each message of a stream: an input of one message raises what `read` raises; of several,
    each message's error is yielded in its place, a DecodeError positioned in the whole input ("message 2,
    ..."). A stream that breaks off (a message over the limit) yields its error last."""
    first = next(pieces, None)
    if first is None:
        return
    second = next(pieces, None)
    if second is None:
        yield read(first[1])
        return
    n = 0
    try:
        for n, (offset, chunk) in enumerate(_prepend_pieces(first, second, pieces), 1):
            try:
                yield read(chunk)
            except DecodeError as exc:
                exc.position = f"message {n}, {exc.position}" if exc.position else f"message {n}"
                exc.offset = offset + exc.offset if exc.offset is not None else offset
                yield exc
            except InteropError as exc:  # a message the mapping cannot express: the others still go
                exc.args = (f"message {n}: {exc}",)
                yield exc
    except DecodeError as exc:  # the splitter gave up (a message over the limit): said after the others
        exc.position = f"message {n + 1}, {exc.position}" if exc.position else f"message {n + 1}"
        yield exc


def _prepend_pieces(first, second, rest):
    yield first
    yield second
    yield from rest
