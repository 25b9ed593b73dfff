"""What a message of a device feed shares with the messages before it, and what it says anew.

A monitor's PCD-01 feed repeats itself: MSH, PID, PV1, OBR and every OBX row are the same text
message after message, apart from the fields that carry this message's news: MSH-7 (time), MSH-10
(control id), OBR-7/8 (observation times), OBX-5 (value), OBX-8 (flags) and OBX-14 (time).

`read_recurring` splits a message along that line. `structure` is the text of everything that
recurs (equal structures decode to equal canonical objects, apart from the fields listed and the NTE
comments, which are news too); the rest is read into canonical values with the decoder's own readers
(`HL7v2Decoder.reading`, `HL7v2Decoder.ts`, `HL7v2Decoder.note`), so both paths read a field the same
way. `mappings.fhir.replay` uses this to reuse the FHIR translation of a structure it has translated
before.

The structure is read first, with the tokens alone; the news (`RecurringRead.news`) only when a
translation of the structure is at hand, and it is None when reading it raises a finding. The tokenizer
may note info findings (LF line ends, a blank line: kept in `notes` with this message's offsets).
Findings on what recurs are the same in every message of a structure, so `mappings.fhir.replay`
repeats them at this message's segment `offsets`. A tokenizer warning or a second message gives no
read at all, and the message takes the full decode, which records the findings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from operator import itemgetter

from interop.model import Coding, Issue, MetricValue, Timestamp

from .decoder import HL7v2Decoder
from .tokenizer import ParsedMessage, tokenize

# The segments whose recurring fields the decoder reads (MSH, OBR, OBX and NTE are read apart)
_KNOWN = frozenset({"PID", "PV1"})
_PAD = [""] * 21
# OBX fields that recur: all but OBX-1 (set id), OBX-5 (value), OBX-8 (flags) and OBX-14 (time)
_OBX_STATIC = itemgetter(2, 3, 4, 6, 7, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20)


@dataclass(slots=True)
class News:
    """What one message says anew, in canonical values, as the decoder reads it."""

    sent: Timestamp | None  # MSH-7
    control_id: str | None  # MSH-10
    # per OBX row, in order: (value, data-absent reason, measurement status, interpretation, effective
    # time), as the decoder reads them for a metric row (HL7v2Decoder.reading)
    rows: list[tuple[MetricValue | None, str | None, tuple[str, ...], tuple[Coding, ...], Timestamp | None]]
    # per NTE with a comment: (first and last OBX row it may belong to: those of its OBR up to the NTE,
    # the comment); the decoder gives it to the last metric among them (HL7v2Decoder.nte)
    comments: list[tuple[int, int, str]]


@dataclass(slots=True)
class RecurringRead:
    """One message split into what recurs (`structure`) and what it says anew (`news()`).

    The news is read only when asked for: a message of a structure met for the first time goes to the
    full decode, which reuses the tokens (`tokens`)."""

    structure: str  # the text of every segment without the fields that change, one line per segment
    sha256: str  # of the message bytes (`Message.raw.sha256`)
    comment_segments: frozenset[int]  # where the NTEs are: what the decoder says of one depends on its text
    notes: tuple[Issue, ...]  # what the tokenizer noted (info only: LF line ends, a blank line ...)
    tokens: ParsedMessage  # the message tokenized

    @property
    def offsets(self) -> tuple[int, ...]:
        """Of each segment, in order: where a finding on what recurs is placed (needed only then)."""
        return tuple(s.offset for s in self.tokens.segments)

    def news(self) -> News | None:
        """The news, or None when reading it raises a finding (the full decode records it)."""
        decoder = HL7v2Decoder(self.tokens)
        rows = []
        comments: list[tuple[int, int, str]] = []
        group = 0  # the first OBX row of the current OBR
        sent = control_id = None
        for seg in self.tokens.segments:
            name = seg.name
            if name == "OBX":  # padded to OBX-20 by read_recurring
                rows.append(decoder.reading(seg, seg.fields[2].strip()))
            elif name == "NTE":  # a comment on the last metric of its OBR: news of that row
                text = decoder.note(seg)
                if text:
                    comments.append((group, len(rows) - 1, text))
            elif name == "OBR":
                group = len(rows)
                decoder.group.observed = decoder.ts(seg, 7)
                decoder.ts(seg, 8)  # read for its findings only (OBR-8 is not translated)
            elif name == "MSH":
                sent = decoder.ts(seg, 7)
                control_id = seg.get(10).strip() or None
        if len(decoder.issues) != len(self.notes):  # the news raised a finding
            return None
        return News(sent=sent, control_id=control_id, rows=rows, comments=comments)


def read_recurring(data: bytes) -> RecurringRead | None:
    """`data` split into its recurring structure and its news, or None when the message needs the full
    decode (see the module docstring). Raises DecodeError for what tokenizing raises."""
    parsed = tokenize(data)
    notes = tuple(parsed.issues)
    if any(i.severity != "info" for i in notes):
        return None
    segments = parsed.segments
    if not segments or segments[0].name != "MSH":
        return None
    structure = []  # per segment the text of its recurring fields, joined by CR (no field holds a CR or LF)
    commented: list[int] = []  # segments holding comments
    for i, seg in enumerate(segments):
        name = seg.name
        f = seg.fields
        if name == "OBX":
            if len(f) < 21:
                f.extend(_PAD[:21 - len(f)])
            value_raw = f[5]
            empty = not value_raw or value_raw.isspace()
            if empty and (f[8].strip() or f[14].strip()):  # a device row would report these: full decode
                return None
            # "0" or "1" (OBX-5 empty) first: every other segment's text starts with its segment id
            structure.append(("1\r" if empty else "0\r") + "\r".join(_OBX_STATIC(f) if len(f) == 21 else
                                                                      (*_OBX_STATIC(f), *f[21:])))
        elif name == "NTE":  # its comment is news
            structure.append("NTE")
            commented.append(i)
        elif name == "OBR":
            structure.append("\r".join(f[:7]) + "\r" + "\r".join(f[9:]))
        elif name == "MSH":
            if i:  # a second message: the full decode reports it
                return None
            structure.append("\r".join(f[:7]) + "\r" + "\r".join(f[8:10]) + "\r" + "\r".join(f[11:]))
        elif name in _KNOWN:  # PID, PV1: all of it recurs
            structure.append("\r".join(f))
        else:
            # the decoder never reads any other segment (it passes over ORC, EVN ... and reports the rest
            # as not placed, by name and place): only its place recurs, which findings are anchored to
            structure.append(name)
    return RecurringRead(structure="\n".join(structure), sha256=hashlib.sha256(data).hexdigest(),
                         comment_segments=frozenset(commented), notes=notes, tokens=parsed)
