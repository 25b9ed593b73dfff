"""Decode a whole 20601 trace as one association (the high-level API behind `X73Codec.decode`)."""

from __future__ import annotations

from interop.errors import DecodeError
from interop.model import Message

from . import apdu, trace
from . import nomenclature as nom
from .association import STANDARD, Association
from .configurations import ConfigStore


def decode_trace(data: bytes, *, strict: bool = False, source: str | None = None,
                 store: ConfigStore | None = None) -> Message:
    """Agent APDUs → `Message`; manager lines of a hex trace are checked against this manager's answers.

    Offsets in errors and `SourceRef`s count octets of the agent APDU stream (for binary input: of the file).
    """
    try:
        if trace.is_hex_text(data):
            agent, manager = trace.parse_hex_text(data)
        else:
            agent, manager = data, b""
        if not agent:
            raise DecodeError("no agent APDU in the input", standard=STANDARD, position="byte 0",
                              expected="an AARQ APDU (0xE2)", offset=0)
        assoc = Association(mode="trace", strict=strict, store=store)
        for offset, frame in trace.frames(agent):
            assoc.receive(frame, offset)
        if manager:
            _check_manager(assoc, manager)
        return assoc.message(source)
    except DecodeError as exc:
        if exc.source is None:
            exc.source = source
        raise


def _check_manager(assoc: Association, manager: bytes) -> None:
    """Compare the trace's AARE / configuration response results with the ones this manager chose."""
    seen: list[tuple[str, int]] = []
    for offset, frame in trace.frames(manager):
        try:
            value = apdu.parse_apdu(frame, base=offset)
        except apdu.LayoutError as exc:
            assoc.issue("warning", "x73.manager-apdu", f"manager APDU malformed: {exc}", None)
            continue
        if value.choice == nom.AARE_CHOSEN:
            seen.append(("aare", value.apdu.result))
        elif (value.choice == nom.PRST_CHOSEN
              and value.apdu.choice == nom.RORS_CMIP_CONFIRMED_EVENT_REPORT_CHOSEN
              and value.apdu.message.event_type == nom.MDC_NOTI_CONFIG):
            seen.append(("config", value.apdu.message.event_reply_info.config_result))
    for (what, theirs), (_, ours) in zip(seen, [r for r in assoc.results if r[0] in {w for w, _ in seen}],
                                         strict=False):
        if theirs != ours:
            assoc.issue("info", "x73.manager-differs", f"the trace's manager answered {what} result {theirs}; "
                        f"this manager answers {ours}", None)
