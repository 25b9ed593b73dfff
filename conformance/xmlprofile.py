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

Beside the structure, the NIST `<ConformanceContext>` (in the profile or a sibling file) gives
* **predicates** of conditional usage (`<Predicates>`: `<Predicate Target TrueUsage FalseUsage>` with a
  `<Description>` and a `<Condition>`), per segment (`ByName`/`ByID`), per data type (`ByID` of the flavour,
  e.g. `HD_IZ`: every field or component of that flavour) or per group;
* **conformance statements** (`<Constraints>`: `<Constraint ID Target>` with an `<Assertion>`), same contexts;
* **co-constraints** in a `<CoConstraintContext>` file (IGAMT's co-constraint tables: for each OBX whose
  OBX-3 is a given code, OBX-2 / OBX-6 / OBX-5 constraints).
Conditions and assertions are kept as their XML elements and evaluated on each message by
`hl7v2/profile_expr.py` (Presence, PlainText, StringList, Format, SimpleValue, PathValue, ValueSet,
NumberList under AND/OR/NOT/XOR/IMPLY); other forms are reported as "not evaluated" (info).
A Messaging Workbench element with usage C / CE / C(a/b) carries its predicate as text
(`<Predicate>` or `<ConditionPredicate>`); the simple sentences IGAMT and the Workbench write ("If OBX-2
is valued", "If the value of PID-24 is 'Y'", "... is one of 'CP','PA'", "... is not valued") are turned
into the same expressions, the rest is reported as "predicate not evaluated: <text>".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from interop.errors import ConformanceError
from interop.text import is_ascii_digits


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
    dt_id: str = ""  # the profile's data type id (flavour: HD_IZ), what `ByID` data type contexts name
    predicate_text: str = ""  # Workbench: the condition predicate of a C / CE / C(a/b) element, as written


_COND_USAGE = re.compile(r"C(?:\((R|RE|O|X)/(R|RE|O|X)\))?$")


def conditional(usage: str) -> tuple[str, str] | None:
    """(true usage, false usage) of a conditional usage: C(R/X) as written; C = C(R/X) and CE = C(RE/X)
    (HL7 v2.5 Ch. 2B.3.3); None for R, RE, O, X."""
    if usage == "CE":
        return "RE", "X"
    m = _COND_USAGE.fullmatch(usage or "")
    if m is None:
        return None
    return (m.group(1), m.group(2)) if m.group(1) else ("R", "X")


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
    """A conformance statement: an assertion that holds in each instance of its context."""

    id: str
    context_kind: str  # segment | datatype | group | message
    context: str  # segment name, data type id (HD_IZ), group name or message id
    target: str  # NIST path of the element it is about (3[1].1[1])
    assertion: ET.Element | None  # the <Assertion> element
    description: str


@dataclass(frozen=True, slots=True)
class Predicate:
    """The condition of an element with conditional usage: TrueUsage when it holds, FalseUsage otherwise."""

    id: str
    context_kind: str  # segment | datatype | group | message
    context: str
    target: str  # NIST path of the conditional element, relative to the context
    true_usage: str
    false_usage: str
    description: str
    condition: ET.Element | None  # None: only text, not evaluable


@dataclass(frozen=True, slots=True)
class CoConstraint:
    """One row of a co-constraint table: for each `segment` whose selectors hold, the constraints hold."""

    segment: str
    selectors: tuple[ET.Element, ...]  # <Code> / <PlainText> selector elements
    constraints: tuple[ET.Element, ...]  # <PlainText> / <Code> / <ValueSet> constraint elements
    usage: str  # R: at least `min` segments of each context instance match the selectors
    min: int
    condition: ET.Element | None = None  # a ConditionalTable's condition, relative to the context
    label: str = ""
    context: str = ""  # the context group's name (IGAMT `<Context Name="ORDER">`); '' for the message
    context_path: str = ""  # its path from the message (`9[*]`); '' for the message
    segment_path: str = ""  # the segment's path from the context (`5[*].1[*]`); '' for every segment of the name
    group: str = ""  # the CoConstraintGroup of the row (its segments share the value at `id_path`, e.g. OBX-4)
    primary: bool = False  # the group's Primary row: each segment it selects starts one group instance
    id_path: str = ""  # the table's CoConstraintGroupId IdPath (`4[1]`)


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
    predicates: list[Predicate] = field(default_factory=list)
    coconstraints: list[CoConstraint] = field(default_factory=list)
    revision: str = ""  # MetaData Version (and Date), what the report names as the profile's revision

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


def _predicate_text(el: ET.Element) -> str:
    """The text predicate a Workbench (or older IGAMT) export writes inside a conditional element."""
    for tag in ("Predicate", "ConditionPredicate"):
        child = el.find(tag)
        if child is not None:
            text = child.get("Description") or "".join(child.itertext())
            return re.sub(r"\s+", " ", text).strip()
    return el.get("Predicate", "") or el.get("ConditionPredicate", "")


def _meta_revision(meta: ET.Element | None) -> str:
    if meta is None:
        return ""
    parts = [meta.get("Version", ""), meta.get("Date", "")]
    return " ".join(p for p in parts if p)


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
                      _int(el.get("MaxLength"), None), el.get("Binding"), el.get("BindingStrength", "R"), children,
                      dt_id=dt, predicate_text=_predicate_text(el))


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
                       msg.get("StructID", ""), nodes(msg), revision=_meta_revision(meta))


# -- HL7 Messaging Workbench ------------------------------------------------------------------------------


def _mwb_element(el: ET.Element) -> ElementDef:
    table = el.get("Table")
    binding = f"HL7{table}" if table and is_ascii_digits(table) else table
    length = _int(el.get("Length"), None)
    return ElementDef(el.get("Name", ""), el.get("Usage", "O"), _int(el.get("Min"), 0) or 0, _int(el.get("Max"), 1),
                      _base(el.get("Datatype", "ST")), None, length, binding, "R",
                      tuple(_mwb_element(c) for c in el if c.tag in ("Component", "SubComponent")),
                      dt_id=el.get("Datatype", ""), predicate_text=_predicate_text(el))


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
                       static.get("EventType", ""), static.get("MsgStructID", ""), nodes(static),
                       revision=_meta_revision(meta))


# -- value sets and conformance statements -------------------------------------------------------------


def _value_sets(root: ET.Element) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for vs in root.iter("ValueSetDefinition"):  # NIST
        ident = vs.get("BindingIdentifier") or vs.get("ID") or ""
        out[ident] = frozenset(e.get("Value", "") for e in vs.iter("ValueElement"))
    for t in root.iter("hl7table"):  # Messaging Workbench
        tid = t.get("id", "")
        out[f"HL7{tid}" if is_ascii_digits(tid) else tid] = frozenset(e.get("code", "") for e in t.iter("tableElement"))
    return out


def _contexts(section: ET.Element, segment_ids: dict[str, str]):
    """(kind, context name, holder element) of each ByName/ByID under Segment/Datatype/Group of a section."""
    for kind_tag, kind in (("Segment", "segment"), ("Datatype", "datatype"), ("Group", "group"), ("Message", "message")):
        for holder in section.findall(kind_tag):
            for by in list(holder.findall("ByName")) + list(holder.findall("ByID")):
                name = by.get("Name") or by.get("ID", "")
                if kind == "segment" and by.tag == "ByID":
                    name = segment_ids.get(name, name)
                yield kind, name, by


def _statements(root: ET.Element, segment_ids: dict[str, str]) -> list[Statement]:
    out: list[Statement] = []
    for section in root.iter("Constraints"):
        for kind, name, by in _contexts(section, segment_ids):
            for c in by.findall("Constraint"):
                desc = re.sub(r"\s+", " ", c.findtext("Description") or "").strip()
                out.append(Statement(c.get("ID", ""), kind, name, c.get("Target", ""), c.find("Assertion"), desc))
    return out


def _predicates(root: ET.Element, segment_ids: dict[str, str]) -> list[Predicate]:
    out: list[Predicate] = []
    for section in root.iter("Predicates"):
        for kind, name, by in _contexts(section, segment_ids):
            for p in by.findall("Predicate"):
                desc = re.sub(r"\s+", " ", p.findtext("Description") or "").strip()
                cond = p.find("Condition")
                if cond is None:
                    cond = p.find("Assertion")  # older exports
                out.append(Predicate(p.get("ID", ""), kind, name, p.get("Target", ""), p.get("TrueUsage", "R"),
                                     p.get("FalseUsage", "X"), desc, cond))
    return out


def _coconstraints(root: ET.Element) -> list[CoConstraint]:
    """The rows of each co-constraint table with the group context (`<Context Name Path>`) it is bound to."""
    out: list[CoConstraint] = []
    parents = {c: p for p in root.iter() for c in p}
    for seg in root.iter("Segment"):
        name = seg.get("Name", "")
        holder = parents.get(seg)
        context = holder if holder is not None and holder.tag == "Context" else None
        where = {"context": context.get("Name", "") if context is not None else "",
                 "context_path": context.get("Path", "") if context is not None else "",
                 "segment_path": seg.get("Path", "")}
        for table in seg:
            condition = table.find("Condition") if table.tag == "ConditionalTable" else None
            if condition is not None and condition.find("Assertion") is not None:  # <Description> + <Assertion>
                described = condition.find("Assertion")
                described.set("Description", (condition.findtext("Description") or "").strip())
                condition = described
            if table.tag not in ("SimpleTable", "ConditionalTable"):
                continue
            id_el = table.find("CoConstraintGroupId/IdPath")
            id_path = id_el.get("Path", "") if id_el is not None else ""
            for row in table.iter():
                if row.tag not in ("CoConstraint", "Primary"):
                    continue
                selectors = tuple(row.find("Selectors") or ())
                constraints = tuple(row.find("Constraints") or ())
                label = " ".join(f"{s.get('Name', '')}={s.get('Code', s.get('Value', ''))}" for s in selectors)
                usage, mn = row.get("Usage", "O"), _int(row.get("Min"), 0) or 0
                holder = parents.get(row)
                group = holder.get("Name", "group") if holder is not None and holder.tag == "CoConstraintGroup" else ""
                if row.tag == "Primary":  # the primary's R is within its group: required when the group is
                    required = holder is not None and holder.get("Usage") == "R"
                    usage, mn = ("R", max(mn, _int(holder.get("Min"), 1) or 1)) if required else ("O", 0)
                out.append(CoConstraint(name, selectors, constraints, usage, mn, condition, label, **where,
                                        group=group, primary=row.tag == "Primary", id_path=id_path))
    return out


# -- Messaging Workbench text predicates ------------------------------------------------------------------

_REF = r"(?P<seg>[A-Z][A-Z0-9]{2})[-.](?P<field>\d+)(?:\.(?P<comp>\d+))?(?:\s*\([^)]*\))?"
_TEXT_FORMS = (
    (re.compile(r"if\s+" + _REF + r"\s+is\s+(?:not\s+valued|not\s+present|not\s+populated|empty)\.?", re.I),
     "absent"),
    (re.compile(r"if\s+" + _REF + r"\s+is\s+(?:valued|present|populated)\.?", re.I), "present"),
    (re.compile(r"if\s+(?:the\s+value\s+of\s+)?" + _REF +
                r"\s+is\s+one\s+of\s+(?:list\s+values:\s*)?(?P<list>'[^']*'(?:\s*,\s*'[^']*')*)\.?", re.I), "list"),
    (re.compile(r"if\s+(?:the\s+value\s+of\s+)?" + _REF + r"\s+(?:is|=|equals)\s+'(?P<value>[^']*)'\.?", re.I),
     "value"),
)


def text_condition(text: str, segment: str) -> ET.Element | None:
    """The NIST expression of a simple text predicate on an element of `segment`, or None."""
    body = re.sub(r"^C(?:E|\([A-Z]+/[A-Z]+\))?\s*[:-]\s*", "", text.strip())
    for rx, form in _TEXT_FORMS:
        m = rx.fullmatch(body)
        if m is None:
            continue
        if m.group("seg") != segment:
            return None  # a condition on another segment: not evaluated
        path = f"{m.group('field')}[1]" + (f".{m.group('comp')}[1]" if m.group("comp") else "")
        presence = ET.Element("Presence", Path=path)
        if form == "present":
            return presence
        if form == "absent":
            neg = ET.Element("NOT")
            neg.append(presence)
            return neg
        test = (ET.Element("PlainText", Path=path, Text=m.group("value")) if form == "value" else
                ET.Element("StringList", Path=path, CSV=",".join(re.findall(r"'([^']*)'", m.group("list")))))
        both = ET.Element("AND")
        both.extend([presence, test])
        return both
    return None


def _workbench_predicates(profile: UserProfile) -> list[Predicate]:
    """Predicates of the conditional elements of a profile that carry them as text."""
    out: list[Predicate] = []
    for name, sd in profile.segment_defs().items():
        for n, fd in enumerate(sd.fields, 1):
            items = [(f"{n}[1]", fd)] + [(f"{n}[1].{c}[1]", cd) for c, cd in enumerate(fd.children, 1)]
            for target, ed in items:
                usages = conditional(ed.usage)
                if usages is None or not ed.predicate_text:
                    continue
                out.append(Predicate(f"{name}-{target}", "segment", name, target, usages[0], usages[1],
                                     ed.predicate_text, text_condition(ed.predicate_text, name)))
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
                                                      "<Specification", "<CoConstraintContext")):
            if stem_match or not any(tag in head for tag in ("<ConformanceProfile", "<HL7v2xConformanceProfile")):
                others.append(_parse(sibling))
    segment_ids = {s.get("ID", ""): s.get("Name", "") for s in root.iter("Segment") if s.get("ID")}
    for r in others:
        profile.value_sets.update(_value_sets(r))
        if r.tag == "ConformanceContext" or r.find("Constraints") is not None or r.find("Predicates") is not None:
            profile.statements.extend(_statements(r, segment_ids))
            profile.predicates.extend(_predicates(r, segment_ids))
        if r.tag == "CoConstraintContext":
            profile.coconstraints.extend(_coconstraints(r))
    profile.predicates.extend(_workbench_predicates(profile))
    return profile
