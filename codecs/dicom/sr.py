"""SR Document Content (PS3.3 C.17.3) → `Report` with its content tree; NUM items → `Metric`s.

Works for any template; TID 1500 (measurement report) and TID 10001/10011 (projection X-ray / CT radiation
dose) need nothing special: every NUM becomes a Metric whose `group` is the content item identifier of its
container (one group per measurement group or irradiation event) and whose code keeps the concept name
coding (DCM, SCT, LN) with its unit in UCUM.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from struct import Struct
from typing import TYPE_CHECKING

from interop.model import (
    UCUM_SYSTEM,
    CodeableConcept,
    ContentItem,
    Issue,
    Metric,
    NumericValue,
    Quantity,
    Report,
    SourceRef,
    Timestamp,
)

from .construct import build
from .elements import _CODE_STRINGS, _CONCEPTS, _PLAIN_TEXT_VRS, Context, tag_source, tag_str
from .items import RawElement, _defined_items, parse_items

if TYPE_CHECKING:
    from pydicom import Dataset

CONTENT_DATE, CONTENT_TIME = 0x00080023, 0x00080033
SOP_INSTANCE_UID, STUDY_INSTANCE_UID = 0x00080018, 0x0020000D
REFERENCED_SOP_SEQUENCE, REFERENCED_SOP_INSTANCE_UID = 0x00081199, 0x00081155
UNITS = 0x004008EA
RELATIONSHIP_TYPE, VALUE_TYPE, CONCEPT_NAME = 0x0040A010, 0x0040A040, 0x0040A043
OBSERVATION_DATETIME = 0x0040A032
DATETIME, DATE, TIME, PNAME, UID, TEXT_VALUE = 0x0040A120, 0x0040A121, 0x0040A122, 0x0040A123, 0x0040A124, 0x0040A160
CONCEPT_CODE = 0x0040A168
MEASURED_VALUE_SEQUENCE, NUMERIC_VALUE, QUALIFIER = 0x0040A300, 0x0040A30A, 0x0040A301
COMPLETION_FLAG, VERIFICATION_FLAG = 0x0040A491, 0x0040A493
CONTENT_TEMPLATE_SEQUENCE, TEMPLATE_IDENTIFIER = 0x0040A504, 0x0040DB00
CONTENT_SEQUENCE, REFERENCED_CONTENT_ITEM = 0x0040A730, 0x0040DB73
GRAPHIC_TYPE, TEMPORAL_RANGE_TYPE = 0x00700023, 0x0040A130

MAX_DEPTH = 64  # deeper trees are reported, not walked (protects against crafted recursion)
FINDING_SITE = {("http://snomed.info/sct", "363698007"), ("http://snomed.info/sct", "G-C0E3")}
# DICOM CID 42 "Numeric Value Qualifier" (DCM 114000-114011) → FHIR data-absent-reason.
QUALIFIER_ABSENT_REASON = {
    "114000": "not-a-number", "114001": "negative-infinity", "114002": "positive-infinity",
    "114007": "not-performed", "114010": "unknown",
}


def decode_report(ds: Dataset, ctx: Context, *, device_key: str | None = None) -> tuple[Report, list[Metric]]:
    """The document's `Report` and one Metric per NUM content item."""
    issued = ctx.timestamp(ds, CONTENT_DATE, CONTENT_TIME)
    title = ctx.concept(ds, CONCEPT_NAME)
    if title is None:
        ctx.missing("", CONCEPT_NAME, "Concept Name Code Sequence (document title)")
        title = build(CodeableConcept, codings=(), text=None)
    walker = _Walker(ctx, device_key)
    children = walker.children(ds, "", "1", ctx.datetime(ds, OBSERVATION_DATETIME) or issued, None, 1)
    template = _template(ds, ctx, "")
    root = build(ContentItem, relationship=None, value_type=ctx.text(ds, VALUE_TYPE) or "CONTAINER",
                                       concept=title, template=template, children=children,
                                       source=tag_source(CONTENT_SEQUENCE))
    report = build(Report,
        title=title, template=template, completion=ctx.text(ds, COMPLETION_FLAG),
        verification=ctx.text(ds, VERIFICATION_FLAG), issued=issued,
        instance_uid=ctx.text(ds, SOP_INSTANCE_UID), study_uid=ctx.text(ds, STUDY_INSTANCE_UID), root=root,
        source=tag_source(CONTENT_SEQUENCE),
    )
    return report, walker.metrics


def _template(item: Dataset, ctx: Context, where: str) -> str | None:
    for i, t in enumerate(ctx.sequence(item, CONTENT_TEMPLATE_SEQUENCE, where)):
        return ctx.text(t, TEMPLATE_IDENTIFIER, f"{where}{tag_str(CONTENT_TEMPLATE_SEQUENCE)}[{i}].")
    return None


_CONTENT_SEQUENCE_TEXT = tag_str(CONTENT_SEQUENCE)
_MEASURED_VALUE_TEXT = tag_str(MEASURED_VALUE_SEQUENCE)
_NUMERIC_VALUE_TEXT = tag_str(NUMERIC_VALUE)
_NUMBER_VRS = frozenset({"DS", "IS"})
_INDEX = tuple(f"[{i}]." for i in range(64))  # "[i]." of the i-th item in a tag path, made once
_NUMBER = tuple(str(i + 1) for i in range(64))  # its content item identifier part (1-based)
_SLOW = object()  # "read it through Context": not a raw element of a Latin-1 text VR


def _plain_text(elem) -> str | None | object:
    """First value of a raw element of a Latin-1 text VR (CS, UI, DT ...): what `Context.text` gives, without
    the call; `_SLOW` for anything else (a converted element, a VR with a character set, implicit VR)."""
    if elem is None:
        return None
    if elem.VR in _PLAIN_TEXT_VRS and getattr(elem, "is_raw", False):
        raw = elem.value
        if not raw:
            return None
        text = _CODE_STRINGS.get(raw)  # Value Type and Relationship Type: a few defined terms, again and again
        if text is None:
            text = raw.decode("latin_1").rstrip("\x00 ").partition("\\")[0].strip(" ") or None
            if text is not None and elem.VR == "CS":
                _CODE_STRINGS.put(raw, text)
        return text
    return _SLOW


class _Walker:
    """Depth-first walk of the content tree, collecting NUM items as metrics.

    Each item's elements are read once from its element dict; the common case (raw elements of the CS, UI
    and DT VRs, code sequences already remembered by `Context.concept`, a Measured Value Sequence of one
    defined-length item) is read inline, everything else through `Context`, which records what is wrong
    exactly as before."""

    def __init__(self, ctx: Context, device_key: str | None) -> None:
        self.ctx = ctx
        self.device_key = device_key
        self.metrics: list[Metric] = []
        # `Context.concept`'s memo key of a raw code sequence is (bytes, little endian, implicit VR, these, None)
        self.terms = ctx.charset.terms
        self.codec = ctx.charset.codec

    def children(self, parent: Dataset, where: str, ident: str, when: Timestamp | None,
                 site: CodeableConcept | None, depth: int) -> tuple[ContentItem, ...]:
        """Content items of `parent`'s Content Sequence (identifier `ident`.n, tag path `where`)."""
        items = self._items(parent, getattr(parent, "_dict", None), CONTENT_SEQUENCE, where)
        if not items:
            return ()
        if depth > MAX_DEPTH:
            self.ctx.problem(where + _CONTENT_SEQUENCE_TEXT, "dicom.sr-too-deep",
                             f"content tree deeper than {MAX_DEPTH} levels; the rest is not read",
                             expected=f"at most {MAX_DEPTH} nested content items")
            return ()
        prefix = where + _CONTENT_SEQUENCE_TEXT
        # each item's Value Type, read once for the finding site and the item (_SLOW: read by each through Context)
        code_strings = _CODE_STRINGS
        types: list = []
        for it in items:
            e = getattr(it, "_dict", None)
            if e is None:
                types.append(_SLOW)
                continue
            elem = e.get(VALUE_TYPE)
            if type(elem) is RawElement and elem[1] == "CS":  # a defined term, again and again: remembered
                types.append(code_strings.get(elem[3]) or _plain_text(elem))
            else:
                types.append(_plain_text(elem))
        names: dict[int, CodeableConcept] = {}
        if "CODE" in types or _SLOW in types:
            site = self._finding_site(items, types, prefix, names) or site
        item = self.item
        if len(items) <= len(_INDEX):
            dotted = ident + "."
            return tuple([item(it, types[i], prefix + _INDEX[i], dotted + _NUMBER[i], ident, when, site, depth,
                               names.get(i))
                          for i, it in enumerate(items)])
        return tuple([item(it, types[i], f"{prefix}[{i}].", f"{ident}.{i + 1}", ident, when, site, depth,
                           names.get(i))
                      for i, it in enumerate(items)])

    def _finding_site(self, items: list[Dataset], types: list, prefix: str,
                      names: dict[int, CodeableConcept]) -> CodeableConcept | None:
        """The concept of the first CODE item naming a finding site; the concept names it finds remembered
        (`names`, by item index) are not read again by `item`."""
        for i, it in enumerate(items):
            value_type = types[i]
            if value_type is _SLOW:
                value_type = self.ctx.text(it, VALUE_TYPE)
            if value_type != "CODE":
                continue
            path = f"{prefix}[{i}]."
            elements = getattr(it, "_dict", None)
            name = self._remembered(elements.get(CONCEPT_NAME)) if elements is not None else None
            if name is not None:
                names[i] = name
            else:
                name = self._concept(it, elements, CONCEPT_NAME, path)
            if name:
                for c in name.codings:
                    if (c.system, c.code) in FINDING_SITE:
                        return self.ctx.concept(it, CONCEPT_CODE, path)
        return None

    def _items(self, it: Dataset, elements, tag: int, where: str) -> list[Dataset]:
        """`Context.sequence` of a sequence read once (Content, Measured Value): a raw SQ element is parsed
        straight; anything else, and bytes that are not items, go through Context (which reports them)."""
        if elements is not None:
            elem = elements.get(tag)
            if elem is None:
                return []
            if elem.VR == "SQ" and getattr(elem, "is_raw", False):
                value = elem.value
                if not value:
                    return []
                try:
                    return parse_items(value, bool(elem.is_little_endian), bool(elem.is_implicit_VR))
                except ValueError:
                    pass
        return self.ctx.sequence(it, tag, where)

    def _remembered(self, elem) -> CodeableConcept | None:
        """The concept `Context.concept` remembered for a raw code sequence element, else None."""
        if type(elem) is RawElement and elem[1] == "SQ" and elem[3]:
            return _CONCEPTS.get((elem[3], elem[4], elem[5], self.terms, self.codec, None))
        return None

    def _concept(self, it: Dataset, elements, tag: int, where: str) -> CodeableConcept | None:
        """`Context.concept` of a code sequence, its remembered value read inline when there is one."""
        if elements is not None:
            elem = elements.get(tag)
            if elem is None:
                return None
            if getattr(elem, "is_raw", False) and elem.VR == "SQ" and elem.value:
                hit = _CONCEPTS.get((elem.value, elem.is_little_endian, elem.is_implicit_VR, self.terms, self.codec,
                                     None))
                if hit is not None:
                    return hit
        return self.ctx.concept(it, tag, where)

    def item(self, it: Dataset, value_type: str | None, where: str, ident: str, container: str,
             when: Timestamp | None, site: CodeableConcept | None, depth: int,
             concept: CodeableConcept | None = None) -> ContentItem:
        """One content item (its Value Type read by `children`, its concept name perhaps by `_finding_site`)
        and its subtree."""
        ctx = self.ctx
        elements = getattr(it, "_dict", None)
        if value_type is _SLOW:
            value_type = ctx.text(it, VALUE_TYPE, where)
        if elements is None:
            relationship = ctx.text(it, RELATIONSHIP_TYPE, where)
        else:
            elem = elements.get(RELATIONSHIP_TYPE)
            if type(elem) is RawElement and elem[1] == "CS":
                relationship = _CODE_STRINGS.get(elem[3]) or _plain_text(elem)
            else:
                relationship = _plain_text(elem)
                if relationship is _SLOW:
                    relationship = ctx.text(it, RELATIONSHIP_TYPE, where)
        if value_type is None:
            ref = ctx.texts(it, REFERENCED_CONTENT_ITEM, where)
            if ref:  # by-reference relationship (PS3.3 C.17.3.2.5): no value of its own
                return ContentItem(relationship=relationship, value_type="REFERENCE", text=".".join(ref),
                                   children=(), source=SourceRef(location=where[:-1]))
            ctx.missing(where, VALUE_TYPE, "Value Type")
            value_type = "UNKNOWN"
        if concept is None:
            if elements is not None:
                elem = elements.get(CONCEPT_NAME)
                if elem is not None:
                    if type(elem) is RawElement and elem[1] == "SQ" and elem[3]:
                        concept = _CONCEPTS.get((elem[3], elem[4], elem[5], self.terms, self.codec, None))
                    if concept is None:
                        concept = ctx.concept(it, CONCEPT_NAME, where)
            else:
                concept = ctx.concept(it, CONCEPT_NAME, where)
        if elements is None or OBSERVATION_DATETIME in elements:
            when = ctx.datetime(it, OBSERVATION_DATETIME, where) or when
        text = code = quantity = None
        template = None
        if value_type == "NUM":
            quantity, text = self._num(it, elements, where, ident, container, concept, when, site)
        elif value_type == "CONTAINER":
            template = _template(it, ctx, where)
            container = ident
        elif value_type == "CODE":
            code = self._concept(it, elements, CONCEPT_CODE, where)
        elif value_type == "TEXT":
            text = ctx.text(it, TEXT_VALUE, where)
        elif value_type == "UIDREF":
            text = _plain_text(elements.get(UID)) if elements is not None else _SLOW
            if text is _SLOW:
                text = ctx.text(it, UID, where)
        elif value_type == "DATETIME":
            text = ctx.text(it, DATETIME, where)
        elif value_type == "DATE":
            text = ctx.text(it, DATE, where)
        elif value_type == "TIME":
            text = ctx.text(it, TIME, where)
        elif value_type == "PNAME":
            text = ctx.text(it, PNAME, where)
        elif value_type in ("IMAGE", "COMPOSITE", "WAVEFORM"):
            for i, ref in enumerate(ctx.sequence(it, REFERENCED_SOP_SEQUENCE, where)):
                text = ctx.text(ref, REFERENCED_SOP_INSTANCE_UID, f"{where}{tag_str(REFERENCED_SOP_SEQUENCE)}[{i}].")
                break
        elif value_type == "SCOORD" or value_type == "SCOORD3D":
            text = ctx.text(it, GRAPHIC_TYPE, where)
        elif value_type == "TCOORD":
            text = ctx.text(it, TEMPORAL_RANGE_TYPE, where)
        if elements is None or CONTENT_SEQUENCE in elements:
            children = self.children(it, where, ident, when, site, depth + 1)
        else:
            children = ()
        return ContentItem(relationship=relationship, value_type=value_type, concept=concept, text=text, code=code,
                           quantity=quantity, template=template, children=children,
                           source=SourceRef(location=where[:-1]))  # `where` ends with the "." of the next tag

    def _measured(self, it: Dataset, elements, where: str) -> list[Dataset]:
        """The items of the Measured Value Sequence: a raw explicit VR one parsed straight (`_defined_items`),
        anything else as `_items` reads it."""
        if elements is not None:
            elem = elements.get(MEASURED_VALUE_SEQUENCE)
            if type(elem) is RawElement and elem[1] == "SQ" and not elem[5]:
                if not elem[3]:
                    return []
                items = _defined_items(elem[3], elem[4])
                if items is not None:
                    return items
        return self._items(it, elements, MEASURED_VALUE_SEQUENCE, where)

    def _usual_measured(self, elem) -> tuple[CodeableConcept, bytes] | None:
        """(units, Numeric Value bytes) of the usual Measured Value Sequence, read straight from its bytes: one
        Explicit VR Little Endian item of defined length holding exactly Measurement Units Code Sequence and a
        DS Numeric Value, units remembered by `Context.concept`; None for anything else (read as items)."""
        if type(elem) is not RawElement or elem[1] != "SQ" or elem[5] or elem[4] is not True:
            return None
        buf = elem[3]
        size = len(buf)
        if size < 28:
            return None
        group, element, length, units_group, units_element, units_vr, _, units_length = _MV_HEAD(buf, 0)
        at = 20 + units_length  # the Numeric Value's header
        if (group != 0xFFFE or element != 0xE000 or length + 8 != size or units_group != 0x0040
                or units_element != 0x08EA or units_vr != b"SQ" or not units_length or at + 8 > size):
            return None
        number_group, number_element, number_vr, number_length = _NUMBER_HEAD(buf, at)
        if (number_group != 0x0040 or number_element != 0xA30A or number_vr != b"DS"
                or at + 8 + number_length != size):
            return None
        units = _CONCEPTS.get((buf[20:at], True, False, self.terms, self.codec, None))
        if units is None:
            return None
        return units, buf[at + 8:]

    def _num(self, it: Dataset, elements, where: str, ident: str, container: str, concept: CodeableConcept | None,
             when: Timestamp | None, site: CodeableConcept | None) -> tuple[Quantity | None, str | None]:
        """The NUM's first value as a Quantity (and a Metric); with several values (RF dose reports put one per
        pulse in one NUM) all of them as text ("v1\\v2\\..."), reported."""
        ctx = self.ctx
        every = None
        quantity = None
        absent = None
        value_where = where + _MEASURED_VALUE_ITEM
        usual = self._usual_measured(elements.get(MEASURED_VALUE_SEQUENCE)) if elements is not None else None
        if usual is not None:
            measured = True
            units, raw = usual
            number, values = self._raw_number(raw, value_where)
        else:
            measured = self._measured(it, elements, where)
            units = _SLOW
            if measured:
                number, values = self._number(measured[0], value_where)
        if measured:
            if len(values) > 1:
                every = "\\".join(str(getattr(v, "original_string", None) or v).strip() for v in values)
                ctx.issues.append(Issue(severity="warning", code="dicom.sr-multivalue",
                                        location=value_where + _NUMERIC_VALUE_TEXT,
                                        message=f"NUM holds {len(values)} values: the Observation of the item has "
                                        "the first, the content item (and a dose event's component) all of them",
                                        offset=None))
            if number is None:
                ctx.missing(value_where, NUMERIC_VALUE, "Numeric Value")
            else:
                unit = ucum = None
                if units is _SLOW:
                    mv = measured[0]
                    mv_elements = getattr(mv, "_dict", None)
                    units = None
                    if mv_elements is not None:
                        units = self._remembered(mv_elements.get(UNITS))
                    if units is None:
                        units = self._concept(mv, mv_elements, UNITS, value_where)
                if units is None:
                    ctx.missing(value_where, UNITS, "Measurement Units Code Sequence")
                else:
                    ucum = units.code_in(UCUM_SYSTEM)
                    unit = None if ucum else (units.codings[0].display if units.codings else None)
                quantity = Quantity(value=number, unit=ucum, unit_mdc=None, unit_text=unit)
        if quantity is None:
            qualifier = ctx.concept(it, QUALIFIER, where)
            code = qualifier.codings[0].code if qualifier and qualifier.codings else None
            absent = QUALIFIER_ABSENT_REASON.get(code or "", "error" if code else "unknown")
        if concept is None:
            ctx.missing(where, CONCEPT_NAME, "Concept Name Code Sequence")
            return quantity, every
        self.metrics.append(Metric(
            code=concept,
            value=NumericValue(quantity=quantity) if quantity else None,
            data_absent_reason=absent, effective=when, body_site=site, device_key=self.device_key,
            observation_id=ident, group=container,
            source=SourceRef(location=(value_where + _NUMERIC_VALUE_TEXT) if measured else where[:-1]),
        ))
        return quantity, every

    def _number(self, mv: Dataset, where: str) -> tuple[Decimal | None, list]:
        """`Context.decimal` and `Context.values` of Numeric Value; a raw DS/IS element read once for both."""
        ctx = self.ctx
        elements = getattr(mv, "_dict", None)
        elem = elements.get(NUMERIC_VALUE) if elements is not None else None
        if elem is None or elem.VR not in _NUMBER_VRS or not getattr(elem, "is_raw", False):
            return ctx.decimal(mv, NUMERIC_VALUE, where), ctx.values(mv, NUMERIC_VALUE, where) or ()
        return self._raw_number(elem.value, where)

    def _raw_number(self, raw: bytes, where: str) -> tuple[Decimal | None, list]:
        """The first value of a raw DS/IS Numeric Value as a Decimal, and all its values as text."""
        ctx = self.ctx
        text = raw.decode("latin_1").rstrip("\x00 ") if raw else ""
        if not text:
            return None, ()
        if "\\" in text:
            values = [v.strip(" ") for v in text.split("\\")]
            first = values[0]
        else:
            first = text.strip(" ")
            values = [first]
        try:
            number = Decimal(first.strip())
        except (InvalidOperation, ValueError):
            ctx.problem(where + _NUMERIC_VALUE_TEXT, "dicom.bad-value", "value is not a decimal number",
                        expected="a DS/IS number")
            return None, values
        if not number.is_finite():
            ctx.problem(where + _NUMERIC_VALUE_TEXT, "dicom.bad-value", "value is not a finite number",
                        expected="a finite number")
            return None, values
        return number, values


_MV_HEAD = Struct("<HHLHH2sHL").unpack_from  # item header, then the Measurement Units Code Sequence's header
_NUMBER_HEAD = Struct("<HH2sH").unpack_from  # the Numeric Value's header
_MEASURED_VALUE_ITEM = _MEASURED_VALUE_TEXT + "[0]."
