"""`GattCodec`: Bluetooth GATT health characteristic values (text + hex) → canonical `Message`.

Input format (see `textfile` and examples/gatt/README.md): a `# characteristic: 2A35` header
(16-bit UUID or GSS name such as "blood_pressure_measurement"), optional `# device:` (EUI-64 or
BD_ADDR), `# manufacturer:` / `# model:` / `# serial:` / `# firmware:` / `# hardware:` /
`# software:` (Device Information Service 0x2A29/0x2A24/0x2A25/0x2A26/0x2A27/0x2A28) and
`# system-id:` (0x2A23) lines, optional `# gateway:` / `# gateway-manufacturer:` /
`# gateway-model:` lines for the receiving PHG, an optional `# received:` ISO 8601 reception time
(becomes `Message.sent`), then one characteristic value per line as hex.
Values are little-endian as on the air. The result holds one MDS `Device` (key "1") and the metrics, with the
MDC codes and units the IEEE 11073-20601 path uses. GATT Date Time has no zone: timestamps are
naive, precision second. Identifiers are capital hex without separators, as the 20601 path writes
them. A BD_ADDR is kept as the PHD IG's Bluetooth transport address (EUI-48, identifier type
BTMAC); the IG defines no EUI-64 derived from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from interop.errors import DecodeError
from interop.model import (
    EUI64_SYSTEM,
    CodeableConcept,
    Device,
    Identifier,
    Issue,
    Message,
    Metric,
    ProductionSpec,
    TimeInfo,
    Timestamp,
)

from . import nomenclature as nom
from .characteristics import STANDARD, Characteristic, ValueContext, lookup
from .sniff import sniff
from .textfile import HEADER, Line, split_lines

BTMAC_SYSTEM = "http://hl7.org/fhir/sid/eui-48/bluetooth"
"""PHD IG identifier system of a Bluetooth transport address (EUI-48)."""
SPEC_KINDS = {"serial": "serial-number", "firmware": "fw-revision", "hardware": "hw-revision",
              "software": "sw-revision"}


def hex_id(raw: bytes) -> str:
    """An EUI-64 / EUI-48 as the 20601 path writes it: capital hex, no separators (FEEDABEEDEAD77C3)."""
    return raw.hex().upper()


class GattCodec:
    """Codec registered as "bluetooth-gatt"."""

    name = "bluetooth-gatt"
    standard = "bluetooth-gatt"

    def sniff(self, head: bytes) -> int:
        """90 when a `# characteristic:` line precedes every non-comment line (a GATT text input), else 0."""
        return sniff(head)  # its own light module: detection reads it without importing this one

    def decode(self, data: bytes, *, strict: bool = False, source: str | None = None) -> Message:
        """Decode a GATT text input; raise `DecodeError` (strict: at the first error; always when no value
        decodes) or record issues."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecodeError("input is not UTF-8 text", standard=STANDARD, position=f"byte {exc.start}",
                              expected="hex text with a '# characteristic:' header", offset=exc.start,
                              source=source) from None
        if not HEADER.search(data):
            raise DecodeError("no '# characteristic:' header line", standard=STANDARD, position="line 1",
                              expected="'# characteristic: <16-bit UUID or name>'", offset=0, source=source)
        return _Decoder(strict, source).run(split_lines(text).lines)


class _Decoder:
    """State of one decode call."""

    def __init__(self, strict: bool, source: str | None) -> None:
        self.strict = strict
        self.source = source
        self.issues: list[Issue] = []
        self.metrics: list[Metric] = []
        self.state: dict[str, Any] = {}
        self.info: dict[str, str] = {}
        self.identifiers: list[Identifier] = []
        self.gateway_identifiers: list[Identifier] = []
        self.received: Timestamp | None = None
        self.seen: list[Characteristic] = []

    def problem(self, line: Line, code: str, message: str, expected: str, severity: str = "error") -> None:
        position = f"line {line.number}"
        if self.strict and severity == "error":
            raise DecodeError(message, standard=STANDARD, position=position, expected=expected, offset=line.offset,
                              source=self.source)
        self.issues.append(Issue(severity=severity, code=code, location=position, message=message,
                                 offset=line.offset))

    def run(self, lines: list[Line]) -> Message:
        current: Characteristic | None = None
        values = 0
        for line in lines:
            if line.key == "characteristic":
                current = lookup(line.text)
                if current is None:
                    self.problem(line, "gatt.unknown-characteristic", "unsupported or unknown characteristic",
                                 "one of 2A35 2A36 2A1C 2A1D 2A1E 2A9C 2A9D 2A9E 2A5E 2A5F 2A18 2A34 2A37 2A2B or its GSS name")
                elif current not in self.seen:
                    self.seen.append(current)
            elif line.key in ("device", "system-id", "gateway"):
                self.identifier(line)
            elif line.key == "received":
                self.received = self.reception_time(line)
            elif line.key is not None:
                self.info[line.key] = line.text
            elif current is None:
                self.problem(line, "gatt.value-without-characteristic", "value line without a known characteristic",
                             "a '# characteristic:' line before the values")
            else:
                values += self.value(line, current)
        if not values:
            first = next((i for i in self.issues if i.severity == "error"), None)
            why = f" ({first.message})" if first is not None else ""
            raise DecodeError(f"no characteristic value could be decoded{why}", standard=STANDARD,
                              position=first.location if first is not None else "input",
                              expected="a '# characteristic:' line, then its values as hex, one per line",
                              offset=first.offset if first is not None else None, source=self.source)
        return Message(
            standard="bluetooth-gatt",
            message_type="+".join(c.name for c in self.seen) or None,
            devices=(self.device(),),
            gateway=self.gateway(),
            sent=self.received,
            metrics=tuple(self.metrics),
            issues=tuple(self.issues),
        )

    def value(self, line: Line, characteristic: Characteristic) -> int:
        try:
            raw = bytes.fromhex(line.text)
        except ValueError:
            self.problem(line, "gatt.bad-hex", "value line is not hex bytes", "pairs of hex digits")
            return 0
        from .layouts import compiled  # construct is imported only when a value is decoded

        try:
            parsed = compiled(characteristic.uuid).parse(raw)
        except Exception:  # noqa: BLE001 - any construct failure means the value is too short or malformed
            self.problem(line, "gatt.short-value", f"{len(raw)}-byte value too short for its flags",
                         f"a complete 0x{characteristic.uuid:04X} {characteristic.title} value")
            return 0
        if parsed.end < len(raw):  # GATT: receivers ignore octets they do not know (later spec versions)
            self.problem(line, "gatt.trailing-bytes", f"{len(raw) - parsed.end} trailing byte(s) ignored",
                         f"{parsed.end} bytes", "info")
        ctx = ValueContext(uuid=characteristic.uuid, line=line.number, offset=line.offset, strict=self.strict,
                           issues=self.issues, state=self.state)
        try:
            self.metrics.extend(characteristic.convert(parsed, ctx))
        except DecodeError as exc:
            exc.source = self.source
            raise
        return 1

    def identifier(self, line: Line) -> None:
        hexdigits = "".join(ch for ch in line.text if ch not in ":- \t")
        try:
            raw = bytes.fromhex(hexdigits)
        except ValueError:
            raw = b""
        target = self.gateway_identifiers if line.key == "gateway" else self.identifiers
        if line.key == "system-id" and len(raw) == 8:  # 0x2A23: manufacturer id (40 bits) + OUI (24 bits), LSO first
            target.append(Identifier(value=hex_id(raw[::-1]), system=EUI64_SYSTEM, type="EUI-64"))
        elif line.key in ("device", "gateway") and len(raw) == 8:
            target.append(Identifier(value=hex_id(raw), system=EUI64_SYSTEM, type="EUI-64"))
        elif line.key in ("device", "gateway") and len(raw) == 6:  # a Bluetooth device address
            target.append(Identifier(value=hex_id(raw), system=BTMAC_SYSTEM, type="BTMAC"))
        else:
            self.problem(line, "gatt.bad-identifier", f"'{line.key}' is not an identifier of the expected length",
                         "8 bytes (EUI-64) or, for device, 6 bytes (BD_ADDR) as hex", "warning")

    def reception_time(self, line: Line) -> Timestamp | None:
        try:
            value = datetime.fromisoformat(line.text)
        except ValueError:
            self.problem(line, "gatt.bad-received", "'received' is not an ISO 8601 date and time",
                         "e.g. 2024-11-29T23:09:05+01:00", "warning")
            return None
        fraction = line.text.split("T", 1)[-1].split(".", 1)
        digits = len(fraction[1]) - len(fraction[1].lstrip("0123456789")) if len(fraction) == 2 else 0
        precision = "second" if digits == 0 else "millisecond" if digits <= 3 else "microsecond"
        return Timestamp(value=value, precision=precision, raw=line.text)

    def gateway(self) -> Device | None:
        if not self.gateway_identifiers:
            return None
        return Device(key="gateway", level="mds", type=nom.concept("MDC_MOC_VMS_MDS_AHD"),
                      identifiers=tuple(self.gateway_identifiers), is_gateway=True,
                      manufacturer=self.info.get("gateway-manufacturer") or None,
                      model=self.info.get("gateway-model") or None)

    def device(self) -> Device:
        specs = tuple(ProductionSpec(kind=kind, value=self.info[key]) for key, kind in SPEC_KINDS.items()
                      if self.info.get(key))
        specializations: list[CodeableConcept] = []
        for c in self.seen:
            if c.specialization and nom.concept(c.specialization) not in specializations:
                specializations.append(nom.concept(c.specialization))
        device_time = self.state.get("device_time")
        return Device(key="1", level="mds", type=nom.concept("MDC_MOC_VMS_MDS_SIMP"),
                      identifiers=tuple(self.identifiers), manufacturer=self.info.get("manufacturer") or None,
                      model=self.info.get("model") or None, production_specs=specs,
                      specializations=tuple(specializations),
                      time=TimeInfo(device_time=device_time) if device_time else None)
