"""DICOM assertions (profile `dicom`) on the IOD modules the codec reads.

Modules: Patient, General Study, General Series, General Equipment, SOP Common (PS3.3 C.7, C.12),
SR Document Series / General / Content (C.17) with templates TID 1500 and the radiation dose
templates TID 10001 / 10011 (PS3.16), Waveform Identification / Waveform (C.10.8, C.10.9) and the
MPPS status (the attribute lists `interop serve dicom` receives). VR and VM rules (PS3.5 6.2,
PS3.6) use pydicom's data dictionary as the reference data instead of a hand-written table.

The file is read with the codec's own reader (`codecs/dicom/reader.py`: pydicom plus the structural
checks pydicom skips), header only. Locations are written the way dciodvfy writes them
(`ContentSequence(0040,a730)[2]/CodeValue(0008,0100)`), so findings line up with the oracle's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from interop.text import is_ascii_digits

from .base import Context, fatal_check, rule_registry

Hit = tuple[str, str]
Rule = Callable[["DicomInput"], Iterator[Hit]]
RULES: dict[str, Rule] = {}
rule = rule_registry(RULES)
fatal_check("DCM-FILE-001")  # the file cannot be read: reported once, nothing else runs


# ----------------------------------------------------------------------------------------- module tables
# (keyword, tag) per type, PS3.3 (2024e) module tables. Only attributes of the modules the codec reads.
PATIENT_T2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")  # C.7.1.1 Table C.7-1
STUDY_T1 = ("StudyInstanceUID",)  # C.7.2.1 Table C.7-3
STUDY_T2 = ("StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber")
SERIES_T1 = ("Modality", "SeriesInstanceUID")  # C.7.3.1 Table C.7-5a
SERIES_T2 = ("SeriesNumber",)
EQUIPMENT_T2 = ("Manufacturer",)  # C.7.5.1 Table C.7-8
SOP_T1 = ("SOPClassUID", "SOPInstanceUID")  # C.12.1 Table C.12-1
SR_SERIES_T1 = ("Modality", "SeriesInstanceUID", "SeriesNumber")  # C.17.1 Table C.17-1
SR_SERIES_T2 = ("ReferencedPerformedProcedureStepSequence",)
SR_GENERAL_T1 = ("InstanceNumber", "CompletionFlag", "VerificationFlag", "ContentDate", "ContentTime")  # C.17.2
SR_GENERAL_T2 = ("PerformedProcedureCodeSequence",)
WAVEFORM_ID_T1 = ("InstanceNumber", "ContentDate", "ContentTime", "AcquisitionDateTime")  # C.10.8 Table C.10-8

SEX = ("M", "F", "O")
LATERALITY = ("R", "L")
MODALITIES = frozenset((  # PS3.3 C.7.3.1.1.1 defined terms
    "ANN AR ASMT AU BDUS BI BMD CFM CR CT CTPROTOCOL DMS DG DOC DX ECG EEG EMG EOG EPS ES FID GM HC HD IO IOL "
    "IVOCT IVUS KER KO LEN LS MG MR M3D NM OAM OCT OP OPM OPT OPTBSV OPTENF OPV OSS OT PA PLAN POS PR PT PX "
    "REG RESP RF RG RTDOSE RTIMAGE RTINTENT RTPLAN RTRAD RTRECORD RTSEGANN RTSTRUCT RWV SEG SM SMR SR SRF "
    "STAIN TEXTUREMAP TG US VA XA XAPROTOCOL XC").split())
RETIRED_MODALITIES = frozenset("AS CD CF CP CS DD DF DM DS EC FA FS LP MA MS OPR ST VF".split())
CHARSETS = frozenset((  # PS3.3 C.12.1.1.2 defined terms
    "ISO_IR 6 ISO_IR 100 ISO_IR 101 ISO_IR 109 ISO_IR 110 ISO_IR 144 ISO_IR 127 ISO_IR 126 ISO_IR 138 "
    "ISO_IR 148 ISO_IR 203 ISO_IR 13 ISO_IR 166 ISO 2022 IR 6 ISO 2022 IR 100 ISO 2022 IR 101 "
    "ISO 2022 IR 109 ISO 2022 IR 110 ISO 2022 IR 144 ISO 2022 IR 127 ISO 2022 IR 126 ISO 2022 IR 138 "
    "ISO 2022 IR 148 ISO 2022 IR 203 ISO 2022 IR 13 ISO 2022 IR 166 ISO 2022 IR 87 ISO 2022 IR 159 "
    "ISO 2022 IR 149 ISO 2022 IR 58 ISO_IR 192 GB18030 GBK").replace("ISO_IR ", "ISO_IR_").replace(
    "ISO 2022 IR ", "ISO_2022_IR_").split())
COMPLETION = ("PARTIAL", "COMPLETE")  # C.17.2.1
VERIFICATION = ("UNVERIFIED", "VERIFIED")
RELATIONSHIPS = ("CONTAINS", "HAS PROPERTIES", "HAS OBS CONTEXT", "HAS ACQ CONTEXT", "INFERRED FROM",
                 "SELECTED FROM", "HAS CONCEPT MOD")  # C.17.3.2.4
VALUE_TYPES = ("TEXT", "NUM", "CODE", "DATETIME", "DATE", "TIME", "UIDREF", "PNAME", "COMPOSITE", "IMAGE",
               "WAVEFORM", "SCOORD", "SCOORD3D", "TCOORD", "CONTAINER", "TABLE")  # C.17.3.2.1
VALUE_ATTRIBUTE = {"TEXT": "TextValue", "CODE": "ConceptCodeSequence", "DATETIME": "DateTime", "DATE": "Date",
                   "TIME": "Time", "UIDREF": "UID", "PNAME": "PersonName", "COMPOSITE": "ReferencedSOPSequence",
                   "IMAGE": "ReferencedSOPSequence", "WAVEFORM": "ReferencedSOPSequence"}  # C.17.3 / C.18
CONTINUITY = ("SEPARATE", "CONTINUOUS")
PPS_STATUS = ("IN PROGRESS", "DISCONTINUED", "COMPLETED")  # PS3.3 C.4.14 (Performed Procedure Step Status)
WAVEFORM_INTERPRETATION = {8: ("SB", "UB", "MB", "AB"), 16: ("SS", "US")}  # C.10.9.1.5
MAX_LENGTH = {"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64, "LT": 10240,
              "PN": 64, "SH": 16, "ST": 1024, "TM": 14, "UI": 64}  # PS3.5 Table 6.2-1 (per value)
TEXT_VRS = frozenset(MAX_LENGTH) | {"UC", "UR", "UT"}
UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
DA_RE = re.compile(r"^[0-9]{8}$")
TM_RE = re.compile(r"^([01][0-9]|2[0-3])([0-5][0-9]([0-5][0-9]|60)?)?(\.[0-9]{1,6})?$")
DS_RE = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
IS_RE = re.compile(r"^[+-]?[0-9]+$")
CS_RE = re.compile(r"^[A-Z0-9 _]*$")
UCUM = ("UCUM",)

# SR templates (PS3.16): codes of the rows checked
DCM = "DCM"
TID1500_TITLE = ("126000", DCM)  # Imaging Measurement Report
LANGUAGE = ("121049", DCM)  # Language of Content Item and Descendants
PROCEDURE_REPORTED = ("121058", DCM)
IMAGING_MEASUREMENTS = ("126010", DCM)
MEASUREMENT_GROUP = ("125007", DCM)
TRACKING_ID, TRACKING_UID = ("112039", DCM), ("112040", DCM)
DOSE_TITLE = ("113701", DCM)  # X-Ray Radiation Dose Report
CT_ACCUMULATED, DLP_TOTAL = ("113811", DCM), ("113813", DCM)
CT_ACQUISITION, CT_DOSE = ("113819", DCM), ("113829", DCM)
CTDIVOL, DLP = ("113830", DCM), ("113838", DCM)
IRRADIATION_EVENT_UID = ("113769", DCM)
XRAY_ACCUMULATED, XRAY_EVENT = ("113702", DCM), ("113706", DCM)
DOSE_TEMPLATES = ("10001", "10011")
DOSE_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.76")  # X-Ray RDSR, Enhanced XRDSR


# ----------------------------------------------------------------------------------------- the input
@dataclass
class Item:
    """One SR content item with its path (dciodvfy style) and parent."""

    ds: Any
    path: str
    parent: Item | None
    depth: int
    children: list[Item] = field(default_factory=list)

    @property
    def value_type(self) -> str:
        return str(self.ds.get("ValueType", "") or "")

    @property
    def relationship(self) -> str:
        return str(self.ds.get("RelationshipType", "") or "")

    @property
    def concept(self) -> tuple[str, str] | None:
        return code_of(self.ds, "ConceptNameCodeSequence")


@dataclass
class DicomInput:
    """A read DICOM file: dataset, reader findings, which IOD family it is."""

    ds: Any
    issues: list[Any]
    part10: bool
    family: str  # "sr", "waveform", "mpps", "composite"
    items: list[Item] = field(default_factory=list)  # SR content items in document order (root excluded)

    @property
    def sop_class(self) -> str:
        return str(self.ds.get("SOPClassUID", "") or "")


def read(data: bytes) -> DicomInput:
    """The dataset through the codec's reader; raises interop DecodeError when it cannot be read."""
    from interop.codecs.dicom.reader import has_preamble, read_dataset

    ds, issues = read_dataset(data)
    return DicomInput(ds, list(issues), has_preamble(data), family(ds), sr_items(ds))


def family(ds: Any) -> str:
    from pydicom.uid import UID

    sop = str(ds.get("SOPClassUID", "") or "")
    if not sop:
        return "mpps" if "PerformedProcedureStepStatus" in ds or "PerformedProcedureStepID" in ds else "unknown"
    name = UID(sop).name
    if sop.startswith("1.2.840.10008.5.1.4.1.1.88.") or name.endswith("SR Storage") or name.endswith("SR"):
        return "sr"
    if "Waveform" in name or sop.startswith("1.2.840.10008.5.1.4.1.1.9."):
        return "waveform"
    return "composite"


def tag_path(keyword: str, parent: str = "") -> str:
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    here = f"{keyword}({tag >> 16:04x},{tag & 0xFFFF:04x})" if tag is not None else keyword
    return f"{parent}/{here}" if parent else f"/{here}"


def code_of(ds: Any, keyword: str) -> tuple[str, str] | None:
    seq = ds.get(keyword)
    if not seq:
        return None
    item = seq[0]
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    return str(value), str(item.get("CodingSchemeDesignator", "") or "")


def sr_items(ds: Any) -> list[Item]:
    out: list[Item] = []

    def walk(seq: Any, parent: Item | None, path: str, depth: int) -> None:
        if depth > 64:
            return
        for i, child in enumerate(seq, 1):
            item = Item(child, f"{path}/ContentSequence(0040,a730)[{i}]", parent, depth)
            out.append(item)
            if parent is not None:
                parent.children.append(item)
            sub = child.get("ContentSequence")
            if sub:
                walk(sub, item, item.path, depth + 1)

    if "ContentSequence" in ds:
        walk(ds.ContentSequence, None, "", 1)
    return out


def _value(ds: Any, keyword: str) -> Any:
    elem = ds.get(keyword)
    return None if elem is None else elem


def _present(ds: Any, keyword: str) -> bool:
    return keyword in ds


def _empty(ds: Any, keyword: str) -> bool:
    elem = ds.data_element(keyword)
    return elem is None or elem.is_empty


def _type1(ctx: DicomInput, keywords: tuple[str, ...], module: str) -> Iterator[Hit]:
    for kw in keywords:
        if not _present(ctx.ds, kw):
            yield tag_path(kw), f"missing attribute for Type 1 Required - Module=<{module}>"
        elif _empty(ctx.ds, kw):
            yield tag_path(kw), f"empty attribute (no value) for Type 1 Required - Module=<{module}>"


def _type2(ctx: DicomInput, keywords: tuple[str, ...], module: str) -> Iterator[Hit]:
    for kw in keywords:
        if not _present(ctx.ds, kw):
            yield tag_path(kw), f"missing attribute for Type 2 Required - Module=<{module}>"


def _enum(ds: Any, keyword: str, allowed: tuple[str, ...], parent: str = "") -> Iterator[Hit]:
    elem = ds.get(keyword)
    if elem is None or elem == "":
        return
    values = list(elem) if isinstance(elem, list | tuple) or type(elem).__name__ == "MultiValue" else [elem]
    for v in values:
        if str(v) not in allowed:
            yield tag_path(keyword, parent), f"unrecognized enumerated value <{v}>; allowed: {', '.join(allowed)}"


def _composite(ctx: DicomInput) -> bool:
    return ctx.family in ("sr", "waveform", "composite")


# ========================================================================================= file
@rule("DCM-FILE-002")
def part10_meta(ctx: DicomInput) -> Iterator[Hit]:
    meta = getattr(ctx.ds, "file_meta", None)
    if not ctx.part10:
        yield "/", "a raw dataset without the Part 10 preamble and File Meta Information"
    elif meta is None or "TransferSyntaxUID" not in meta:
        yield "/TransferSyntaxUID(0002,0010)", "File Meta Information lacks Transfer Syntax UID (Type 1)"


@rule("DCM-FILE-003")
def pixel_data_fits(ctx: DicomInput) -> Iterator[Hit]:
    for issue in ctx.issues:
        if issue.code == "dicom.truncated-pixel-data":
            yield issue.location, issue.message


# ========================================================================================= patient, study
@rule("DCM-PAT-001")
def patient_type2(ctx: DicomInput) -> Iterator[Hit]:
    if _composite(ctx):
        yield from _type2(ctx, PATIENT_T2, "Patient")


@rule("DCM-PAT-002")
def patient_sex(ctx: DicomInput) -> Iterator[Hit]:
    yield from _enum(ctx.ds, "PatientSex", SEX)


@rule("DCM-STU-001")
def study_type1(ctx: DicomInput) -> Iterator[Hit]:
    if _composite(ctx):
        yield from _type1(ctx, STUDY_T1, "GeneralStudy")


@rule("DCM-STU-002")
def study_type2(ctx: DicomInput) -> Iterator[Hit]:
    if _composite(ctx):
        yield from _type2(ctx, STUDY_T2, "GeneralStudy")


# ========================================================================================= series, equipment
def _secondary_capture(ctx: DicomInput) -> bool:
    """SC Image IODs (PS3.3 A.8): General Equipment is U and Modality comes with the SC Equipment Module."""
    return ctx.sop_class.startswith("1.2.840.10008.5.1.4.1.1.7")


@rule("DCM-SER-001")
def series_type1(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family in ("composite", "waveform"):
        keys = SERIES_T1[1:] if _secondary_capture(ctx) else SERIES_T1
        yield from _type1(ctx, keys, "GeneralSeries")


@rule("DCM-SER-002")
def series_type2(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family in ("composite", "waveform"):
        yield from _type2(ctx, SERIES_T2, "GeneralSeries")


@rule("DCM-SER-003")
def laterality(ctx: DicomInput) -> Iterator[Hit]:
    yield from _enum(ctx.ds, "Laterality", LATERALITY)


@rule("DCM-SER-004")
def modality_defined(ctx: DicomInput) -> Iterator[Hit]:
    modality = str(ctx.ds.get("Modality", "") or "")
    if not modality:
        return
    if modality in RETIRED_MODALITIES:
        yield tag_path("Modality"), f"Modality <{modality}> is a retired defined term"
    elif modality not in MODALITIES:
        yield tag_path("Modality"), f"Modality <{modality}> is not a defined term of PS3.3 C.7.3.1.1.1"


@rule("DCM-EQP-001")
def equipment_type2(ctx: DicomInput) -> Iterator[Hit]:
    if _composite(ctx) and not _secondary_capture(ctx):
        yield from _type2(ctx, EQUIPMENT_T2, "GeneralEquipment")


# ========================================================================================= SOP common
@rule("DCM-SOP-001")
def sop_type1(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family != "mpps":
        yield from _type1(ctx, SOP_T1, "SOPCommon")


@rule("DCM-SOP-002")
def instance_uid_unique(ctx: DicomInput) -> Iterator[Hit]:
    sop = str(ctx.ds.get("SOPInstanceUID", "") or "")
    if not sop:
        return
    for kw in ("StudyInstanceUID", "SeriesInstanceUID"):
        if str(ctx.ds.get(kw, "") or "") == sop:
            yield tag_path("SOPInstanceUID"), f"SOPInstanceUID has same value as {kw}"


@rule("DCM-SOP-003")
def meta_matches(ctx: DicomInput) -> Iterator[Hit]:
    meta = getattr(ctx.ds, "file_meta", None)
    if meta is None or not ctx.part10:
        return
    for meta_kw, kw in (("MediaStorageSOPClassUID", "SOPClassUID"), ("MediaStorageSOPInstanceUID", "SOPInstanceUID")):
        a, b = str(meta.get(meta_kw, "") or ""), str(ctx.ds.get(kw, "") or "")
        if a and b and a != b:
            yield tag_path(meta_kw), f"{meta_kw} differs from {kw} of the dataset"
        elif a and not b and ctx.family != "mpps":
            yield tag_path(meta_kw), f"{meta_kw} but the dataset has no {kw}"


@rule("DCM-SOP-004")
def charset_defined(ctx: DicomInput) -> Iterator[Hit]:
    elem = ctx.ds.get("SpecificCharacterSet")
    if not elem:
        return
    values = list(elem) if not isinstance(elem, str) else [elem]
    for i, v in enumerate(values):
        text = str(v).strip()
        if not text and i == 0 and len(values) > 1:
            continue  # the first value may be empty with code extensions (PS3.3 C.12.1.1.2)
        if text.replace("ISO_IR ", "ISO_IR_").replace("ISO 2022 IR ", "ISO_2022_IR_") not in CHARSETS:
            yield tag_path("SpecificCharacterSet"), f"<{text}> is not a defined term of PS3.3 C.12.1.1.2"


@rule("DCM-SOP-005")
def sop_class_known(ctx: DicomInput) -> Iterator[Hit]:
    from pydicom.uid import UID

    sop = ctx.sop_class
    if sop and UID(sop).name == sop:
        yield tag_path("SOPClassUID"), f"SOP Class UID {sop} is not a standard SOP class of PS3.4 / PS3.6"


# ========================================================================================= VR and VM
def _elements(ds: Any, parent: str = "", depth: int = 0) -> Iterator[tuple[Any, str]]:
    """(data element, path) of every element, nested sequence items included (pixel data never read)."""
    if depth > 32:
        return
    for elem in ds:
        name = elem.keyword or f"({elem.tag.group:04x},{elem.tag.element:04x})"
        path = f"{parent}/{name}({elem.tag.group:04x},{elem.tag.element:04x})" if elem.keyword else f"{parent}/{name}"
        yield elem, path
        if elem.VR == "SQ" and elem.value:
            for i, item in enumerate(elem.value, 1):
                yield from _elements(item, f"{path}[{i}]", depth + 1)


def _texts(elem: Any) -> list[str]:
    value = elem.value
    if value is None:
        return []
    if isinstance(value, bytes):
        text = value.decode("latin-1").rstrip("\x00 ")
        return text.split("\\") if text else []
    if isinstance(value, str):
        return value.split("\\") if value else []
    if type(value).__name__ == "MultiValue" or isinstance(value, list | tuple):
        return [_original(v) for v in value]
    return [_original(value)]


def _original(v: Any) -> str:
    orig = getattr(v, "original_string", None)
    return str(orig) if orig is not None else str(v)


def _checked(ctx: DicomInput) -> Iterator[tuple[Any, str]]:
    cached = getattr(ctx, "_elements", None)
    if cached is None:
        meta = getattr(ctx.ds, "file_meta", None)
        elements = list(_elements(meta)) if meta is not None else []
        elements += list(_elements(ctx.ds))
        cached = [(e, p) for e, p in elements if not e.tag.is_private and e.tag.element != 0]
        ctx._elements = cached  # type: ignore[attr-defined]
    return iter(cached)


def _values(ctx: DicomInput, vrs: set[str] | frozenset[str]) -> Iterator[tuple[Any, str, int, str]]:
    for elem, path in _checked(ctx):
        if elem.VR in vrs:
            for i, text in enumerate(_texts(elem), 1):
                yield elem, path, i, text


@rule("DCM-VR-001")
def uid_syntax(ctx: DicomInput) -> Iterator[Hit]:
    for _elem, path, i, text in _values(ctx, {"UI"}):
        t = text.rstrip("\x00 ")
        if t and (not UID_RE.match(t) or len(t) > 64):
            yield f"{path}[{i}]", f"value invalid for this VR [UI] (digits and dots, no leading zero, at most 64): <{t}>"
        elif t and set(t) <= {"0", "."}:
            yield f"{path}[{i}]", "value invalid for this VR [UI]: nothing but zero components"


@rule("DCM-VR-002")
def date_syntax(ctx: DicomInput) -> Iterator[Hit]:
    import datetime as _dt

    for _elem, path, i, text in _values(ctx, {"DA"}):
        t = text.strip()
        if not t:
            continue
        ok = bool(DA_RE.match(t))
        if ok:
            try:
                _dt.date(int(t[:4]), int(t[4:6]), int(t[6:8]))
            except ValueError:
                ok = False
        if not ok:
            yield f"{path}[{i}]", f"value invalid for this VR [DA] (YYYYMMDD): <{t}>"


@rule("DCM-VR-003")
def time_syntax(ctx: DicomInput) -> Iterator[Hit]:
    for _elem, path, i, text in _values(ctx, {"TM"}):
        t = text.strip()
        if t and not TM_RE.match(t):
            yield f"{path}[{i}]", f"value invalid for this VR [TM] (HH[MM[SS[.F{{1,6}}]]]): <{t}>"


@rule("DCM-VR-004")
def value_lengths(ctx: DicomInput) -> Iterator[Hit]:
    for elem, path, i, text in _values(ctx, frozenset(MAX_LENGTH)):
        limit = MAX_LENGTH[elem.VR]
        parts = text.split("=") if elem.VR == "PN" else [text]
        if any(len(p.encode("utf-8")) > limit for p in parts):
            yield f"{path}[{i}]", f"value longer than the {limit} characters VR {elem.VR} allows ({len(text)})"


@rule("DCM-VR-005")
def cs_characters(ctx: DicomInput) -> Iterator[Hit]:
    for _elem, path, i, text in _values(ctx, {"CS"}):
        if not CS_RE.match(text.rstrip(" ")):
            yield f"{path}[{i}]", f"value invalid for this VR [CS] (upper case, digits, space, underscore): <{text}>"


@rule("DCM-VR-006")
def value_multiplicity(ctx: DicomInput) -> Iterator[Hit]:
    from pydicom.datadict import dictionary_has_tag, dictionary_VM

    for elem, path in _checked(ctx):
        if elem.VR in ("SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN", "UT", "LT", "ST", "UR") \
                or not dictionary_has_tag(elem.tag) or elem.is_empty:
            continue
        vm = dictionary_VM(elem.tag)
        n = elem.VM
        if not _vm_ok(vm, n):
            yield path, f"value multiplicity {n} where the data dictionary gives VM {vm}"


def _vm_ok(vm: str, n: int) -> bool:
    vm = vm.strip()
    if "-" not in vm:
        return is_ascii_digits(vm) and n == int(vm)
    lo, hi = vm.split("-", 1)
    step = 1
    if hi.endswith("n"):
        step = int(hi[:-1]) if hi[:-1] else 1
        return n >= int(lo) and (n - int(lo)) % step == 0 if step > 1 else n >= int(lo)
    return int(lo) <= n <= int(hi)


@rule("DCM-VR-007")
def vr_matches_dictionary(ctx: DicomInput) -> Iterator[Hit]:
    from pydicom.datadict import dictionary_has_tag, dictionary_VR

    if ctx.ds.is_implicit_VR:
        return  # implicit VR files take the VR from the dictionary
    for elem, path in _checked(ctx):
        if not dictionary_has_tag(elem.tag):
            continue
        vr = dictionary_VR(elem.tag)
        if elem.VR not in vr.split(" or ") and elem.VR != "UN":
            yield path, f"VR {elem.VR} where the data dictionary gives {vr}"


@rule("DCM-VR-008")
def number_strings(ctx: DicomInput) -> Iterator[Hit]:
    for elem, path, i, text in _values(ctx, {"DS", "IS"}):
        t = text.strip()
        if t and not (DS_RE if elem.VR == "DS" else IS_RE).match(t):
            yield f"{path}[{i}]", f"value invalid for this VR [{elem.VR}]: <{t}>"
        elif t and elem.VR == "IS" and not -(2**31) <= int(t) < 2**31:
            yield f"{path}[{i}]", f"IS value outside the signed 32-bit range: <{t}>"


# ========================================================================================= SR document
@rule("DCM-SRS-001")
def sr_series_type1(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "sr":
        yield from _type1(ctx, SR_SERIES_T1, "SRDocumentSeries")


@rule("DCM-SRS-002")
def sr_series_type2(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "sr":
        yield from _type2(ctx, SR_SERIES_T2, "SRDocumentSeries")


@rule("DCM-SRS-003")
def sr_modality(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "sr":
        yield from _enum(ctx.ds, "Modality", ("SR",))


@rule("DCM-SRG-001")
def sr_general_type1(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "sr":
        yield from _type1(ctx, SR_GENERAL_T1, "SRDocumentGeneral")


@rule("DCM-SRG-002")
def sr_general_type2(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "sr":
        yield from _type2(ctx, SR_GENERAL_T2, "SRDocumentGeneral")


@rule("DCM-SRG-003")
def completion_flag(ctx: DicomInput) -> Iterator[Hit]:
    yield from _enum(ctx.ds, "CompletionFlag", COMPLETION)


@rule("DCM-SRG-004")
def verification_flag(ctx: DicomInput) -> Iterator[Hit]:
    yield from _enum(ctx.ds, "VerificationFlag", VERIFICATION)


@rule("DCM-SRG-005")
def verified_has_observer(ctx: DicomInput) -> Iterator[Hit]:
    if str(ctx.ds.get("VerificationFlag", "") or "") == "VERIFIED" and not ctx.ds.get("VerifyingObserverSequence"):
        yield tag_path("VerifyingObserverSequence"), ("missing attribute for Type 1C Conditional (VerificationFlag "
                                                      "is VERIFIED) - Module=<SRDocumentGeneral>")


@rule("DCM-SR-001")
def sr_root(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family != "sr":
        return
    ds = ctx.ds
    if str(ds.get("ValueType", "") or "") != "CONTAINER":
        yield tag_path("ValueType"), "the root content item is not a CONTAINER"
    if not ds.get("ConceptNameCodeSequence"):
        yield tag_path("ConceptNameCodeSequence"), "the root content item has no Concept Name (document title)"
    if str(ds.get("ContinuityOfContent", "") or "") not in CONTINUITY:
        yield tag_path("ContinuityOfContent"), "the root container has no Continuity Of Content (SEPARATE/CONTINUOUS)"


@rule("DCM-SR-002")
def relationship_types(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        rel = item.relationship
        if rel not in RELATIONSHIPS and not item.ds.get("ReferencedContentItemIdentifier"):
            yield f"{item.path}/RelationshipType(0040,a010)", (f"relationship type <{rel}> is not one of "
                                                                f"{', '.join(RELATIONSHIPS)}")


@rule("DCM-SR-003")
def value_types(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        if item.ds.get("ReferencedContentItemIdentifier"):
            continue  # by-reference relationship: no value type
        if item.value_type not in VALUE_TYPES:
            yield f"{item.path}/ValueType(0040,a040)", f"value type <{item.value_type}> is not a defined value type"


def _code_items(ctx: DicomInput) -> Iterator[tuple[Any, str]]:
    """Every code sequence item of the document: titles, concept names and codes, units, procedure codes."""
    for elem, path in _checked(ctx):
        if elem.VR == "SQ" and elem.keyword.endswith("CodeSequence") and elem.value:
            for i, item in enumerate(elem.value, 1):
                yield item, f"{path}[{i}]"


@rule("DCM-SR-004")
def code_sequence_macro(ctx: DicomInput) -> Iterator[Hit]:
    for item, path in _code_items(ctx):
        if not any(item.get(k) for k in ("CodeValue", "LongCodeValue", "URNCodeValue")):
            yield f"{path}/CodeValue(0008,0100)", "code item has no Code Value (nor Long / URN Code Value)"
        if not item.get("CodingSchemeDesignator") and not item.get("URNCodeValue"):
            yield f"{path}/CodingSchemeDesignator(0008,0102)", "code item has no Coding Scheme Designator"
        if not item.get("CodeMeaning"):
            yield f"{path}/CodeMeaning(0008,0104)", "code item has no Code Meaning"


@rule("DCM-SR-005")
def num_measured_value(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        if item.value_type != "NUM":
            continue
        if "MeasuredValueSequence" not in item.ds:
            yield f"{item.path}/MeasuredValueSequence(0040,a300)", "NUM item without Measured Value Sequence (Type 2)"
            continue
        for j, mv in enumerate(item.ds.MeasuredValueSequence, 1):
            where = f"{item.path}/MeasuredValueSequence(0040,a300)[{j}]"
            if not mv.get("NumericValue") and mv.get("NumericValue") != 0:
                yield f"{where}/NumericValue(0040,a30a)", "measured value without Numeric Value (Type 1)"
            if not mv.get("MeasurementUnitsCodeSequence"):
                yield f"{where}/MeasurementUnitsCodeSequence(0040,08ea)", "measured value without units (Type 1)"


@rule("DCM-SR-006")
def units_ucum(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        for j, mv in enumerate(item.ds.get("MeasuredValueSequence") or (), 1):
            units = mv.get("MeasurementUnitsCodeSequence")
            if units and str(units[0].get("CodingSchemeDesignator", "")) not in UCUM:
                yield (f"{item.path}/MeasuredValueSequence(0040,a300)[{j}]/MeasurementUnitsCodeSequence(0040,08ea)[1]"
                       "/CodingSchemeDesignator(0008,0102)"), (
                    f"units coded in <{units[0].get('CodingSchemeDesignator', '')}>, not UCUM (CID 82)")


@rule("DCM-SR-007")
def item_value_present(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        attr = VALUE_ATTRIBUTE.get(item.value_type)
        if attr and not item.ds.get(attr):
            yield f"{item.path}", f"{item.value_type} content item without {attr} (Type 1)"


@rule("DCM-SR-008")
def containers_have_continuity(ctx: DicomInput) -> Iterator[Hit]:
    for item in ctx.items:
        if item.value_type == "CONTAINER" and str(item.ds.get("ContinuityOfContent", "") or "") not in CONTINUITY:
            yield f"{item.path}/ContinuityOfContent(0040,a050)", "CONTAINER without Continuity Of Content (Type 1)"


@rule("DCM-SR-009")
def template_identification(ctx: DicomInput) -> Iterator[Hit]:
    for j, t in enumerate(ctx.ds.get("ContentTemplateSequence") or (), 1):
        where = f"/ContentTemplateSequence(0040,a504)[{j}]"
        if str(t.get("MappingResource", "") or "") != "DCMR" and not t.get("MappingResourceUID"):
            yield f"{where}/MappingResource(0008,0105)", "template item without Mapping Resource DCMR"
        if not t.get("TemplateIdentifier"):
            yield f"{where}/TemplateIdentifier(0040,db00)", "template item without Template Identifier (Type 1)"


# ----------------------------------------------------------------------------------------- templates
def templates(ctx: DicomInput) -> set[str]:
    return {str(t.get("TemplateIdentifier", "")).strip() for t in ctx.ds.get("ContentTemplateSequence") or ()}


def _root_code(ctx: DicomInput) -> tuple[str, str] | None:
    return code_of(ctx.ds, "ConceptNameCodeSequence")


def _is_tid1500(ctx: DicomInput) -> bool:
    return ctx.family == "sr" and ("1500" in templates(ctx) or _root_code(ctx) == TID1500_TITLE)


def _is_dose(ctx: DicomInput) -> bool:
    return ctx.family == "sr" and (bool(templates(ctx) & set(DOSE_TEMPLATES)) or ctx.sop_class in DOSE_SOP_CLASSES
                                   or _root_code(ctx) == DOSE_TITLE)


def _top(ctx: DicomInput) -> list[Item]:
    return [i for i in ctx.items if i.parent is None]


@rule("DCM-TID1500-001")
def tid1500_title(ctx: DicomInput) -> Iterator[Hit]:
    if _is_tid1500(ctx) and _root_code(ctx) != TID1500_TITLE:
        yield tag_path("ConceptNameCodeSequence"), (f"TID 1500 document titled {_root_code(ctx)}; the template's "
                                                    "title is (126000, DCM, \"Imaging Measurement Report\")")
    elif _is_tid1500(ctx) and "1500" not in templates(ctx):
        yield tag_path("ContentTemplateSequence"), "Imaging Measurement Report without Content Template Sequence TID 1500"


@rule("DCM-TID1500-002")
def tid1500_language(ctx: DicomInput) -> Iterator[Hit]:
    if _is_tid1500(ctx) and not any(i.concept == LANGUAGE for i in _top(ctx)):
        yield "/ContentSequence(0040,a730)", ("no Language of Content Item and Descendants (121049, DCM) at the top "
                                              "level (TID 1500 row 2, TID 1204, mandatory)")


@rule("DCM-TID1500-003")
def tid1500_procedure(ctx: DicomInput) -> Iterator[Hit]:
    if _is_tid1500(ctx) and not any(i.concept == PROCEDURE_REPORTED for i in _top(ctx)):
        yield "/ContentSequence(0040,a730)", "no Procedure reported (121058, DCM) (TID 1500 row 4, 1-n, mandatory)"


@rule("DCM-TID1500-004")
def tid1500_groups(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_tid1500(ctx):
        return
    for item in _top(ctx):
        if item.concept == IMAGING_MEASUREMENTS:
            for child in item.children:
                if child.value_type != "CONTAINER" or child.concept != MEASUREMENT_GROUP:
                    yield child.path, (f"Imaging Measurements holds {child.value_type} {child.concept}; TID 1500 "
                                       "row 7 includes only Measurement Group containers (TID 1501)")


@rule("DCM-TID1500-005")
def tid1500_tracking(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_tid1500(ctx):
        return
    for item in ctx.items:
        if item.concept == MEASUREMENT_GROUP and item.value_type == "CONTAINER":
            have = {c.concept for c in item.children}
            for concept, name in ((TRACKING_ID, "Tracking Identifier"), (TRACKING_UID, "Tracking Unique Identifier")):
                if concept not in have:
                    yield item.path, f"Measurement Group without {name} ({concept[0]}, DCM) (TID 1501)"


@rule("DCM-DOSE-001")
def dose_title(ctx: DicomInput) -> Iterator[Hit]:
    if _is_dose(ctx) and _root_code(ctx) != DOSE_TITLE:
        yield tag_path("ConceptNameCodeSequence"), (f"radiation dose document titled {_root_code(ctx)}; TID 10001 / "
                                                    "10011 title is (113701, DCM, \"X-Ray Radiation Dose Report\")")


@rule("DCM-DOSE-002")
def dose_procedure(ctx: DicomInput) -> Iterator[Hit]:
    if _is_dose(ctx) and not any(i.concept == PROCEDURE_REPORTED for i in _top(ctx)):
        yield "/ContentSequence(0040,a730)", "no Procedure reported (121058, DCM) (TID 10001/10011 row 2, mandatory)"


def _units(item: Item) -> str | None:
    mv = item.ds.get("MeasuredValueSequence")
    if not mv:
        return None
    units = mv[0].get("MeasurementUnitsCodeSequence")
    return str(units[0].get("CodeValue", "")) if units else None


def _is_ct_dose(ctx: DicomInput) -> bool:
    return _is_dose(ctx) and ("10011" in templates(ctx) or any(i.concept == CT_ACQUISITION for i in ctx.items))


@rule("DCM-DOSE-003")
def ct_accumulated(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_ct_dose(ctx):
        return
    acc = [i for i in _top(ctx) if i.concept == CT_ACCUMULATED]
    if len(acc) != 1:
        yield "/ContentSequence(0040,a730)", f"{len(acc)} CT Accumulated Dose Data containers (TID 10012: exactly 1)"
        return
    total = [c for c in acc[0].children if c.concept == DLP_TOTAL]
    if not total:
        yield acc[0].path, "CT Accumulated Dose Data without CT Dose Length Product Total (113813, DCM)"
    elif _units(total[0]) != "mGy.cm":
        yield total[0].path, f"CT Dose Length Product Total in <{_units(total[0])}>; TID 10012 unit is mGy.cm"


@rule("DCM-DOSE-004")
def ct_events(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_ct_dose(ctx):
        return
    for acq in (i for i in ctx.items if i.concept == CT_ACQUISITION):
        if not any(c.concept == IRRADIATION_EVENT_UID for c in acq.children):
            yield acq.path, "CT Acquisition without Irradiation Event UID (113769, DCM) (TID 10013, mandatory)"
        for dose in (c for c in acq.children if c.concept == CT_DOSE):
            for concept, unit, name in ((CTDIVOL, "mGy", "Mean CTDIvol"), (DLP, "mGy.cm", "DLP")):
                found = [c for c in dose.children if c.concept == concept]
                if not found:
                    yield dose.path, f"CT Dose without {name} ({concept[0]}, DCM) (TID 10013)"
                elif _units(found[0]) != unit:
                    yield found[0].path, f"{name} in <{_units(found[0])}>; TID 10013 unit is {unit}"


@rule("DCM-DOSE-005")
def event_uids_unique(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_dose(ctx):
        return
    seen: dict[str, str] = {}
    for item in ctx.items:
        if item.concept == IRRADIATION_EVENT_UID:
            uid = str(item.ds.get("UID", "") or "")
            if uid in seen:
                yield item.path, f"Irradiation Event UID repeated (first at {seen[uid]})"
            seen.setdefault(uid, item.path)


@rule("DCM-DOSE-006")
def projection_dose(ctx: DicomInput) -> Iterator[Hit]:
    if not _is_dose(ctx) or _is_ct_dose(ctx):
        return
    if not any(i.concept == XRAY_ACCUMULATED for i in _top(ctx)):
        yield "/ContentSequence(0040,a730)", "no Accumulated X-Ray Dose Data (113702, DCM) (TID 10001 row 6, mandatory)"
    for event in (i for i in ctx.items if i.concept == XRAY_EVENT):
        if not any(c.concept == IRRADIATION_EVENT_UID for c in event.children):
            yield event.path, "Irradiation Event X-Ray Data without Irradiation Event UID (113769, DCM) (TID 10003)"


# ========================================================================================= waveform
def _groups(ctx: DicomInput) -> Iterator[tuple[Any, str]]:
    if ctx.family != "waveform":
        return
    for j, group in enumerate(ctx.ds.get("WaveformSequence") or (), 1):
        yield group, f"/WaveformSequence(5400,0100)[{j}]"


@rule("DCM-WID-001")
def waveform_identification(ctx: DicomInput) -> Iterator[Hit]:
    if ctx.family == "waveform":
        yield from _type1(ctx, WAVEFORM_ID_T1, "WaveformIdentification")


@rule("DCM-WAV-001")
def channel_definitions(ctx: DicomInput) -> Iterator[Hit]:
    for group, where in _groups(ctx):
        n = group.get("NumberOfWaveformChannels")
        defs = group.get("ChannelDefinitionSequence") or ()
        if n is not None and len(defs) != int(n):
            yield f"{where}/ChannelDefinitionSequence(003a,0200)", (f"{len(defs)} channel definitions for "
                                                                    f"Number of Waveform Channels {n}")


@rule("DCM-WAV-002")
def sample_interpretation(ctx: DicomInput) -> Iterator[Hit]:
    for group, where in _groups(ctx):
        bits = group.get("WaveformBitsAllocated")
        interp = str(group.get("WaveformSampleInterpretation", "") or "")
        if bits not in WAVEFORM_INTERPRETATION:
            yield f"{where}/WaveformBitsAllocated(5400,1004)", f"Waveform Bits Allocated {bits}; 8 or 16 expected"
        elif interp not in WAVEFORM_INTERPRETATION[bits]:
            yield f"{where}/WaveformSampleInterpretation(5400,1006)", (
                f"interpretation <{interp}> does not fit {bits}-bit samples "
                f"({', '.join(WAVEFORM_INTERPRETATION[bits])})")


@rule("DCM-WAV-003")
def waveform_data_length(ctx: DicomInput) -> Iterator[Hit]:
    for group, where in _groups(ctx):
        data = group.get("WaveformData")
        try:
            want = int(group.NumberOfWaveformChannels) * int(group.NumberOfWaveformSamples) * \
                int(group.WaveformBitsAllocated) // 8
        except (AttributeError, TypeError, ValueError):
            continue
        have = len(data) if data is not None else 0
        if have not in (want, want + 1):  # one pad byte for an odd length
            yield f"{where}/WaveformData(5400,1010)", f"{have} bytes of waveform data; channels × samples × bits gives {want}"


@rule("DCM-WAV-004")
def sampling_frequency(ctx: DicomInput) -> Iterator[Hit]:
    for group, where in _groups(ctx):
        f = group.get("SamplingFrequency")
        try:
            ok = f is not None and float(f) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            yield f"{where}/SamplingFrequency(003a,001a)", f"Sampling Frequency <{f}> missing or not positive (Type 1)"


@rule("DCM-WAV-005")
def channel_skew(ctx: DicomInput) -> Iterator[Hit]:
    for group, where in _groups(ctx):
        for k, ch in enumerate(group.get("ChannelDefinitionSequence") or (), 1):
            if "ChannelTimeSkew" not in ch and "ChannelSampleSkew" not in ch:
                yield (f"{where}/ChannelDefinitionSequence(003a,0200)[{k}]/ChannelSampleSkew(003a,0215)",
                       "missing attribute for Type 1C Conditional (neither Channel Time Skew nor Channel Sample "
                       "Skew) - Module=<Waveform>")


# ========================================================================================= MPPS
@rule("DCM-MPPS-001")
def pps_status(ctx: DicomInput) -> Iterator[Hit]:
    yield from _enum(ctx.ds, "PerformedProcedureStepStatus", PPS_STATUS)


def check(data: bytes) -> list[tuple[str, str, str]]:
    """(assertion id, location, message) of every rule on one file; DCM-FILE-001 when it cannot be read."""
    import warnings

    from interop.errors import DecodeError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's value warnings: the VR rules report them with their path
        try:
            ctx = read(data)
        except DecodeError as exc:
            return [("DCM-FILE-001", str(exc.position or "file"), str(exc))]
        out: list[tuple[str, str, str]] = []
        for assertion_id, fn in RULES.items():
            out.extend((assertion_id, loc, msg) for loc, msg in fn(ctx))
    return out


# ----------------------------------------------------------------------------------------- crafted cases
CASES_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "cases" / "dicom"
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def build_case(spec: Any) -> bytes:
    """Bytes of a crafted case: a base file of cases/dicom/ (`"ct.dcm"`) or a dict
    `{base, set: {path: value}, delete: [path], copy: {path: path}, vr: {path: VR}, raw: {path: [VR, text]},
    meta: {keyword: value}, truncate: n, replace: {old text: new text}}`;
    a path is `Keyword` or `Keyword[i].Keyword...` with 1-based item numbers."""
    import io

    import pydicom
    from pydicom import config

    if isinstance(spec, str):
        return (CASES_DIR / spec).read_bytes()
    data = (CASES_DIR / spec["base"]).read_bytes()
    if spec.get("truncate"):
        return data[:int(spec["truncate"])]
    if spec.get("replace"):  # byte-level edits pydicom would not write (first occurrence of each, latin-1)
        for old, new in spec["replace"].items():
            data = data.replace(old.encode("latin-1"), new.encode("latin-1"), 1)
        return data
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    saved = config.settings.writing_validation_mode
    config.settings.writing_validation_mode = config.IGNORE  # crafted cases hold invalid values on purpose
    try:
        return _edit(ds, spec)
    finally:
        config.settings.writing_validation_mode = saved


def _edit(ds: Any, spec: dict[str, Any]) -> bytes:
    import io

    from pydicom.dataelem import DataElement

    for target, source in (spec.get("copy") or {}).items():
        sparent, slast, _ = _resolve(ds, source)
        tparent, tlast, _ = _resolve(ds, target)
        setattr(tparent, tlast, getattr(sparent, slast))
    for path in spec.get("delete", ()):
        parent, last, index = _resolve(ds, path)
        if index is None:
            delattr(parent, last)
        else:
            del parent[last].value[index - 1]
    for path, value in (spec.get("set") or {}).items():
        parent, last, _ = _resolve(ds, path)
        setattr(parent, last, value)
    for path, (vr, text) in (spec.get("raw") or {}).items():  # a value its VR's class would refuse
        parent, last, _ = _resolve(ds, path)
        from pydicom.datadict import tag_for_keyword

        elem = DataElement(tag_for_keyword(last), "LO", text)
        elem.VR = vr
        parent[elem.tag] = elem
    for path, vr in (spec.get("vr") or {}).items():
        parent, last, _ = _resolve(ds, path)
        elem = parent[last]
        parent[elem.tag] = DataElement(elem.tag, vr, elem.value)
    for keyword, value in (spec.get("meta") or {}).items():
        setattr(ds.file_meta, keyword, value)
    buf = io.BytesIO()
    if hasattr(ds, "file_meta") and "TransferSyntaxUID" in ds.file_meta:
        ds.save_as(buf)  # as read: preamble and File Meta kept, edits of the meta kept too
    else:
        from pydicom.filewriter import dcmwrite

        dcmwrite(buf, ds, implicit_vr=False, little_endian=True)
    return buf.getvalue()


def _resolve(ds: Any, path: str) -> tuple[Any, str, int | None]:
    """(dataset holding the last step, its keyword, item number or None)."""
    steps = path.split(".")
    here = ds
    for step in steps[:-1]:
        m = _STEP.match(step)
        here = here[m.group(1)].value[int(m.group(2) or 1) - 1]
    m = _STEP.match(steps[-1])
    return here, m.group(1), int(m.group(2)) if m.group(2) else None


# ----------------------------------------------------------------------------------------- input kind
class DicomKind:
    """DICOM files (Part 10 or a raw dataset) as an input kind of the runner."""

    name = "dicom"

    def sniff(self, data: bytes) -> bool:
        from interop.codecs.dicom.reader import has_preamble, plausible_dataset

        return has_preamble(data) or plausible_dataset(data)

    def contexts(self, data: bytes, label: str, user_profile: Any = None) -> list[Context]:
        import warnings

        from interop.conformance.finding import Hit as EngineHit

        from interop.errors import DecodeError

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's value warnings: the VR rules report them with their path
            try:
                ctx = read(data)
            except DecodeError as exc:
                return [Context("dicom", label, None, "", [EngineHit(str(exc.position or "file"), str(exc),
                                                                     exc.offset, None)])]
            # pydicom converts values lazily: convert them now, with warnings silenced, before rules read them
            _checked(ctx)
        return [Context("dicom", label, ctx, "", facts_of=facts)]

    def build_case(self, spec: Any) -> bytes:
        return build_case(spec)

    def default_profile(self, ctx: Context) -> str:
        return "dicom"


def facts(ctx: DicomInput) -> dict[str, set[str]]:
    from pydicom.uid import UID

    out: dict[str, set[str]] = {"standards": {"DICOM"}}
    if ctx.sop_class:
        out["sop_classes"] = {f"{ctx.sop_class} ({UID(ctx.sop_class).name})"}
    for t in templates(ctx):
        out.setdefault("templates", set()).add(f"TID {t}")
    return out


KIND = DicomKind()
