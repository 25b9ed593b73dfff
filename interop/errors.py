"""Exception hierarchy. `InteropError` is the only family a public function raises on bad input.

Messages never carry patient data: positions, expectations and masked values only.
"""

from __future__ import annotations


class InteropError(Exception):
    """Root of every error raised by iomt-interop on bad input, mapping gaps or transport faults."""


class DecodeError(InteropError):
    """Input bytes do not follow the standard they claim (or that detection chose).

    `standard`: which codec ("hl7v2", "ieee11073-20601", "bluetooth-gatt", "dicom").
    `position`: where, in the standard's own terms ("MSH-2", "OBX[3].5", "byte 14", "(0010,0010)").
    `expected`: what the standard requires at that position.
    `offset`: byte offset in the input when known.
    `source`: file name or stream label when known (set by the pipeline).
    """

    def __init__(
        self,
        message: str,
        *,
        standard: str = "",
        position: str = "",
        expected: str = "",
        offset: int | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.standard = standard
        self.position = position
        self.expected = expected
        self.offset = offset
        self.source = source

    def one_line(self) -> str:
        """The single line the CLI prints: file, position, what was found, what was expected."""
        parts = []
        if self.source:
            parts.append(self.source)
        where = self.position
        if self.offset is not None and "byte" not in where:
            where = f"{where} (byte {self.offset})" if where else f"byte {self.offset}"
        if where:
            parts.append(where)
        text = self.message
        if self.expected and "expected" not in text:
            text = f"{text}; expected {self.expected}"
        parts.append(text)
        prefix = f"{self.standard} " if self.standard else ""
        return ": ".join(parts[:-1] + [prefix + "decode error: " + parts[-1]]) if parts else text

    def __str__(self) -> str:
        return self.one_line()


class MappingError(InteropError):
    """The canonical model cannot be expressed in the requested target."""


class TransportError(InteropError):
    """A network peer or a sink failed (MLLP, DICOM association, 20601 over TCP, FHIR server)."""


class ConformanceError(InteropError):
    """A conformance profile or vendor capability file is itself invalid."""


class UsageError(InteropError):
    """A caller asked for something that does not exist (unknown standard, target or profile)."""
