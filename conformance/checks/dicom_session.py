"""DICOM protocol assertions (DCM-NET-*) on a recorded session of `interop conformance listen dicom`.

The session log (`dicom-session.json`, written by conformance/live/dicom.py) lists each association:
calling AE title, whether it was accepted, each DIMSE request with the status the SCP answered, and
how it ended. These rules judge the vendor's SCU on it; the instances it sent are separate inputs
checked by the `dicom` assertions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .base import JsonLogKind, fatal_check, json_case, rule_registry

Hit = tuple[str, str]
Rule = Callable[["Session"], Iterator[Hit]]
RULES: dict[str, Rule] = {}
rule = rule_registry(RULES)
fatal_check("DCM-NET-000")
SESSION_KIND = "dicom-session"
CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "dicom-session"
STORE_STATUS = {0xA700: "Refused: Out of Resources", 0xA900: "Error: Data Set does not match SOP Class",
                0xC000: "Error: Cannot understand", 0xB000: "Warning: Coercion of Data Elements",
                0xB007: "Warning: Data Set does not match SOP Class", 0xB006: "Warning: Elements Discarded",
                0x0122: "Refused: SOP Class not supported"}


class Session:
    """A parsed session log."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.associations: list[dict[str, Any]] = [a for a in doc.get("associations") or () if isinstance(a, dict)]

    def operations(self, dimse: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, a in enumerate(self.associations, 1):
            for j, op in enumerate(a.get("operations") or (), 1):
                if isinstance(op, dict) and op.get("dimse") == dimse:
                    yield f"association {i} ({a.get('calling_ae', '?')}) {dimse} {j}", op


def from_bytes(data: bytes) -> Session:
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("kind") != SESSION_KIND:
        raise ValueError("not a dicom-session log (kind: dicom-session)")
    return Session(doc)


@rule("DCM-NET-001")
def store_success(s: Session) -> Iterator[Hit]:
    for where, op in s.operations("C-STORE"):
        status = int(op.get("status", 0))
        if status != 0:
            yield where, (f"C-STORE of {op.get('affected_sop_class', '?')} answered 0x{status:04X} "
                          f"({STORE_STATUS.get(status, 'failure')})")


@rule("DCM-NET-002")
def association_accepted(s: Session) -> Iterator[Hit]:
    for i, a in enumerate(s.associations, 1):
        if not a.get("accepted", True):
            yield f"association {i} ({a.get('calling_ae', '?')})", (
                f"A-ASSOCIATE-RJ: calling AE {a.get('calling_ae')!r} to {a.get('called_ae')!r} was rejected")


@rule("DCM-NET-003")
def released(s: Session) -> Iterator[Hit]:
    for i, a in enumerate(s.associations, 1):
        if a.get("accepted", True) and a.get("ended") not in ("released", None):
            yield f"association {i} ({a.get('calling_ae', '?')})", (
                f"association ended {a.get('ended')} instead of an A-RELEASE")


@rule("DCM-NET-004")
def instance_uid_matches(s: Session) -> Iterator[Hit]:
    for where, op in s.operations("C-STORE"):
        have = op.get("dataset_sop_instance")
        if have is not None and have != op.get("affected_sop_instance"):
            yield where, "Affected SOP Instance UID of the C-STORE request differs from the dataset's SOP Instance UID"


@rule("DCM-NET-005")
def class_uid_matches(s: Session) -> Iterator[Hit]:
    for where, op in s.operations("C-STORE"):
        have = op.get("dataset_sop_class")
        if have is not None and have != op.get("affected_sop_class"):
            yield where, "Affected SOP Class UID of the C-STORE request differs from the dataset's SOP Class UID"


def build_case(spec: Any) -> bytes:
    """A session log of cases/dicom-session/ (`"good.json"`) or `{base, set: {"associations[0].ended": v}}`."""
    return json_case(spec, CASES_DIR)


def check(data: bytes) -> list[tuple[str, str, str]]:
    s = from_bytes(data)
    return [(aid, loc, msg) for aid, fn in RULES.items() for loc, msg in fn(s)]


KIND = JsonLogKind(SESSION_KIND, from_bytes, CASES_DIR, "dicom")
