"""HL7 v2 acknowledgements (ACK with MSH, MSA, ERR), per HL7 v2.x chapter 2 "Acknowledgment messages".

Two modes, chosen by the message being acknowledged (chapter 2, "Acknowledgment rules"):

- **Original mode** (MSH-15 and MSH-16 both empty): one ACK, MSA-1 = AA (accepted), AE (error in the
  content: a required field missing, a value of the wrong type) or AR (rejected: unsupported version,
  processing id or message type, or the receiver could not take it in).
- **Enhanced mode** (MSH-15 or MSH-16 valued): the *accept* acknowledgement, sent when the message is
  committed to safe storage, MSA-1 = CA / CE / CR, as MSH-15 asks (table 0155: AL always, NE never,
  ER only on error/reject, SU only on success; empty = AL). When MSH-15 asks for none and MSH-16 asks
  for an *application* acknowledgement (IHE PCD-01 sends NE/AL), it is sent on the same connection,
  AA/AE/AR, once the message is durably queued: this receiver has no other route back to the sender.
  One acknowledgement per message at most, so a sender always reads one answer per message; what
  happens later (translation, the FHIR server's answer) is in the queue (`interop queue status`).

MSA-2 always echoes MSH-10. Errors go in ERR: from v2.5 on ERR-2 (location, ERL), ERR-3 (HL7 error
code, table 0357), ERR-4 (severity, table 0516) and ERR-8 (user message); before v2.5 in ERR-1 (ELD:
segment^sequence^field^code&text&HL70357) with MSA-3 as the text. ACK texts never repeat field
values of the message (no patient data), only positions and what was expected.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass

from interop.codecs.hl7v2.tokenizer import Delimiters

# HL7 table 0357, Message error condition codes
ERROR_CODES = {
    "0": "Message accepted",
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "104": "Value too long",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}
# HL7 table 0008, Acknowledgment code: original mode → enhanced (accept) mode
ENHANCED = {"AA": "CA", "AE": "CE", "AR": "CR"}
# HL7 table 0155, Accept/application acknowledgment conditions
ACK_CONDITIONS = ("AL", "NE", "ER", "SU")
# HL7 table 0104, Version ID
VERSIONS = frozenset({"2.0", "2.0D", "2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7",
                      "2.7.1", "2.8", "2.8.1", "2.8.2", "2.9", "2.9.1"})
# HL7 table 0103, Processing ID
PROCESSING_IDS = frozenset({"D", "P", "T"})
DEFAULT = Delimiters()
FALLBACK_VERSION = "2.5.1"  # used when the message's own version cannot be read


@dataclass(frozen=True, slots=True)
class AckError:
    """One ERR segment: where (`segment`, `field`, `component`), which table 0357 `code`, what to tell."""

    code: str
    text: str
    segment: str = "MSH"
    field: int | None = None
    component: int | None = None
    severity: str = "E"  # table 0516: E error, W warning, I information, F fatal

    @property
    def location(self) -> str:
        """'MSH-12' style label for logs."""
        if self.field is None:
            return self.segment
        return f"{self.segment}-{self.field}" + (f".{self.component}" if self.component else "")


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """What an acknowledgement needs from the MSH of the message it answers."""

    delimiters: Delimiters
    sending_application: str  # MSH-3 (raw)
    sending_facility: str  # MSH-4
    receiving_application: str  # MSH-5
    receiving_facility: str  # MSH-6
    message_type: str  # MSH-9 (raw)
    control_id: str  # MSH-10
    processing_id: str  # MSH-11 (raw)
    version: str  # MSH-12.1
    accept_ack: str  # MSH-15
    application_ack: str  # MSH-16
    charset: str  # Python codec the message was read with (MSH-18)
    charset_field: str  # MSH-18 as sent
    profile: str = ""  # MSH-21 as sent (message profile identifiers; IHE_PCD_ACM_001 for PCD-04)

    @property
    def enhanced(self) -> bool:
        """Enhanced acknowledgement mode: MSH-15 or MSH-16 is valued."""
        return bool(self.accept_ack or self.application_ack)

    @property
    def sender(self) -> str:
        """MSH-3 ^ MSH-4, the sender identity control ids are unique within."""
        return f"{self.sending_application}^{self.sending_facility}"

    def message_code(self) -> str:
        """MSH-9.1 (e.g. ORU)."""
        return self.message_type.split(self.delimiters.component, 1)[0]

    def trigger_event(self) -> str:
        """MSH-9.2 (e.g. R01), '' when absent."""
        parts = self.message_type.split(self.delimiters.component)
        return parts[1] if len(parts) > 1 else ""


def reply_code(header: MessageHeader | None, code: str) -> str | None:
    """MSA-1 of the one acknowledgement this receiver sends for the outcome `code` (AA/AE/AR), or None.

    Original mode: `code`. Enhanced mode: the accept acknowledgement CA/CE/CR when MSH-15 asks for it
    (AL or empty: always; ER: on error/reject; SU: on success; NE: never); otherwise the application
    acknowledgement AA/AE/AR when MSH-16 asks for it (e.g. MSH-15 NE, MSH-16 AL; IHE PCD-01 asks AL/NE),
    sent on the same connection once the message is durably queued, because this receiver has no
    other route back to the sender; otherwise nothing."""
    if header is None or not header.enhanced:
        return code
    ok = code == "AA"
    if _wanted(header.accept_ack, ok, header.delimiters.component, default="AL"):
        return ENHANCED[code]
    if _wanted(header.application_ack, ok, header.delimiters.component, default="NE"):
        return code
    return None


def _wanted(condition: str, ok: bool, cs: str, default: str) -> bool:
    cond = condition.split(cs, 1)[0].strip().upper() or default
    if cond == "NE":
        return False
    if cond == "ER":
        return not ok
    if cond == "SU":
        return ok
    return True  # AL (and anything not in table 0155, which `receiver.inspect` answers with AE)


_counter = itertools.count(1)
_PREFIX = f"{os.getpid() % 100000:05d}"


def next_control_id() -> str:
    """A control id for an ACK this process sends: unique within the process and across restarts."""
    return f"ACK{int(time.time() * 1000):x}{_PREFIX}{next(_counter)}"


def hl7_now() -> str:
    """Current time as HL7 DTM with milliseconds and offset (YYYYMMDDHHMMSS.SSS+ZZZZ).

    The local-time part is computed once per second (localtime() stats /etc/localtime on every call
    without TZ: a tenth of the cost of an acknowledgement)."""
    global _NOW
    t = time.time()
    sec = int(t)
    cached = _NOW
    if cached[0] != sec:
        lt = time.localtime(sec)
        off = lt.tm_gmtoff or 0
        sign = "+" if off >= 0 else "-"
        off = abs(off) // 60
        cached = _NOW = (sec, time.strftime("%Y%m%d%H%M%S", lt), f"{sign}{off // 60:02d}{off % 60:02d}")
    return f"{cached[1]}.{int(t * 1000) % 1000:03d}{cached[2]}"


_NOW: tuple[int, str, str] = (-1, "", "")


def build_ack(header: MessageHeader | None, code: str, errors: tuple[AckError, ...] = (), *,
              text: str = "", control_id: str | None = None, timestamp: str | None = None,
              message_type: str | None = None, profile: str = "") -> bytes:
    """The ACK message (segments joined by CR, no MLLP framing) answering `header` with MSA-1 `code`
    (AA/AE/AR/CA/CE/CR: see `reply_code`). `header` None: the message had no readable MSH; MSA-2 is
    empty and defaults are used."""
    d = header.delimiters if header is not None else DEFAULT
    fs, cs = d.field, d.component
    version = header.version if header is not None and header.version in VERSIONS else FALLBACK_VERSION
    v25 = _at_least(version, (2, 5))
    msa1 = code
    if header is not None:
        trigger = header.trigger_event()
        msg_type = message_type or ("ACK" if version in ("2.0", "2.0D", "2.1") else (
            f"ACK{cs}{trigger}{cs}ACK" if trigger and _at_least(version, (2, 3, 1)) else
            f"ACK{cs}{trigger}" if trigger else "ACK"))
        processing = header.processing_id or "P"
        msh = [f"MSH{fs}{_encoding_characters(d)}",
               header.receiving_application, header.receiving_facility,
               header.sending_application, header.sending_facility,
               timestamp or hl7_now(), "", msg_type, control_id or next_control_id(), processing, version]
        if header.charset_field or profile:
            msh += ["", "", "", "", "", header.charset_field]
        if profile:
            msh += ["", "", profile]  # MSH-21
        original_id = header.control_id
    else:
        msh = [f"MSH{fs}^~\\&", "", "", "", "", timestamp or hl7_now(), "", f"ACK{cs}{cs}ACK",
               control_id or next_control_id(), "P", version]
        original_id = ""
    msa = ["MSA", msa1, original_id]
    first_text = text or (errors[0].text if errors else "")
    if first_text and not v25:
        msa.append(_escape(first_text, d)[:80])  # MSA-3 text message (before v2.5)
    segments = [fs.join(msh), fs.join(msa)]
    for err in errors:
        segments.append(_err_segment(err, d, v25))
    charset = header.charset if header is not None else "ascii"
    return "\r".join(segments).encode(charset, "replace") + b"\r"


def build_batch_ack(delimiters: Delimiters, file: tuple[str, ...] | None, batch: tuple[str, ...] | None,
                    acks: list[bytes], *, comment: str = "", errors: tuple[AckError, ...] = (),
                    timestamp: str | None = None) -> bytes:
    """The acknowledgement of an HL7 batch (HL7 v2 chapter 2, "Acknowledging batches"): a batch of the
    acknowledgements of its messages, in one block. `file`/`batch`: the original's FHS/BHS fields
    (f[n] = FHS-n / BHS-n; None when absent). The answer's headers swap sender and receiver (FHS-3..6),
    carry new control ids (FHS-11/BHS-11) and name the original's in FHS-12/BHS-12 (reference file/batch
    control id); BTS-1 is the count of acknowledgements, BTS-2 `comment`; `errors` (a batch refused
    whole) go in BTS-2 as text, since a batch has no MSA of its own. ASCII only, like the control ids."""
    d = delimiters
    fs = d.field
    encoding = _encoding_characters(d)
    now = timestamp or hl7_now()

    def header(name: str, f: tuple[str, ...]) -> str:
        def g(n: int) -> str:
            return f[n] if n < len(f) else ""
        return fs.join([name, encoding, g(5), g(6), g(3), g(4), now, "", "", "", next_control_id(), g(11)])

    head = []
    if file is not None:
        head.append(header("FHS", file))
    head.append(header("BHS", batch if batch is not None else (file or ())))
    text = "; ".join([comment] + [f"{e.location} {e.code} {ERROR_CODES.get(e.code, '')}: {e.text}" for e in errors])
    bts = ["BTS", str(len(acks))] + ([_escape(text.strip("; "), d)[:250]] if text.strip("; ") else [])
    tail = [fs.join(bts)] + ([fs.join(["FTS", "1"])] if file is not None else [])
    return ("\r".join(head) + "\r").encode("ascii", "replace") + b"".join(acks) + \
        ("\r".join(tail) + "\r").encode("ascii", "replace")


# IHE PCD-04 (Report Alert, ORU^R40^ORU_R40): the Alert Manager answers with the Observation Report Alert
# Acknowledgment ORA^R41^ORA_R41 (HL7 v2.6 chapter 7; message structure MSH, MSA, [{ERR}]) rather than the
# general ACK, in whichever acknowledgement mode the alert asks for: PCD-04 senders use MSH-15 AL / MSH-16
# NE, so the answer is the accept acknowledgement (MSA-1 CA/CE/CR), sent as ORA^R41. MSA-1 follows HL7 v2
# chapter 2 as for any message (`reply_code`). ACM_PROFILES: MSH-21 profile ids that mark PCD-04 messages.
ACM_PROFILES = ("IHE_PCD_ACM_001", "IHE PCD ACM", "ACM_")


def is_alert_report(header: MessageHeader | None) -> bool:
    """Whether `header` is an IHE PCD-04 Report Alert (MSH-9 ORU^R40)."""
    return header is not None and header.message_code() == "ORU" and header.trigger_event() == "R40"


def wants_ora_r41(header: MessageHeader | None, code: str | None, *, always: bool = False) -> bool:
    """Whether the acknowledgement (MSA-1 `code`) of this message is an ORA^R41: the answer to an ORU^R40,
    when the receiver is told to (`always`: `serve mllp --ora-r41`) or the message names the IHE PCD ACM
    profile in MSH-21."""
    if code not in ("AA", "AE", "AR", "CA", "CE", "CR") or not is_alert_report(header):
        return False
    return always or any(p in header.profile.upper() for p in ACM_PROFILES)


def build_ora_r41(header: MessageHeader, code: str, errors: tuple[AckError, ...] = (), *, text: str = "",
                  control_id: str | None = None, timestamp: str | None = None) -> bytes:
    """ORA^R41^ORA_R41 answering an ORU^R40 (IHE PCD-04): MSH (MSH-9 ORA^R41^ORA_R41, MSH-21 echoing the
    PCD-04 profile id the alert carried), MSA (MSA-1 as `reply_code` gives it, MSA-2 its MSH-10), ERR per
    error."""
    d = header.delimiters
    cs, rs = d.component, d.repetition
    profile = next((p for p in header.profile.split(rs) if any(a in p.upper() for a in ACM_PROFILES)), "")
    return build_ack(header, code, errors, text=text, control_id=control_id, timestamp=timestamp,
                     message_type=f"ORA{cs}R41{cs}ORA_R41", profile=profile)


def build_reply(header: MessageHeader | None, code: str, errors: tuple[AckError, ...] = (), *,
                ora_r41: bool = False, **options: str) -> bytes:
    """The acknowledgement of a message with MSA-1 `code`: ORA^R41 where `wants_ora_r41` says so, else ACK."""
    if header is not None and wants_ora_r41(header, code, always=ora_r41):
        return build_ora_r41(header, code, errors, **options)
    return build_ack(header, code, errors, **options)


def _encoding_characters(d: Delimiters) -> str:
    """MSH-2 / FHS-2 / BHS-2: component, repetition, escape, subcomponent (and truncation) characters."""
    return f"{d.component}{d.repetition}{d.escape}{d.subcomponent}{d.truncation or ''}"


def _err_segment(err: AckError, d: Delimiters, v25: bool) -> str:
    fs, cs, ss = d.field, d.component, d.subcomponent
    name = ERROR_CODES.get(err.code, "")
    pos = "" if err.field is None else str(err.field)
    seq = "1" if err.segment else ""
    if not v25:  # ERR-1 ELD: segment id ^ sequence ^ field position ^ code&text&table
        return f"ERR{fs}{err.segment}{cs}{seq}{cs}{pos}{cs}{err.code}{ss}{name}{ss}HL70357"
    erl = cs.join([err.segment, seq, pos] + ([ "", str(err.component)] if err.component else []))
    cwe = f"{err.code}{cs}{name}{cs}HL70357"
    fields = ["ERR", "", erl if err.segment else "", cwe, err.severity, "", "", "", _escape(err.text, d)[:250]]
    return fs.join(fields)


def _escape(text: str, d: Delimiters) -> str:
    """Escape delimiter characters in free text (HL7 v2 chapter 2 escape sequences)."""
    e = d.escape
    out = text.replace(e, f"{e}E{e}")
    for ch, seq in ((d.field, "F"), (d.component, "S"), (d.subcomponent, "T"), (d.repetition, "R")):
        out = out.replace(ch, f"{e}{seq}{e}")
    return out.replace("\r", " ").replace("\n", " ")


def _at_least(version: str, ref: tuple[int, ...]) -> bool:
    try:
        nums = tuple(int(p) for p in version.rstrip("D").split("."))
    except ValueError:
        return True
    return nums >= ref
