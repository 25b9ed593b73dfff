"""Vendor tolerance as data: named quirk profiles (the TOML files in this folder).

A profile names the deviations from HL7 v2 / IHE PCD a sender is known for, and what to do with each:
`accept` (read it, an info finding), `warn` (read it, a warning) or `reject` (a `DecodeError`: the profile
refuses that shape). Every deviation tolerated is recorded in `Message.issues` with the quirk's and the
profile's name. Profiles are chosen

- by name: `interop translate|validate --quirks NAME` (or a path to a .toml file), or in Python
  `with quirks.use("continua-wan"): decode(...)`;
- else automatically, when a profile's `[detect]` patterns (shell-style, case-insensitive) match MSH-3.1,
  MSH-4.1 or MSH-21.1 of the message (the shipped profiles and those in the folders named by the
  environment variable INTEROP_HL7V2_QUIRKS, separated like PATH: a site's own senders);
- else `default` (the tolerances applied to every input). Every profile starts from `default`.

With `--strict`, what a chosen profile accepts or warns about is still tolerated (everything else raises);
`reject` raises in both modes.

Two sorts of quirk (default.toml explains the file format): one that names an existing finding code
(`finding = "hl7v2.line-ends"`), and one of the shapes in `KINDS`, which the decoder reads only when the
active profile lists it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any

from interop.errors import DecodeError

HERE = Path(__file__).resolve().parent
ACTIONS = {"accept": "info", "warn": "warning", "reject": "error"}
# the shapes the decoder can read when a profile asks for them (parameters in brackets)
KINDS = {
    "eui64-type-spelling": "EUI-64 universal id type spelled otherwise [spellings]",
    "eui64-type-in-namespace": "'<eui64>^EUI-64': the type in the second component (MSH-3, OBR-2/3, OBX-18)",
    "refid-as-code": "an MDC reference id where the numeric MDC code belongs (OBX-3)",
    "msh21-missing": "no MSH-21: the profile ids to assume [profiles]",
    "units-in-component-2": "OBX-6 '^unit': the unit read from its text component",
    "coding-system-alias": "local coding-system names read as standard ones [aliases: name -> HL7 0396 name or URI]",
    "dotless-timestamp": "DTM 'YYYYMMDDHHMMSSFFF': fraction of a second without '.'",
    "eui64-in-entity-id": "OBX-18 '<eui64>^<namespace>' with no universal id nor type: EI.1 read as the EUI-64 "
                          "[namespaces: patterns of EI.2]",
}


@dataclass(frozen=True)
class Quirk:
    name: str
    action: str  # accept | warn | reject
    description: str = ""
    finding: str | None = None  # an existing finding code this quirk governs
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return ACTIONS[self.action]


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    quirks: dict[str, Quirk]
    detect: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_finding", {q.finding: q for q in self.quirks.values() if q.finding})
        spellings = self.quirks.get("eui64-type-spelling")
        object.__setattr__(self, "spellings", frozenset(spellings.params.get("spellings", ())) if spellings else
                           frozenset())
        aliases = self.quirks.get("coding-system-alias")
        object.__setattr__(self, "aliases", dict(aliases.params.get("aliases", {})) if aliases else {})

    def get(self, name: str) -> Quirk | None:
        return self.quirks.get(name)

    def matches(self, msh3: str, msh4: str, msh21: str) -> bool:
        for key, text in (("msh3", msh3), ("msh4", msh4), ("msh21", msh21)):
            for pattern in self.detect.get(key, ()):
                if text and fnmatchcase(text.upper(), pattern.upper()):
                    return True
        return False


ENV = "INTEROP_HL7V2_QUIRKS"  # folders of site profiles (os.pathsep-separated), after the shipped ones


def _folders() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return [HERE, *(p for p in extra if p.is_dir())]


def names() -> list[str]:
    """The profiles shipped with the package and those in the INTEROP_HL7V2_QUIRKS folders."""
    return sorted({p.stem for folder in _folders() for p in folder.glob("*.toml")})


def _find(name: str) -> Path | None:
    for folder in _folders():
        path = folder / f"{name}.toml"
        if path.is_file():
            return path
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DecodeError(f"quirk profile {path.name}: {exc}", standard="hl7v2", position=str(path),
                          expected="a quirk profile (TOML, codecs/hl7v2/quirks/default.toml)") from None


def _quirks(data: dict[str, Any], where: str) -> dict[str, Quirk]:
    out = {}
    for name, spec in (data.get("quirks") or {}).items():
        spec = dict(spec)
        action = spec.pop("action", "accept")
        if action not in ACTIONS:
            raise DecodeError(f"quirk profile {where}: quirk {name!r} has action {action!r}", standard="hl7v2",
                              position=f"{where} [quirks.{name}]", expected="accept, warn or reject")
        finding = spec.pop("finding", None)
        if finding is None and name not in KINDS:
            raise DecodeError(f"quirk profile {where}: {name!r} is neither a known shape nor tied to a finding",
                              standard="hl7v2", position=f"{where} [quirks.{name}]",
                              expected=f"finding = '<issue code>' or one of {', '.join(sorted(KINDS))}")
        out[name] = Quirk(name=name, action=action, description=spec.pop("description", KINDS.get(name, "")),
                          finding=finding, params=spec)
    return out


@lru_cache(maxsize=64)
def load(name: str) -> Profile:
    """The profile `name` (a shipped profile's name or a path to a .toml file), on top of `default`."""
    path = Path(name) if name.endswith(".toml") else _find(name)
    if path is None or not path.is_file():
        raise DecodeError(f"no quirk profile {name!r}", standard="hl7v2", position="--quirks",
                          expected=f"one of {', '.join(names())} or a path to a .toml file")
    data = _read(path)
    quirks = {} if data.get("name", path.stem) == "default" and path.parent == HERE else dict(DEFAULT().quirks)
    for q in _quirks(data, path.name).values():
        base = quirks.get(q.name)
        if base is not None:  # a vendor refines a default quirk: keep what it does not restate
            q = Quirk(name=q.name, action=q.action, description=q.description or base.description,
                      finding=q.finding or base.finding, params={**base.params, **q.params})
        quirks[q.name] = q
    detect = {k: tuple(v) for k, v in (data.get("detect") or {}).items()}
    return Profile(name=data.get("name", path.stem), description=data.get("description", ""), quirks=quirks,
                   detect=detect)


def DEFAULT() -> Profile:  # noqa: N802 - reads as the constant it is (loaded once)
    return load("default")


def _detectable() -> tuple[Profile, ...]:
    key = os.environ.get(ENV, "")
    hit = _DETECTABLE.get(key)
    if hit is None:
        hit = _DETECTABLE[key] = tuple(p for p in (load(n) for n in names() if n != "default") if p.detect)
    return hit


_DETECTABLE: dict[str, tuple[Profile, ...]] = {}  # INTEROP_HL7V2_QUIRKS value -> profiles with [detect]


_SELECTED: ContextVar[tuple[str, ...] | None] = ContextVar("interop_hl7v2_quirks", default=None)


@contextmanager
def use(*selected: str) -> Iterator[Profile]:
    """Decode with these profiles (merged in order) inside the `with` block, whatever the message says."""
    profile = combine(selected)
    token = _SELECTED.set(tuple(selected))
    try:
        yield profile
    finally:
        _SELECTED.reset(token)


@lru_cache(maxsize=64)
def combine(selected: tuple[str, ...]) -> Profile:
    """One profile from several (later ones win)."""
    if not selected:
        return DEFAULT()
    if len(selected) == 1:
        return load(selected[0])
    quirks: dict[str, Quirk] = {}
    detect: dict[str, tuple[str, ...]] = {}
    for name in selected:
        p = load(name)
        quirks.update(p.quirks)
        for k, v in p.detect.items():
            detect[k] = detect.get(k, ()) + v
    return Profile(name="+".join(selected), description="; ".join(load(n).description for n in selected),
                   quirks=quirks, detect=detect)


def detect(msh3: str, msh4: str, msh21: str) -> Profile:
    """The first profile (by name) whose [detect] patterns match, else `default`."""
    return _detect(msh3, msh4, msh21, os.environ.get(ENV, ""))


@lru_cache(maxsize=1024)  # a sender's MSH-3/4/21 recur in every message
def _detect(msh3: str, msh4: str, msh21: str, env: str) -> Profile:
    for p in _detectable():
        if p.matches(msh3, msh4, msh21):
            return p
    return DEFAULT()


def chosen_tolerated() -> frozenset[str]:
    """The finding codes the profile chosen with `use` / --quirks accepts or warns about: tolerated even in
    strict mode (a detected profile is known only once MSH is read, after the tokenizer's checks)."""
    chosen = _SELECTED.get()
    if not chosen:
        return frozenset()
    return frozenset(q.finding for q in combine(chosen).quirks.values() if q.finding and q.action != "reject")


def select(msh3: str, msh4: str, msh21: str) -> Profile:
    """The profile for a message: the one chosen by `use` / --quirks, else detected, else default."""
    chosen = _SELECTED.get()
    if chosen:
        return combine(chosen)
    return detect(msh3, msh4, msh21)
