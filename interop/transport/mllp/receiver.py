"""The HL7 v2 application behind the MLLP session: reads the MSH, decides the acknowledgement, hands
accepted messages to the store-and-forward engine.

Only the MSH is read before acknowledging (with the project's tokenizer: `read_delimiters`, its
character-set table): it is what the acknowledgement rules of HL7 v2 chapter 2 check (the
receiver's "accept" validation: MSH-9 message type, MSH-10 control id, MSH-11 processing id, MSH-12
version). The whole message is tokenized, decoded and mapped by the engine's worker after it is
durable; a message that then fails to decode becomes a `failed` row of the queue with the position
of the error (`interop queue status`), as an interface engine's error queue does.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from interop.codecs.hl7v2.batch import batch_messages
from interop.codecs.hl7v2.tokenizer import CHARSETS, Delimiters, read_delimiters, strip_framing
from interop.errors import DecodeError
from interop.text import is_ascii_digits
from interop.transport.store import NewItem

from .ack import PROCESSING_IDS, VERSIONS, AckError, MessageHeader

KIND = "hl7v2"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one received message."""

    code: str  # AA, AE or AR (original-mode terms; `ack.ack_code` maps to CA/CE/CR)
    header: MessageHeader | None
    errors: tuple[AckError, ...] = ()
    item: NewItem | None = None  # what to store (AA only)
    is_ack: bool = False  # the message is itself an acknowledgement: never answered


def read_header(payload: bytes) -> MessageHeader:
    """The MSH fields an acknowledgement needs; raises DecodeError (MSH-0/1/2) when there is no MSH."""
    body, base = strip_framing(payload)
    if not body:
        raise DecodeError("no HL7 content (empty block)", standard="hl7v2", position="byte 0",
                          expected="an MSH segment", offset=0)
    d = read_delimiters(body[:64], base)
    end = len(body)
    for sep in (b"\r", b"\n"):
        i = body.find(sep, 0, end)
        if i >= 0:
            end = i
    line = body[:end].decode("latin-1")  # delimiters are ASCII; values are re-encoded as they came
    f = line.split(d.field)
    f.insert(1, d.field)  # f[n] = MSH-n

    def get(n: int) -> str:
        return f[n] if n < len(f) else ""

    declared = get(18).split(d.repetition, 1)[0].strip()
    charset = CHARSETS.get(declared.upper(), "utf-8") if declared else "utf-8"
    if charset != "latin-1":  # re-read the fields in the declared character set
        try:
            f = body[:end].decode(charset).split(d.field)
            f.insert(1, d.field)
        except (UnicodeDecodeError, LookupError):
            charset = "latin-1"
    return MessageHeader(
        delimiters=d, sending_application=get(3), sending_facility=get(4), receiving_application=get(5),
        receiving_facility=get(6), message_type=get(9), control_id=get(10), processing_id=get(11),
        version=get(12).split(d.component, 1)[0].strip(), accept_ack=get(15).strip(),
        application_ack=get(16).strip(), charset=charset, charset_field=get(18), profile=get(21))


def inspect(payload: bytes, peer: str) -> Verdict:
    """The acknowledgement rules of HL7 v2 chapter 2 applied to one received block."""
    try:
        header = read_header(payload)
    except DecodeError as exc:
        pos = exc.position or ""
        field = 1 if pos.startswith("MSH-1") else 2 if pos.startswith("MSH-2") else None
        code = "100" if field is None else "102"  # no MSH first: segment sequence; bad MSH-1/2: data type
        return Verdict("AR", None, (AckError(code, f"{exc.message}; expected {exc.expected}", "MSH", field),))
    d = header.delimiters
    if header.message_code() == "ACK":
        return Verdict("AA", header, is_ack=True)
    more = _further_messages(payload, d.field)
    if more:  # HL7 v2 MLLP: one message per block; several go as a batch (FHS/BHS ... BTS/FTS)
        return Verdict("AR", header, (AckError(
            "100", f"the block holds {more + 1} messages (MSH segments); expected one message per MLLP block, "
                   "or an HL7 batch (FHS/BHS ... BTS/FTS) in one block", "MSH"),))
    missing = [n for n, v in ((9, header.message_type), (10, header.control_id), (11, header.processing_id),
                              (12, header.version)) if not v.strip()]
    if missing:
        return Verdict("AE", header, tuple(AckError("101", f"MSH-{n} is required", "MSH", n) for n in missing))
    if header.version not in VERSIONS:
        return Verdict("AR", header, (AckError("203", "version not supported; expected one of HL7 table 0104 "
                                                      "(2.1 ... 2.9)", "MSH", 12),))
    proc = header.processing_id.split(d.component, 1)[0].strip()
    if proc not in PROCESSING_IDS:
        return Verdict("AR", header, (AckError("202", "processing id not supported; expected D, P or T "
                                                      "(HL7 table 0103)", "MSH", 11),))
    for n, cond in ((15, header.accept_ack), (16, header.application_ack)):
        if cond and cond.upper() not in ("AL", "NE", "ER", "SU"):
            return Verdict("AE", header, (AckError("103", "acknowledgment condition not in HL7 table 0155 "
                                                          "(AL, NE, ER, SU)", "MSH", n),))
    code = header.message_code()
    if not (len(code) == 3 and code.isalnum()):
        return Verdict("AR", header, (AckError("200", "message type not supported; expected a 3-character "
                                                      "message code (HL7 table 0076)", "MSH", 9, 1),))
    sender = header.sender
    item = NewItem(
        KIND, header.control_id, payload,
        {"peer": peer, "sender": sender, "type": header.message_type, "version": header.version,
         "received": time.time()},
        dedup=f"{sender}:{header.control_id}", digest=content_digest(payload, d.field))
    return Verdict("AA", header, item=item)


def _further_messages(payload: bytes, field_separator: str) -> int:
    """How many MSH segments follow the first one in `payload` (at the start of a line, with its field
    separator)."""
    fs = field_separator.encode("latin-1")
    return payload.count(b"\rMSH" + fs) + payload.count(b"\nMSH" + fs)


# ---------------------------------------------------------------------------------------------- batches
# HL7 v2 chapter 2, "HL7 batch protocol": [FHS] BHS {MSH ...} BTS [FTS] in one block. Each message of the
# batch is inspected, stored and acknowledged as if it had come alone; the answer is a batch of those
# acknowledgements in one block (chapter 2, "Acknowledging batches"): FHS/BHS naming the original's control
# ids in FHS-12/BHS-12 (reference file/batch control id), the ACKs, BTS-1 their count, FTS.
BATCH_SEGMENTS = (b"FHS", b"BHS")


def is_batch(payload: bytes) -> bool:
    """Whether the block is an HL7 batch: it starts with FHS or BHS and its field separator."""
    body, _ = strip_framing(payload)
    return body[:3] in BATCH_SEGMENTS and len(body) > 3 and not (body[3:4].isalnum() or body[3:4] in b"\r\n")


@dataclass(frozen=True, slots=True)
class BatchHeader:
    """What the acknowledgement of a batch needs from its FHS, BHS and BTS."""

    delimiters: Delimiters
    file: tuple[str, ...] | None  # FHS fields, file[n] = FHS-n; None when the batch has no FHS
    batch: tuple[str, ...] | None  # BHS fields, batch[n] = BHS-n
    declared: int | None  # BTS-1, the message count the sender declared


@dataclass(frozen=True, slots=True)
class BatchVerdict:
    """What to do with one received batch: the verdict of each of its messages, in order."""

    header: BatchHeader | None  # None: the FHS/BHS could not be read (the whole batch is refused)
    verdicts: tuple[Verdict, ...]
    errors: tuple[AckError, ...] = ()

    @property
    def comment(self) -> str:
        """BTS-2 of the acknowledgement: a count that disagrees with the messages received."""
        h = self.header
        received = len(self.verdicts)
        if h is not None and h.declared is not None and h.declared != received:
            return f"BTS-1 declared {h.declared} messages; {received} received"
        return ""


def inspect_batch(payload: bytes, peer: str) -> BatchVerdict:
    """`inspect` applied to each message of a batch block."""
    body, base = strip_framing(payload)
    try:
        d = read_delimiters(b"MSH" + body[3:64], base)  # FHS-1/2 and BHS-1/2 are laid out as MSH-1/2
    except DecodeError as exc:
        position = (exc.position or "").replace("MSH", body[:3].decode("latin-1"))
        return BatchVerdict(None, (), (AckError("102", f"{exc.message} at {position}; expected {exc.expected}",
                                                body[:3].decode("latin-1"), 2),))
    file = batch = None
    declared = None
    for line in body.replace(b"\n", b"\r").split(b"\r"):
        name = line[:3]
        if name in (b"FHS", b"BHS", b"BTS"):
            f = line.decode("latin-1").split(d.field)
            f.insert(1, d.field)  # f[n] = XXX-n
            if name == b"FHS" and file is None:
                file = tuple(f)
            elif name == b"BHS" and batch is None:
                batch = tuple(f)
            elif name == b"BTS" and len(f) > 2 and is_ascii_digits(f[2].strip()):
                declared = int(f[2].strip())
    verdicts = tuple(inspect(chunk, peer) for _, chunk in batch_messages(body))
    return BatchVerdict(BatchHeader(d, file, batch, declared), verdicts)


def content_digest(payload: bytes, field_separator: str) -> str:
    """SHA-256 of the message without MSH-7 (date/time of message, which some senders restamp when
    they re-send): a re-sent message is recognised as a duplicate, a different one never is."""
    fs = field_separator.encode("latin-1")
    end = payload.find(b"\r")
    head = payload if end < 0 else payload[:end]
    parts = head.split(fs)
    if len(parts) > 6:
        parts[6] = b""
    h = hashlib.sha256(fs.join(parts))
    if end >= 0:
        h.update(payload[end:])
    return h.hexdigest()
