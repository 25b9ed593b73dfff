"""One HL7 v2 message under test: tokenized once, everything else computed on first use.

Check functions read the message through this object (segments, field values, the structure
walk, the leaves with their reference data types) and build their hits with `hit()`, which turns
(segment, field, component) into a NIST-style location (`OBX[3].6.1`) and the span of the
offending characters in `text`, the message shown with one segment per line.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from interop.codecs.hl7v2.tokenizer import Delimiters, ParsedMessage, Segment, tokenize

from interop.errors import DecodeError

from ..finding import Hit
from .reference import Reference, closest_version, reference


class V2Context:
    """An HL7 v2 message and what the checks derive from it."""

    kind = "hl7v2"

    def __init__(self, data: bytes, *, label: str = "", offset: int = 0, user_profile: Any = None):
        self.data = data
        self.label = label
        self.offset = offset  # byte offset of this message in its file
        self.user_profile = user_profile  # a conformance profile loaded from XML (xmlprofile.py)
        self.fatal: list[Hit] = []
        self.parsed: ParsedMessage | None = None
        self._split: dict[tuple[int, int], list[list[str]]] = {}  # (segment, field) -> repetitions -> components
        try:
            self.parsed = tokenize(data)
        except DecodeError as exc:
            where = exc.position or "message"
            pos = exc.offset
            text = f"{exc.message}; expected {exc.expected}" if exc.expected else exc.message
            self.fatal.append(Hit(where if pos is None else f"{where} (byte {offset + pos})", text,
                                  pos, 1 if pos is not None else None))
        except Exception as exc:  # never a crash: whatever the tokenizer cannot say is a finding too
            self.fatal.append(Hit("message", f"cannot be read as HL7 v2: {type(exc).__name__}: {exc}"))

    # -- the message -----------------------------------------------------------------------

    @property
    def segments(self) -> list[Segment]:
        return self.parsed.segments if self.parsed else []

    @property
    def delimiters(self) -> Delimiters:
        return self.parsed.delimiters if self.parsed else Delimiters()

    @cached_property
    def msh(self) -> Segment | None:
        segs = self.segments
        return segs[0] if segs and segs[0].name == "MSH" else None

    def segs(self, name: str) -> list[Segment]:
        """Every segment with this id, in order."""
        return self.by_name.get(name, [])

    @cached_property
    def by_name(self) -> dict[str, list[Segment]]:
        out: dict[str, list[Segment]] = {}
        for s in self.segments:
            out.setdefault(s.name, []).append(s)
        return out

    def value(self, seg: Segment | None, field: int, comp: int = 0, rep: int = 0, sub: int = 0) -> str:
        """Raw text of SEG-field (one repetition), its component `comp` (1-based) or subcomponent."""
        if seg is None:
            return ""
        key = (id(seg), field)
        parts = self._split.get(key)
        if parts is None:
            raw = seg.get(field)
            d = self.delimiters
            if not raw:
                parts = []
            elif field <= 2 and seg.name == "MSH":
                parts = [[raw]]
            else:
                parts = [r.split(d.component) for r in raw.split(d.repetition)]
            self._split[key] = parts
        if rep >= len(parts):
            return ""
        comps = parts[rep]
        if not comp:
            return self.delimiters.component.join(comps) if len(comps) > 1 else comps[0]
        if comp > len(comps):
            return ""
        raw = comps[comp - 1]
        if sub:
            subs = raw.split(self.delimiters.subcomponent)
            return subs[sub - 1] if sub <= len(subs) else ""
        return raw

    def reps(self, seg: Segment, field: int) -> list[str]:
        raw = seg.get(field)
        if not raw:
            return []
        if seg.name == "MSH" and field <= 2:
            return [raw]
        return raw.split(self.delimiters.repetition)

    @cached_property
    def version(self) -> str:
        """MSH-12.1 as sent ('' when absent)."""
        return self.value(self.msh, 12, 1).strip()

    @cached_property
    def ref(self) -> Reference:
        """The reference definitions for the message's version (the closest one when unknown)."""
        r = reference(closest_version(self.version or "2.5"))
        assert r is not None
        return r

    @cached_property
    def message_type(self) -> tuple[str, str, str]:
        """MSH-9 as (message code, trigger event, message structure)."""
        m = self.msh
        return (self.value(m, 9, 1).strip(), self.value(m, 9, 2).strip(), self.value(m, 9, 3).strip())

    @cached_property
    def structure(self) -> str | None:
        """The abstract message structure id (ORU_R01 ...), None when MSH-9 names none the version knows."""
        code, event, struct = self.message_type
        return self.ref.structure_of(code, event, struct)

    # -- display text and locations ------------------------------------------------------------

    @cached_property
    def _layout(self) -> tuple[str, list[int]]:
        lines = []
        starts = []
        pos = 0
        fs = self.delimiters.field
        for s in self.segments:
            raw = s.fields[0] + fs + fs.join(s.fields[2:]) if s.name == "MSH" else fs.join(s.fields)
            starts.append(pos)
            lines.append(raw)
            pos += len(raw) + 1
        return "\n".join(lines), starts

    @property
    def text(self) -> str:
        """The message as reports show it: one segment per line."""
        if not self.parsed:
            return self.data.decode("latin-1", errors="replace")
        return self._layout[0]

    def span(self, seg: Segment, field: int | None = None, comp: int = 0, rep: int = 0) -> tuple[int, int]:
        """(offset, length) in `text` of a segment, field, repetition or component."""
        index = self._index[id(seg)]
        start = self._layout[1][index]
        fields = seg.fields
        if field is None:
            return start, len(fields[0]) + sum(len(f) + 1 for f in fields[1:])
        if seg.name == "MSH":
            if field <= 2:
                return start + 2 + field, len(fields[field]) if field < len(fields) else 0
            off = start + 4 + sum(len(f) + 1 for f in fields[2:field])
        else:
            off = start + sum(len(f) + 1 for f in fields[:field])
        raw = fields[field] if field < len(fields) else ""
        if not raw or (not rep and not comp):
            return off, len(raw)
        d = self.delimiters
        if rep or d.repetition in raw:
            parts = raw.split(d.repetition)
            for p in parts[:rep]:
                off += len(p) + 1
            raw = parts[rep] if rep < len(parts) else ""
        if comp:
            parts = raw.split(d.component)
            for p in parts[:comp - 1]:
                off += len(p) + 1
            raw = parts[comp - 1] if comp - 1 < len(parts) else ""
        return off, len(raw)

    @cached_property
    def _index(self) -> dict[int, int]:
        return {id(s): i for i, s in enumerate(self.segments)}

    def location(self, seg: Segment, field: int | None = None, comp: int = 0, rep: int = 0,
                 sub: int = 0) -> str:
        """NIST-style location path: OBX[3].6.1, PID[1].3[2].1."""
        out = f"{seg.name}[{seg.ordinal}]"
        if field is None:
            return out
        out += f".{field}" + (f"[{rep + 1}]" if rep else "")
        if comp:
            out += f".{comp}"
            if sub:
                out += f".{sub}"
        return out

    def hit(self, seg: Segment, field: int | None, message: str, comp: int = 0, rep: int = 0,
            sub: int = 0) -> Hit:
        """A hit located at SEG[n].field[.comp[.sub]] with its span in `text`."""
        off, length = self.span(seg, field, comp, rep)
        return Hit(self.location(seg, field, comp, rep, sub), message, off, max(length, 1))

    def hit_message(self, message: str) -> Hit:
        """A hit about the whole message (located at MSH when there is one)."""
        if self.msh is not None:
            return self.hit(self.msh, None, message)
        return Hit("message", message)

    # -- derived once, read by many checks ------------------------------------------------------

    @cached_property
    def scan(self):  # -> fields.Scan
        from .fields import scan

        return scan(self)

    @cached_property
    def walk(self):  # -> structure.Walk | None (None when the structure is unknown)
        from .structure import walk

        if self.structure is None:
            return None
        return walk([s.name for s in self.segments], self.ref, self.structure)

    def issues(self, *codes: str) -> list:
        """The tokenizer's tolerated deviations with these codes (interop.model.Issue)."""
        return [i for i in (self.parsed.issues if self.parsed else ()) if i.code in codes]

    def segment_at_line(self, line: int) -> Segment | None:
        for s in self.segments:
            if s.line == line:
                return s
        return None

    @cached_property
    def ihe_profiles(self) -> set[str]:
        """Profile names MSH-21 declares (ihe-pcd-01, ihe-pcd-04)."""
        out = set()
        msh = self.msh
        for r, _ in enumerate(self.reps(msh, 21) if msh else ()):
            name = PROFILE_OIDS.get(self.value(msh, 21, 3, r).strip()) or PROFILE_IDS.get(
                self.value(msh, 21, 1, r).strip())
            if name:
                out.add(name)
        return out

    def table(self, tid: str) -> frozenset[str] | None:
        """The values of HL7 table `tid` in the message's version, with the values the IHE PCD profile
        the message declares (MSH-21) adds to it: IHE PCD TF-2 pre-adopts ORU^R40 (HL7 v2.7) in v2.6
        messages and extends table 0078 with the IEEE 11073 measurement-status and alarm flags."""
        values = self.ref.tables.get(tid)
        if values is None or not self.ihe_profiles:
            return values
        extra = PCD_TABLE_EXTENSIONS.get(tid)
        if not extra:
            return values
        if tid == "HL70078":
            from interop.terminology import status

            extra = extra | frozenset(status.pcd01_flags())
        return values | extra

    def facts(self) -> dict[str, set[str]]:
        """What this message exercises, for a vendor capability file (vendor.py): profile names from
        MSH-21, MSH-12, MSH-9, device rows (MDS/VMD/CHAN codes), observation MDC codes and units."""
        from interop.terminology import mdc

        standards = {"hl7v2"} | self.ihe_profiles
        code, event, struct = self.message_type
        mtype = "^".join(x for x in (code, event, struct) if x)
        devices: set[str] = set()
        codes: set[str] = set()
        units: set[str] = set()
        for obx in self.segs("OBX"):
            at = 1 if self.value(obx, 3, 3).strip() == "MDC" else 4 if self.value(obx, 3, 6).strip() == "MDC" else 0
            if at:  # the MDC triplet, in the identifier or (LOINC first) in the alternate identifier
                c = self.value(obx, 3, at).strip()
                refid = self.value(obx, 3, at + 1).strip()
                if refid.endswith(("_MDS", "_VMD", "_CHAN")):
                    devices.add(c)
                elif c:
                    codes.add(c)
            u, system = self.value(obx, 6, 1).strip(), self.value(obx, 6, 3).strip()
            if u:
                if system == "UCUM":
                    hit = mdc.unit_by_ucum(u)
                    units.add(str(hit.code) if hit else u)
                else:
                    units.add(u)
        return {"standards": standards, "versions": {self.version} if self.version else set(),
                "message_types": {mtype} if mtype else set(), "devices": devices, "mdc_codes": codes,
                "units": units}


PROFILE_OIDS = {"1.3.6.1.4.1.19376.1.6.1.1.1": "ihe-pcd-01", "1.3.6.1.4.1.19376.1.6.1.4.1": "ihe-pcd-04",
                "1.3.6.1.4.1.19376.1.6.4.4": "ihe-pcd-04"}
"""MSH-21 message profile OIDs (IHE PCD TF-2: 1.3.6.1.4.1.19376.1.6.1.<transaction>.1; some alert
managers send the ACM profile's own OID 1.3.6.1.4.1.19376.1.6.4.4) and the profile names they stand for."""
PROFILE_IDS = {"IHE_PCD_001": "ihe-pcd-01", "IHE_PCD_ACM_001": "ihe-pcd-04"}
"""MSH-21.1 entity identifiers of the IHE PCD message profiles."""
PCD_TABLE_EXTENSIONS = {"HL70003": frozenset({"R40", "R41"}), "HL70354": frozenset({"ORU_R40"}),
                        "HL70078": frozenset({"PH", "PM", "PL", "PN", "SP", "ST", "SA"})}
