"""The canonical model itself as JSON (`--to canonical`)."""

from __future__ import annotations

from typing import Any

from interop.model import Message, to_json


class CanonicalJson:
    """JSON of a canonical Message."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.issues: list = []  # a canonical dump expresses everything; decode issues stay on the message

    def json(self, *, indent: bool = False) -> bytes:
        # fields at their default are left out; value kinds stay ("kind": the tag of MetricValue), so the
        # JSON reads back into the same Message (interop.model.from_json, validated)
        return to_json(self.message, indent=indent)


class CanonicalJsonMapping:
    name = "canonical"

    def map(self, message: Message, **options: Any) -> CanonicalJson:
        return CanonicalJson(message)
