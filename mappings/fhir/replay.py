"""The FHIR translation of a recurring message structure, learned once and replayed with each message's news.

A device feed sends the same structure again and again (same device tree, patient, codes, ranges);
only values, flags, times and ids change. A codec that can split a message into its recurring
`structure` and its news in canonical values (`read_recurring`, e.g. codecs.hl7v2.recurring) lets
this module skip the canonical Message for every message of a structure after the second:

- `learn` keeps, from the ordinary translation (canonical Message → Bundle) of the second message of
  a structure, what the structure fixes: the Bundle's recurring entries (Patient, Encounter, Device,
  DeviceMetric) rendered once, each Observation's fixed part (`observation.ObservationStatic`) and the
  metric fields `observation` reads, and the Provenance agents.
- `replay` builds the next message's Bundle from those and its news, with the same functions the
  ordinary path uses for the parts that change (`observation.observation`, `provenance.news`,
  `bundle.head`, `context.make_entry`). The JSON is byte for byte what `to_fhir(decode(data)).json()`
  writes (tests/fhir/test_replay.py checks this over feeds, every example and mutated messages).

The findings come back too, as the ordinary path gives them: the tokenizer's notes of each message,
the decoder's findings on what recurs (the same every time, placed at each message's segment
offsets) and the mapping's notes. Nothing is learned from a translation whose resources are not all
shared (an id built from the message digest, a patient without identifier): those structures always
take the ordinary path. `replay` returns None whenever its result could differ (news that raise a
finding, a value of another kind than the learned one, an NTE that follows no metric, two
Observations with one id), and the caller takes the ordinary path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from interop.model import Issue, Message

from . import prepared
from .bundle import Bundle, head
from .context import FhirContext, FhirVersion, detached_context, hex_urn, make_entry
from .observation import OBSERVATION_FIELDS, ObservationStatic, observation, sender_zone
from .provenance import news

_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS


@dataclass(slots=True)
class _Skeleton:
    """What a structure fixes in its Bundle."""

    head: orjson.Fragment | None  # the recurring entries (Patient ... DeviceMetric), rendered and joined
    targets: list[dict[str, str]]  # their Provenance.target references
    # per metric: (index of its OBX row, its Observation's fixed part, the Metric fields `observation` reads
    # (the learned Metric's, to be updated with the news), the class of the learned value)
    rows: list[tuple[int, ObservationStatic, dict[str, Any], type]]
    provenance: dict[str, Any]  # the learned Provenance (its agents and activity recur)
    standard: str
    message_type: str | None
    count: int  # resources in the Bundle
    # the findings the structure raises in every message: the decoder's, each with the index of its
    # segment (its offset is that segment's in each message), and the mapping's, before and after the
    # Observations' own notes (which each message raises anew)
    findings: tuple[tuple[int, Issue], ...]
    notes_before: tuple[Issue, ...]
    notes_after: tuple[Issue, ...]


_SKELETONS: dict[tuple, _Skeleton] = {}
# structures remembered: one per monitor (device tree, patient, bed) of a unit, each about 30 KB
_SIZE = 1024


_MET: set[tuple] = set()  # structures translated once and not learned yet
_MET_SIZE = 4096


def forget() -> None:
    """Forget every learned structure (they hold Patient resources: see interop.clear_caches)."""
    _SKELETONS.clear()
    _MET.clear()


def learn(read: Any, message: Message, bundle: Bundle, version: FhirVersion, bundle_type: str) -> bool:
    """Remember what `read.structure` fixes in `bundle`, the ordinary translation of `message` (itself
    decoded from the message `read` was made of); False when the structure must not be replayed, or is
    met for the first time: a structure is learned when it recurs. A feed where every message brings a
    new structure (a new patient in each, as in most ADT and lab feeds) never pays for learning, and
    its structures do not push out those of the monitors that do recur."""
    key = (read.structure, version, bundle_type)
    if key not in _MET:
        if len(_MET) >= _MET_SIZE:
            _MET.clear()
        _MET.add(key)
        return False
    _MET.discard(key)
    if read.news() is None:
        return False  # the findings of this message are not all on what recurs
    if message.raw is None or message.raw.sha256 != read.sha256 or message.issues[:len(read.notes)] != read.notes:
        return False
    # The decoder's own findings come from what recurs: reading the news raised none (checked above),
    # and what raised a finding is read anew every time (codecs.hl7v2.decoder._read_new)
    findings = []
    offsets = read.offsets
    for issue in message.issues[len(read.notes):]:
        if issue.offset not in offsets:
            return False
        index = offsets.index(issue.offset)
        if index not in read.comment_segments:  # an NTE's finding depends on its comment: never replayed
            findings.append((index, issue))  # (replay takes the canonical path for a comment without metric)
    start, end = bundle.observation_notes
    entries = bundle._shared["entry"]  # noqa: SLF001 - the structure as assembled (shared parts intact)
    metrics = message.metrics
    statics = bundle.observation_statics
    n = len(metrics)
    if len(statics) != n or len(entries) < n + 1 or entries[-1]["resource"]["resourceType"] != "Provenance":
        return False
    fixed = entries[:len(entries) - n - 1]
    if any(type(e["resource"]) is not prepared.Prepared for e in fixed):
        return False  # a resource built from this message alone (digest-based id) recurs in no other
    rows = []
    for m, static, entry in zip(metrics, statics, entries[len(fixed):-1], strict=True):
        if static is not None and static.id_parts[1] in (read.sha256, message.control_id):
            return False  # Observation ids anchored on this message alone
        location = m.source.location if m.source is not None else ""
        if not (location.startswith("OBX[") and location.endswith("]") and location[4:-1].isdigit()):
            return False
        if static is None or entry["resource"]["resourceType"] != "Observation":
            return False  # None: a second Observation of one id in the message, renamed
        fields = m.__dict__
        rows.append((int(location[4:-1]) - 1, static, {k: fields[k] for k in OBSERVATION_FIELDS}, type(m.value)))
    rendered = [orjson.dumps(e, default=prepared.default, option=_OPTIONS) for e in fixed]
    while len(_SKELETONS) >= _SIZE:  # the oldest learned goes first: the others stay learned
        _SKELETONS.pop(next(iter(_SKELETONS)), None)
    _SKELETONS[key] = _Skeleton(
        head=orjson.Fragment(b",".join(rendered)) if rendered else None,
        targets=[{"reference": e["fullUrl"]} for e in fixed],
        rows=rows,
        provenance={**entries[-1]["resource"], "target": None},  # its targets are each message's
        standard=message.standard,
        message_type=message.message_type,
        count=len(entries),
        findings=tuple(findings),
        notes_before=tuple(bundle.issues[:start]),
        notes_after=tuple(bundle.issues[end:]),
    )
    return True


def replay(read: Any, version: FhirVersion, bundle_type: str) -> tuple[bytes, int, tuple[Issue, ...]] | None:
    """The Bundle JSON of the message `read` was made of, its resource count and findings (decoding's,
    then mapping's), when its structure was learned (else None: take the ordinary path)."""
    skeleton = _SKELETONS.get((read.structure, version, bundle_type))
    if skeleton is None:
        return None
    said = read.news()
    if said is None:
        return None  # reading the news raised a finding: the ordinary path records it
    sent = said.sent
    zone = sender_zone(skeleton.standard, sent)
    ctx = detached_context(version, bundle_type)
    entries: list[Any] = [skeleton.head] if skeleton.head is not None else []
    targets = skeleton.targets.copy()
    news_rows = said.rows
    comments = _comments(said.comments, skeleton) if said.comments else {}
    if comments is None:
        return None
    seen = set()
    for index, static, fixed, value_class in skeleton.rows:
        value, absent, status, interpretation, effective = news_rows[index]
        if value.__class__ is not value_class:
            return None  # another kind of value changes the fixed parts (ranges, DeviceMetric.unit)
        fields = fixed.copy()
        fields["notes"] = comments.get(index, ())
        fields["value"] = value
        fields["data_absent_reason"] = absent
        fields["measurement_status"] = status
        fields["interpretation"] = interpretation
        fields["effective"] = effective
        res = observation(static, fields, ctx, zone)
        rid = res["id"]
        if rid in seen:
            return None
        seen.add(rid)
        url = hex_urn(rid)  # Observation ids are stable_ids (context.entry_url)
        entries.append(make_entry(res, "Observation/" + rid, url, bundle_type))
        targets.append({"reference": url})
    provenance = skeleton.provenance.copy()
    provenance["id"], provenance["recorded"], provenance["entity"] = news(
        skeleton.standard, skeleton.message_type, said.control_id, read.sha256, sent, None, version)
    provenance["target"] = targets
    rid = provenance["id"]
    entries.append(make_entry(provenance, "Provenance/" + rid, hex_urn(rid), bundle_type))
    data = head(read.sha256, sent, None, version, bundle_type)
    data["entry"] = entries
    return orjson.dumps(data, default=prepared.default, option=_OPTIONS), skeleton.count, _findings(read, skeleton, ctx)


def _comments(comments: list[tuple[int, int, str]], skeleton: _Skeleton) -> dict[int, tuple[str, ...]] | None:
    """The NTE comments of each metric's OBX row: an NTE belongs to the last metric of its OBR before it
    (HL7v2Decoder.nte). None when one follows no metric: the decoder reports it, so no replay."""
    metric_rows = [index for index, _, _, _ in skeleton.rows]
    out: dict[int, tuple[str, ...]] = {}
    for first, last, text in comments:
        owner = next((i for i in reversed(metric_rows) if first <= i <= last), None)
        if owner is None:
            return None
        out[owner] = out.get(owner, ()) + (text,)
    return out


def _findings(read: Any, skeleton: _Skeleton, ctx: FhirContext) -> tuple[Issue, ...]:
    """What decoding and mapping the message raise, in the order the ordinary path gives them."""
    if not (read.notes or skeleton.findings or skeleton.notes_before or ctx.issues or skeleton.notes_after):
        return ()
    offsets = read.offsets
    decoded = read.notes + tuple(issue.model_copy(update={"offset": offsets[index]})
                                 for index, issue in skeleton.findings)
    mapped = skeleton.notes_before + tuple(ctx.issues) + skeleton.notes_after
    return decoded + tuple(i for i in mapped if i not in decoded)
