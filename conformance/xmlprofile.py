"""HL7 v2 conformance profiles in XML, as the NIST IGAMT tool and the HL7 Messaging Workbench export them.

Two formats are read into one `UserProfile`:

* NIST / IGAMT (`<ConformanceProfile>`, the schema of usnistgov/v2-validation): `<Messages><Message
  Type Event StructID>` with `<Segment Ref Usage Min Max>` and `<Group>` children, `<Segments>` /
  `<Datatypes>` libraries (`<Field>` / `<Component>`: Usage, Min, Max, Datatype, MinLength, MaxLength,
  Binding, BindingStrength); value sets in a `<ValueSetLibrary>` and conformance statements in a
  `<ConformanceContext>`, each in the profile file or in a sibling file (`<stem>.valuesets.xml`,
  `<stem>.constraints.xml`, or any XML file of the same folder with that root element).
* HL7 Messaging Workbench (`<HL7v2xConformanceProfile>`): `<HL7v2xStaticDef MsgType EventType
  MsgStructID>` with nested `<Segment>` / `<SegGroup>` / `<Field>` / `<Component>` (Usage, Min, Max,
  Datatype, Length, Table); tables in an `<hl7tables>` file beside it (`<hl7table id>` /
  `<tableElement code>`), else the HL7 tables of the profile's version (hl7apy's).

Conformance statements read: PlainText, StringList, Presence, Format (regex) and their NOT; paths as
NIST writes them (`11[1]`, `3[1].1[1]`) relative to the segment named by `ByName`/`ByID`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from interop.errors import ConformanceError


@dataclass(frozen=True, slots=True)
class ElementDef:
    """A field or component of a profile: usage, cardinality, data type, length, binding."""

    name: str
    usage: str
    min: int
    max: int  # -1: '*'
    datatype: str  # the base data type (HD for HD_IZ)
    min_length: int | None
    max_length: int | None
    binding: str | None
    strength: str
    children: tuple[ElementDef, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentDef:
    name: str
    fields: tuple[ElementDef, ...]


@dataclass(frozen=True, slots=True)
class Node:
    """A segment or group of the profile's message structure."""

    name: str
    is_group: bool
    usage: str
    min: int
    max: int
    children: tuple[Node, ...] = ()
    segment: SegmentDef | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """A simple conformance statement on one segment."""

    id: str
    segment: str
    path: tuple[tuple[int, int], ...]  # ((field, repetition), (component, 1) ...) 1-based
    kind: str  # plain | list | presence | format
    values: tuple[str, ...]
    negate: bool
    description: str


@dataclass(slots=True)
class UserProfile:
    title: str
    source: str
    version: str
    msg_type: str
    event: str
    struct: str
    nodes: tuple[Node, ...]
    value_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)

    def segment_defs(self) -> dict[str, SegmentDef]:
        """Segment name → its definition (the first use in the structure)."""
        out: dict[str, SegmentDef] = {}

        def walk(nodes: tuple[Node, ...]) -> None:
            for n in nodes:
                if n.is_group:
                    walk(n.children)
                elif n.segment is not None:
                    out.setdefault(n.name, n.segment)

        walk(self.nodes)
        return out

    def usage_of(self) -> dict[str, str]:
        """Segment name → usage (the first use in the structure)."""
        out: dict[str, str] = {}

        def walk(nodes: tuple[Node, ...]) -> None:
            for n in nodes:
                if n.is_group:
                    walk(n.children)
                else:
                    out.setdefault(n.name, n.usage)

        walk(self.nodes)
        return out


def _int(v: str | None, default: int | None) -> int | None:
    if v is None or v == "":
        return default
    if v == "*":
        return -1
    try:
        return int(v)
    except ValueError:
        return default


def _base(dt: str) -> str:
    """NIST flavours are named BASE_suffix (HD_IZ, TS_NZ); the base type is what we check formats by."""
    return dt.split("_")[0] if dt else "ST"


def _strip(root: ET.Element) -> ET.Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _parse(path: Path) -> ET.Element:
    try:
        return _strip(ET.parse(path).getroot())
    except ET.ParseError as exc:
        line, col = exc.position
        raise ConformanceError(f"{path}:{line}: not well-formed XML (column {col})") from None
    except OSError as exc:
        raise ConformanceError(f"{path}: cannot read profile: {exc.strerror or exc}") from None


# -- NIST / IGAMT -------------------------------------------------------------------------------------


def _nist_element(el: ET.Element, datatypes: dict[str, ET.Element], depth: int = 0) -> ElementDef:
    dt = el.get("Datatype", "ST")
    children: tuple[ElementDef, ...] = ()
    dt_el = datatypes.get(dt)
    if dt_el is not None and depth < 2:
        children = tuple(_nist_element(c, datatypes, depth + 1) for c in dt_el.findall("Component"))
    base = dt_el.get("Name", _base(dt)) if dt_el is not None else _base(dt)
    return ElementDef(el.get("Name", ""), el.get("Usage", "O"), _int(el.get("Min"), 0) or 0,
                      _int(el.get("Max"), 1), base, _int(el.get("MinLength"), None),
                      _int(el.get("MaxLength"), None), el.get("Binding"), el.get("BindingStrength", "R"), children)


def _nist(root: ET.Element, path: Path) -> UserProfile:
    datatypes = {d.get("ID", ""): d for d in root.iter("Datatype")}
    segments: dict[str, SegmentDef] = {}
    for s in root.iter("Segment"):
        if s.get("ID") and s.get("Name"):
            segments[s.get("ID", "")] = SegmentDef(s.get("Name", ""), tuple(_nist_element(f, datatypes)
                                                                           for f in s.findall("Field")))
    msg = root.find("Messages/Message")
    if msg is None:
        raise ConformanceError(f"{path}: a NIST conformance profile needs Messages/Message")

    def nodes(parent: ET.Element) -> tuple[Node, ...]:
        out = []
        for c in parent:
            usage, mn, mx = c.get("Usage", "O"), _int(c.get("Min"), 0) or 0, _int(c.get("Max"), 1)
            if c.tag == "Segment":
                seg = segments.get(c.get("Ref", ""))
                if seg is None:
                    raise ConformanceError(f"{path}: segment reference {c.get('Ref')!r} is not defined")
                out.append(Node(seg.name, False, usage, mn, mx, segment=seg))
            elif c.tag == "Group":
                name = (c.get("Name") or c.get("ID") or "GROUP").split(".")[-1]
                out.append(Node(name, True, usage, mn, mx, nodes(c)))
        return tuple(out)

    meta = root.find("MetaData")
    title = meta.get("Name", path.stem) if meta is not None else path.stem
    return UserProfile(title, str(path), root.get("HL7Version", ""), msg.get("Type", ""), msg.get("Event", ""),
                       msg.get("StructID", ""), nodes(msg))


# -- HL7 Messaging Workbench ------------------------------------------------------------------------------


def _mwb_element(el: ET.Element) -> ElementDef:
    table = el.get("Table")
    binding = f"HL7{table}" if table and table.isdigit() else table
    length = _int(el.get("Length"), None)
    return ElementDef(el.get("Name", ""), el.get("Usage", "O"), _int(el.get("Min"), 0) or 0, _int(el.get("Max"), 1),
                      _base(el.get("Datatype", "ST")), None, length, binding, "R",
                      tuple(_mwb_element(c) for c in el if c.tag in ("Component", "SubComponent")))


def _mwb(root: ET.Element, path: Path) -> UserProfile:
    static = root.find("HL7v2xStaticDef")
    if static is None:
        raise ConformanceError(f"{path}: a Messaging Workbench profile needs HL7v2xStaticDef")

    def nodes(parent: ET.Element) -> tuple[Node, ...]:
        out = []
        for c in parent:
            usage, mn, mx = c.get("Usage", "O"), _int(c.get("Min"), 0) or 0, _int(c.get("Max"), 1)
            if c.tag == "Segment":
                seg = SegmentDef(c.get("Name", ""), tuple(_mwb_element(f) for f in c.findall("Field")))
                out.append(Node(seg.name, False, usage, mn, mx, segment=seg))
            elif c.tag == "SegGroup":
                out.append(Node(c.get("Name", "GROUP"), True, usage, mn, mx, nodes(c)))
        return tuple(out)

    meta = root.find("MetaData")
    if meta is None:
        meta = static.find("MetaData")
    title = meta.get("Name", path.stem) if meta is not None else path.stem
    return UserProfile(title, str(path), root.get("HL7Version", ""), static.get("MsgType", ""),
                       static.get("EventType", ""), static.get("MsgStructID", ""), nodes(static))


# -- value sets and conformance statements -------------------------------------------------------------


def _value_sets(root: ET.Element) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for vs in root.iter("ValueSetDefinition"):  # NIST
        ident = vs.get("BindingIdentifier") or vs.get("ID") or ""
        out[ident] = frozenset(e.get("Value", "") for e in vs.iter("ValueElement"))
    for t in root.iter("hl7table"):  # Messaging Workbench
        tid = t.get("id", "")
        out[f"HL7{tid}" if tid.isdigit() else tid] = frozenset(e.get("code", "") for e in t.iter("tableElement"))
    return out


_STEP = re.compile(r"(\d+)(?:\[(\d+|\*)\])?")


def _path(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in text.split("."):
        m = _STEP.fullmatch(part.strip())
        if not m:
            raise ConformanceError(f"conformance statement path {text!r} is not of the form 3[1].1[1]")
        out.append((int(m.group(1)), 1 if m.group(2) in (None, "*") else int(m.group(2))))
    return tuple(out)


def _statements(root: ET.Element, segment_ids: dict[str, str]) -> list[Statement]:
    out: list[Statement] = []
    for holder in root.iter("Segment"):
        for by in list(holder.findall("ByName")) + list(holder.findall("ByID")):
            seg = by.get("Name") or segment_ids.get(by.get("ID", ""), by.get("ID", ""))
            for c in by.findall("Constraint"):
                a = c.find("Assertion")
                if a is None or not len(a):
                    continue
                test, negate = a[0], False
                if test.tag == "NOT" and len(test):
                    test, negate = test[0], True
                kind = {"PlainText": "plain", "StringList": "list", "Presence": "presence",
                        "Format": "format"}.get(test.tag)
                if kind is None:
                    continue  # statements beyond the simple ones are not read (reported by load())
                values = {"plain": (test.get("Text", ""),), "list": tuple(test.get("CSV", "").split(",")),
                          "presence": (), "format": (test.get("Regex", ""),)}[kind]
                desc = (c.findtext("Description") or "").strip()
                out.append(Statement(c.get("ID", ""), seg, _path(test.get("Path", c.get("Target", "1[1]"))), kind,
                                     values, negate, desc))
    return out


def load(path: str | Path) -> UserProfile:
    """Read a profile file (and the value set / constraint files beside it)."""
    p = Path(path)
    root = _parse(p)
    if root.tag == "ConformanceProfile":
        profile = _nist(root, p)
    elif root.tag == "HL7v2xConformanceProfile":
        profile = _mwb(root, p)
    else:
        raise ConformanceError(f"{p}:1: root element <{root.tag}> is neither <ConformanceProfile> (NIST IGAMT) "
                               "nor <HL7v2xConformanceProfile> (HL7 Messaging Workbench)")
    others = [root]
    for sibling in sorted(p.parent.glob("*.xml")):
        if sibling == p:
            continue
        stem_match = sibling.name.startswith(p.stem + ".")
        try:
            head = sibling.read_text(encoding="utf-8", errors="replace")[:400]
        except OSError:
            continue
        if stem_match or any(tag in head for tag in ("<ValueSetLibrary", "<ConformanceContext", "<hl7tables",
                                                      "<Specification")):
            if stem_match or not any(tag in head for tag in ("<ConformanceProfile", "<HL7v2xConformanceProfile")):
                others.append(_parse(sibling))
    segment_ids = {s.get("ID", ""): s.get("Name", "") for s in root.iter("Segment") if s.get("ID")}
    for r in others:
        profile.value_sets.update(_value_sets(r))
        if r.tag == "ConformanceContext" or r.find("Constraints") is not None:
            profile.statements.extend(_statements(r, segment_ids))
    return profile
