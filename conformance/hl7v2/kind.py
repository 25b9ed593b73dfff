"""HL7 v2 as an input kind of the runner: recognise it, split a file into messages, build cases."""

from __future__ import annotations

from typing import Any

from .cases import build
from .context import V2Context

_STARTS = (b"MSH", b"FHS", b"BHS")


class HL7v2Kind:
    name = "hl7v2"

    def sniff(self, data: bytes) -> bool:
        head = data[:512].lstrip(b"\xef\xbb\xbf\x0b\r\n \t")
        return head[:3] in _STARTS

    def contexts(self, data: bytes, label: str, user_profile: Any = None) -> list[V2Context]:
        """One context per message of the input (MLLP blocks, batches, messages one after another)."""
        from interop.codecs.hl7v2.batch import split

        chunks = split(data)
        many = len(chunks) > 1
        return [V2Context(chunk, label=f"{label}#{i}" if many else label, offset=off, user_profile=user_profile)
                for i, (off, chunk) in enumerate(chunks, 1)]

    def default_profile(self, ctx: V2Context) -> str:
        """ihe-pcd-01 / ihe-pcd-04 when MSH-21 names that IHE profile, else plain hl7v2."""
        if ctx.fatal:
            return "hl7v2"
        standards = ctx.facts()["standards"]
        for name in ("ihe-pcd-04", "ihe-pcd-01"):
            if name in standards:
                return name
        return "hl7v2"

    def build_case(self, spec: Any) -> bytes:
        return build(spec)


KIND = HL7v2Kind()
