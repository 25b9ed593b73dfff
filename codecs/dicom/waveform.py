"""Waveform module (PS3.3 C.10.9): each channel of each multiplex group → a sample-array `Metric`.

Per channel: samples = the raw integers (as Decimal), factor = Channel Sensitivity × Channel Sensitivity
Correction Factor, origin = Channel Baseline in the Channel Sensitivity Units (UCUM), period_ms =
1000 / Sampling Frequency. Numeric waveform annotations (e.g. RR, QT intervals) become numeric metrics.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from interop.model import (
    MDC_SYSTEM,
    UCUM_SYSTEM,
    CodeableConcept,
    CodedValue,
    Coding,
    Metric,
    NumericValue,
    Quantity,
    SampleArrayValue,
    SourceRef,
    StringValue,
    Timestamp,
    replace,
)
from interop.text import is_ascii_digits

from .construct import build
from .elements import Context, tag_str

if TYPE_CHECKING:
    from pydicom import Dataset

ACQUISITION_DATETIME, CONTENT_DATE, CONTENT_TIME = 0x0008002A, 0x00080023, 0x00080033
MULTIPLEX_GROUP_TIME_OFFSET = 0x00181068
NUMBER_OF_CHANNELS, NUMBER_OF_SAMPLES, SAMPLING_FREQUENCY = 0x003A0005, 0x003A0010, 0x003A001A
MULTIPLEX_GROUP_LABEL, CHANNEL_DEFINITION_SEQUENCE, CHANNEL_LABEL = 0x003A0020, 0x003A0200, 0x003A0203
CHANNEL_SOURCE_SEQUENCE, CHANNEL_SENSITIVITY, CHANNEL_SENSITIVITY_UNITS = 0x003A0208, 0x003A0210, 0x003A0211
CHANNEL_SENSITIVITY_CORRECTION, CHANNEL_BASELINE = 0x003A0212, 0x003A0213
WAVEFORM_SEQUENCE, BITS_ALLOCATED, SAMPLE_INTERPRETATION, WAVEFORM_DATA = 0x54000100, 0x54001004, 0x54001006, 0x54001010
ANNOTATION_SEQUENCE, CONCEPT_NAME, UNITS, NUMERIC_VALUE = 0x0040B020, 0x0040A043, 0x004008EA, 0x0040A30A
UNFORMATTED_TEXT, CONCEPT_CODE = 0x00700006, 0x0040A168
FIDUCIAL_POSITIONS = (0x0040A132, 0x0040A138, 0x0040A13A)  # Referenced Sample Positions / Time Offsets / DateTime
EKG_IMPRESSION = CodeableConcept(codings=(Coding(system="http://loinc.org", code="18844-1",
                                                 display="EKG impression Narrative"),))
REFERENCED_CHANNELS = 0x0040A0B0

# Waveform Sample Interpretation (PS3.3 C.10.9.1.5) × bits allocated → struct/memoryview format.
SAMPLE_FORMATS = {("SS", 16): "h", ("US", 16): "H", ("SB", 8): "b", ("UB", 8): "B", ("SS", 32): "i",
                  ("US", 32): "I"}
_THOUSAND = Decimal(1000)


def decode_waveforms(ds: Dataset, ctx: Context, *, device_key: str | None = None) -> list[Metric]:
    """Sample-array metrics for every channel of every multiplex group, plus numeric annotations."""
    start = ctx.datetime(ds, ACQUISITION_DATETIME) or ctx.timestamp(ds, CONTENT_DATE, CONTENT_TIME)
    little = ds.is_little_endian if ds.is_little_endian is not None else True
    metrics: list[Metric] = []
    for g, group in enumerate(ctx.sequence(ds, WAVEFORM_SEQUENCE)):
        metrics.extend(_group(group, g, ctx, start, little, device_key))
    metrics.extend(_annotations(ds, ctx, start, device_key))
    return metrics


def _group(group: Dataset, g: int, ctx: Context, start: Timestamp | None, little: bool,
           device_key: str | None) -> list[Metric]:
    where = f"{tag_str(WAVEFORM_SEQUENCE)}[{g}]."
    n_channels = ctx.integer(group, NUMBER_OF_CHANNELS, where)
    n_samples = ctx.integer(group, NUMBER_OF_SAMPLES, where)
    frequency = ctx.decimal(group, SAMPLING_FREQUENCY, where)
    bits = ctx.integer(group, BITS_ALLOCATED, where)
    interpretation = ctx.text(group, SAMPLE_INTERPRETATION, where)
    channels = ctx.sequence(group, CHANNEL_DEFINITION_SEQUENCE, where)
    for tag, value, name in ((NUMBER_OF_CHANNELS, n_channels, "Number of Waveform Channels"),
                             (NUMBER_OF_SAMPLES, n_samples, "Number of Waveform Samples"),
                             (SAMPLING_FREQUENCY, frequency, "Sampling Frequency"),
                             (BITS_ALLOCATED, bits, "Waveform Bits Allocated")):
        if not value:
            ctx.missing(where, tag, name)
            return []
    fmt = SAMPLE_FORMATS.get((interpretation or "", bits))
    if fmt is None:
        ctx.problem(where + tag_str(SAMPLE_INTERPRETATION), "dicom.waveform-unsupported",
                    f"sample interpretation {interpretation!s} with {bits} bits is not decoded (companded or unknown)",
                    expected="SS/US 16 or 32 bits, SB/UB 8 bits", severity="warning")
        return []
    if len(channels) != n_channels:
        ctx.problem(where + tag_str(CHANNEL_DEFINITION_SEQUENCE), "dicom.bad-value",
                    f"{len(channels)} channel definitions for {n_channels} channels",
                    expected="one Channel Definition item per channel")
        n_channels = min(n_channels, len(channels))
        if not n_channels:
            return []
    samples = _samples(group, ctx, where, fmt, bits, little, n_channels, n_samples)
    if samples is None:
        return []
    period = _THOUSAND / frequency
    when = start
    offset_ms = ctx.decimal(group, MULTIPLEX_GROUP_TIME_OFFSET, where)
    if start is not None and offset_ms:
        when = replace(start, value=start.value + timedelta(milliseconds=float(offset_ms)))
    label = ctx.text(group, MULTIPLEX_GROUP_LABEL, where) or f"waveform {g + 1}"
    stride = len(channels) if len(channels) == ctx.integer(group, NUMBER_OF_CHANNELS, where) else n_channels
    out = []
    for c in range(n_channels):
        out.append(_channel(channels[c], c, g, ctx, where, samples[c::stride], period, label, when, device_key))
    return out


def _samples(group: Dataset, ctx: Context, where: str, fmt: str, bits: int, little: bool, n_channels: int,
             n_samples: int) -> memoryview | None:
    values = ctx.values(group, WAVEFORM_DATA, where)
    raw = values[0] if values and isinstance(values[0], bytes | bytearray) else None
    if raw is None:
        ctx.missing(where, WAVEFORM_DATA, "Waveform Data")
        return None
    width = bits // 8
    expected = n_channels * n_samples * width
    if len(raw) < expected:
        ctx.problem(where + tag_str(WAVEFORM_DATA), "dicom.bad-length",
                    f"Waveform Data holds {len(raw)} bytes, channels x samples need {expected}",
                    expected=f"{expected} bytes")
        expected = len(raw) - len(raw) % (width * n_channels)
    data = bytes(raw[:expected])
    if width > 1 and little != (memoryview(b"\x01\x00").cast("H")[0] == 1):
        import array

        arr = array.array(fmt, data)
        arr.byteswap()
        data = arr.tobytes()
    return memoryview(data).cast(fmt)


def _channel(ch: Dataset, c: int, g: int, ctx: Context, group_where: str, samples: memoryview, period: Decimal,
             label: str, when: Timestamp | None, device_key: str | None) -> Metric:
    where = f"{group_where}{tag_str(CHANNEL_DEFINITION_SEQUENCE)}[{c}]."
    code = ctx.concept(ch, CHANNEL_SOURCE_SEQUENCE, where, text=ctx.text(ch, CHANNEL_LABEL, where))
    if code is None or not code.codings:
        ctx.missing(where, CHANNEL_SOURCE_SEQUENCE, "Channel Source Sequence")
        code = code or build(CodeableConcept, codings=(), text=f"channel {c + 1}")
    else:  # keep only the first (source) coding plus MDC if the source listed one later
        mdc = [x for x in code.codings if x.system == MDC_SYSTEM]
        first = lead_potential(mdc[0]) if mdc else code.codings[0]
        potential = None if mdc else scpecg_lead(first)  # SCP-ECG lead: the MDC potential first, then as sent
        code = build(CodeableConcept, codings=(potential, first) if potential else (first,), text=code.text)
    sensitivity = ctx.decimal(ch, CHANNEL_SENSITIVITY, where)
    correction = ctx.decimal(ch, CHANNEL_SENSITIVITY_CORRECTION, where)
    baseline = ctx.decimal(ch, CHANNEL_BASELINE, where)
    factor = None
    if sensitivity is not None:
        factor = sensitivity * correction if correction is not None else sensitivity
    units = ctx.concept(ch, CHANNEL_SENSITIVITY_UNITS, where)
    ucum = units.code_in(UCUM_SYSTEM) if units else None
    origin = None
    if sensitivity is not None or baseline is not None:
        origin = build(Quantity,
            value=baseline if baseline is not None else Decimal(0), unit=ucum, unit_mdc=None,
            unit_text=None if ucum or not units or not units.codings else units.codings[0].display)
    value = build(SampleArrayValue, samples=tuple(map(Decimal, samples)),
                                             period_ms=period, factor=factor, origin=origin, lower_limit=None,
                                             upper_limit=None, dimensions=1)
    return build(Metric, code=code, value=value, effective=when, device_key=device_key,
                                  observation_id=f"{g + 1}.{c + 1}", group=label,
                                  source=build(SourceRef, location=where.rstrip(".")))


def lead_potential(c: Coding) -> Coding:
    """The signal of an ECG lead channel as PCD-01 and the FHIR/PoCD ECG examples code it.

    DICOM CID 3001 "ECG Leads" names the lead by its IEEE 11073-10101 lead number in partition 2
    ("2:1" Lead I, "2:61" Lead III: context-free 131073, 131133); a waveform channel carries the lead's
    electric potential, MDC_ECG_ELEC_POTL_<lead> = partition 2, 256 + lead number (131329 Lead I,
    131389 Lead III). Other codes are returned as they are."""
    code = c.code
    if c.system != MDC_SYSTEM or not is_ascii_digits(code) or not 0 < int(code) - MDC_SCADA < 256:
        return c
    potential = int(code) + 256
    display = c.display
    try:
        from interop.terminology import mdc

        term = mdc.term(potential)
        display = term.refid if term is not None else display
    except ImportError:  # pragma: no cover - terminology ships with the package
        pass
    return build(Coding, system=MDC_SYSTEM, code=str(potential), display=display)


def scpecg_lead(c: Coding) -> Coding | None:
    """The MDC_ECG_ELEC_POTL_<lead> coding of a CID 3001 SCP-ECG lead code ("5.6.3-9-1" Lead I): SCP-ECG
    lead numbers are the IEEE 11073-10101 lead numbers (5.6.3-9-61 Lead III = MDC lead 61), or None."""
    code = c.code or ""
    if not code.startswith("5.6.3-9-") or not is_ascii_digits(code[8:]) or not 0 < int(code[8:]) < 256:
        return None
    return lead_potential(build(Coding, system=MDC_SYSTEM, code=str(MDC_SCADA + int(code[8:])), display=None))


MDC_SCADA = 2 << 16  # partition 2 (SCADA) of IEEE 11073-10101, where lead numbers and potentials live


def _annotations(ds: Dataset, ctx: Context, start: Timestamp | None, device_key: str | None) -> list[Metric]:
    out = []
    unplaced = 0
    for i, item in enumerate(ctx.sequence(ds, ANNOTATION_SEQUENCE)):
        where = f"{tag_str(ANNOTATION_SEQUENCE)}[{i}]."
        number = ctx.decimal(item, NUMERIC_VALUE, where)
        if number is None:
            statement = _statement(item, ctx, where, i, start, device_key)
            if statement is None:
                unplaced += 1
            else:
                out.append(statement)
            continue
        code = ctx.concept(item, CONCEPT_NAME, where)
        if code is None:
            unplaced += 1
            continue
        units = ctx.concept(item, UNITS, where)
        ucum = units.code_in(UCUM_SYSTEM) if units else None
        quantity = build(Quantity, value=number, unit=ucum, unit_mdc=None,
                                            unit_text=None if ucum or not units or not units.codings
                                            else units.codings[0].display)
        out.append(build(Metric,
            code=code, value=build(NumericValue, quantity=quantity), effective=start,
            device_key=device_key, observation_id=f"annotation {i + 1}", group="waveform annotations",
            source=build(SourceRef, location=where + tag_str(NUMERIC_VALUE))))
    if unplaced:
        ctx.problem(tag_str(ANNOTATION_SEQUENCE), "dicom.annotation-not-mapped",
                    f"{unplaced} waveform annotation(s) with neither a value nor a statement (sample positions "
                    "only) are not placed in the model", severity="info")
    return out


def _statement(item: Dataset, ctx: Context, where: str, i: int, start: Timestamp | None,
               device_key: str | None) -> Metric | None:
    """An interpretation statement (PS3.3 C.10.10.1.1): Unformatted Text Value, or a coded Concept Name Code
    (e.g. "Sinus rhythm"), as a string or coded Metric; a text without concept gets LOINC 18844-1 (EKG impression)."""
    text = ctx.text(item, UNFORMATTED_TEXT, where)
    name = ctx.concept(item, CONCEPT_NAME, where)
    coded = ctx.concept(item, CONCEPT_CODE, where)
    if text is not None:
        value: Any = build(StringValue, text=text)
        tag = UNFORMATTED_TEXT
    elif any(t in item for t in FIDUCIAL_POSITIONS):
        return None  # a fiducial mark (P onset, QRS offset ...) at sample positions, not a statement
    elif coded is not None or name is not None:
        value = build(CodedValue, concept=coded or name)
        tag = CONCEPT_CODE if coded is not None else CONCEPT_NAME
    else:
        return None
    code = name if (name is not None and (text is not None or coded is not None)) else EKG_IMPRESSION
    return build(Metric, code=code, value=value, effective=start, device_key=device_key,
                 observation_id=f"annotation {i + 1}", group="waveform annotations",
                 source=build(SourceRef, location=where + tag_str(tag)))
