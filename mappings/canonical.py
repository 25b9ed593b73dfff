"""The canonical model itself as JSON (`--to canonical`)."""

from __future__ import annotations

from typing import Any

from interop.model import Message


class CanonicalJson:
    """JSON of a canonical Message."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.issues: list = []  # a canonical dump expresses everything; decode issues stay on the message

    def json(self, *, indent: bool = False) -> bytes:
        # exclude_none, not exclude_defaults: value kinds ("numeric", ...) are defaults and must stay so
        # the JSON reads back into the same Message (Message.model_validate_json)
        return self.message.model_dump_json(exclude_none=True, indent=2 if indent else None).encode()


class CanonicalJsonMapping:
    name = "canonical"

    def map(self, message: Message, **options: Any) -> CanonicalJson:
        return CanonicalJson(message)
