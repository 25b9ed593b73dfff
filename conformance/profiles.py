"""Conformance profiles: the named ones of DESIGN.md ("Conformance vocabulary") and user XML files.

A named profile is the set of catalogue assertions that list it in `profiles:`, plus the
assertions of the profiles it includes (an IHE PCD-01 message is first an HL7 v2 message).
`--profile FILE` loads an HL7 v2 conformance profile exported by NIST IGAMT or the HL7 Messaging
Workbench (xmlprofile.py) and runs the `hl7v2-xml` assertions against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop.errors import UsageError

from .catalogue import Assertion, catalogue


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    includes: tuple[str, ...] = ()


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("hl7v2", "HL7 v2 structure per version 2.3–2.8: segments, groups, cardinality, data types, "
            "lengths, tables (hl7apy's definitions)"),
    Profile("ihe-pcd-01", "IHE PCD-01 Communicate PCD Data (ORU^R01, IHE PCD TF-2)", ("hl7v2",)),
    Profile("ihe-pcd-04", "IHE PCD-04 Report Alert (ORU^R40, IHE PCD TF-2 / ACM)", ("hl7v2",)),
    Profile("x73-20601", "IEEE 11073-20601 optimized exchange protocol sessions"),
    Profile("phd", "HL7 FHIR Personal Health Device IG"),
    Profile("pocd", "HL7 FHIR Point-of-Care Device IG"),
    Profile("dicom", "DICOM IOD modules the codec reads"),
    Profile("fhir-r4", "FHIR R4 output of this project"),
    Profile("fhir-r5", "FHIR R5 output of this project"),
    Profile("hl7v2-xml", "a user's HL7 v2 conformance profile (IGAMT / Messaging Workbench XML), given as FILE"),
)}

XML_PROFILE = "hl7v2-xml"
XML_BASE = ("HL7V2-MSG-001", "HL7V2-MSG-002", "HL7V2-MSG-003", "HL7V2-MSG-004", "HL7V2-MSG-005")
"""Reading rules that also run with a user's XML profile (it describes content, not encoding)."""


def auto_profile(kind: Any, ctx: Any) -> str | None:
    """The profile `--profile auto` runs on one input: the kind's own choice (`default_profile`), else
    a profile named like the kind."""
    choose = getattr(kind, "default_profile", None)
    if choose is not None:
        return choose(ctx)
    return kind.name if kind.name in PROFILES else None


def names(profile: str) -> list[str]:
    """The profile and every profile it includes, depth first."""
    p = PROFILES.get(profile)
    if p is None:
        raise UsageError(f"unknown conformance profile {profile!r}; known: {', '.join(PROFILES)} or an XML file")
    out = [profile]
    for inc in p.includes:
        out.extend(n for n in names(inc) if n not in out)
    return out


def assertions_for(profile: str) -> list[Assertion]:
    """The catalogue rows a named profile runs, in catalogue order."""
    wanted = set(names(profile))
    return [a for a in catalogue() if wanted.intersection(a.profiles)]


@dataclass(slots=True)
class Selection:
    """What one run checks: the assertions, the input kinds they read, a loaded XML profile."""

    label: str
    assertions: list[Assertion]
    user_profile: Any = None
    auto: bool = False  # choose the profile per input (its kind; for HL7 v2 the MSH-21 profile id)

    @property
    def kinds(self) -> list[str]:
        out: list[str] = []
        for a in self.assertions:
            if a.input not in out:
                out.append(a.input)
        return out


def select(profile: str | Path) -> Selection:
    """A named profile, or an XML conformance profile file."""
    text = str(profile)
    if text == "auto":
        return Selection("auto", list(catalogue()), auto=True)
    if text in PROFILES:
        rows = assertions_for(text)
        if not rows:
            raise UsageError(f"profile {text!r} has no assertions in this build")
        return Selection(text, rows)
    path = Path(text)
    if path.suffix.lower() == ".xml" or path.is_file():
        if not path.is_file():
            raise UsageError(f"profile file {text} does not exist")
        from .xmlprofile import load

        user = load(path)
        wanted = set(XML_BASE)
        rows = [a for a in catalogue() if a.id in wanted or XML_PROFILE in a.profiles]
        about = ", ".join(x for x in (user.title, f"revision {user.revision}" if user.revision else "",
                                      f"HL7 v{user.version}" if user.version else "") if x)
        return Selection(f"{path.name} ({about})", rows, user)
    raise UsageError(f"unknown conformance profile {text!r}; known: {', '.join(PROFILES)} or an XML file")
