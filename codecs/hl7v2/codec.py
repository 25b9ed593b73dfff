"""HL7 v2 codec entry point (registry name "hl7v2")."""

from __future__ import annotations

import hashlib
import os

from interop.model import Message
from interop.model.message import RawRef

from . import quirks
from .decoder import HL7v2Decoder
from .sniff import sniff
from .tokenizer import tokenize


class HL7v2Codec:
    """HL7 v2.x messages (ER7 encoding): IHE PCD-01 ORU^R01 first, ADT and lab ORU segments too."""

    name = "hl7v2"
    standard = "hl7v2"

    def sniff(self, head: bytes) -> int:
        """100 for 'MSH' + a field separator at the start (after BOM, MLLP start block, blank lines)."""
        return sniff(head)  # its own light module: detection reads it without importing this one

    def split(self, data: bytes) -> list[tuple[int, bytes]]:
        """The messages of a file or stream that holds several (MLLP blocks, batches): (offset, bytes)."""
        from .batch import split

        return split(data)

    def split_stream(self, chunks, *, limit: int):
        """`split` over an input read chunk by chunk (a batch file, an MLLP capture, standard input)."""
        from .batch import split_stream

        return split_stream(chunks, limit=limit)

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Tokenize and read one message; tolerant by default (deviations land in `Message.issues`). A batch
        (FHS/BHS ... BTS/FTS) of one message is that message."""
        if data[:3] in (b"FHS", b"BHS") or data[3:6] in (b"FHS", b"BHS") or data[1:4] in (b"FHS", b"BHS"):
            data = _only_message(data)
        accept = quirks.chosen_tolerated() if strict else frozenset()  # --strict --quirks: the profile's own
        return HL7v2Decoder(tokenize(data, strict=strict, accept=accept), strict=strict,
                            raw=raw_ref(data, source)).decode()


def _only_message(data: bytes) -> bytes:
    """The one message of a batch; a batch of several is a DecodeError naming what reads them all."""
    from interop.errors import DecodeError

    from .batch import split

    chunks = split(data)
    if len(chunks) == 1:
        return chunks[0][1]
    raise DecodeError(f"a batch of {len(chunks)} messages where one was expected", standard="hl7v2",
                      position="FHS/BHS", expected="one message (interop.decode_all and `interop translate` read "
                      "every message of a batch)")


def raw_ref(data: bytes, label: str | None) -> RawRef:
    """The `Message.raw` the pipeline would add, set here to spare it a copy of the whole Message."""
    return RawRef(sha256=hashlib.sha256(data).hexdigest(), length=len(data),
                   name=os.path.basename(label) if label else None)


def parse(data: bytes):
    """Tokenize only (segments and fields), for callers that want the raw structure."""
    return tokenize(data)
