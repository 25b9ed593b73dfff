"""dciodvfy (David Clunie's dicom3tools, Debian package `dicom3tools`) as the independent DICOM oracle.

`overlap(path)` runs dciodvfy on a file and keeps the messages about what the `dicom` profile also
checks (presence of Type 1/2 attributes of the modules the codec reads, enumerated values, VR
syntax of UI/DA/TM/DS/IS, UCUM units in SR, SOP Instance UID uniqueness), as (category, path) pairs;
`ours(findings)` turns our findings into the same pairs. The test compares both sets.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

MODULES = {  # dciodvfy module name -> our assertion ids for Type 1 / Type 2 presence
    "Patient": {"2": "DCM-PAT-001"}, "GeneralStudy": {"1": "DCM-STU-001", "2": "DCM-STU-002"},
    "GeneralSeries": {"1": "DCM-SER-001", "2": "DCM-SER-002"}, "GeneralEquipment": {"2": "DCM-EQP-001"},
    "SOPCommon": {"1": "DCM-SOP-001"}, "SRDocumentSeries": {"1": "DCM-SRS-001", "2": "DCM-SRS-002"},
    "SRDocumentGeneral": {"1": "DCM-SRG-001", "2": "DCM-SRG-002"},
    "WaveformIdentification": {"1": "DCM-WID-001"},
}
CHECKED = {  # keywords our presence rules cover, per assertion
    "DCM-PAT-001": {"PatientName", "PatientID", "PatientBirthDate", "PatientSex"},
    "DCM-STU-001": {"StudyInstanceUID"},
    "DCM-STU-002": {"StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber"},
    "DCM-SER-001": {"Modality", "SeriesInstanceUID"}, "DCM-SER-002": {"SeriesNumber"},
    "DCM-EQP-001": {"Manufacturer"}, "DCM-SOP-001": {"SOPClassUID", "SOPInstanceUID"},
    "DCM-SRS-001": {"Modality", "SeriesInstanceUID", "SeriesNumber"},
    "DCM-SRS-002": {"ReferencedPerformedProcedureStepSequence"},
    "DCM-SRG-001": {"InstanceNumber", "CompletionFlag", "VerificationFlag", "ContentDate", "ContentTime"},
    "DCM-SRG-002": {"PerformedProcedureCodeSequence"},
    "DCM-WID-001": {"InstanceNumber", "ContentDate", "ContentTime", "AcquisitionDateTime"},
}
VR_IDS = {"UI": "DCM-VR-001", "DA": "DCM-VR-002", "TM": "DCM-VR-003", "DS": "DCM-VR-008", "IS": "DCM-VR-008"}
# Laterality is left out: dciodvfy judges its 2C condition (paired body part) before its values; MPPS
# status too: dciodvfy has no IOD for an MPPS attribute list.
ENUM_IDS = {"PatientSex": "DCM-PAT-002", "CompletionFlag": "DCM-SRG-003", "VerificationFlag": "DCM-SRG-004"}
LINE = re.compile(r"^(Error|Warning) - </?([^>]*)>? - (.*)$")
PRESENCE = re.compile(r"(Missing attribute|Empty attribute \(no value\)) for Type ([12])C? (?:Required|Conditional) "
                      r"- Module=<(\w+)>")
LAST_KEYWORD = re.compile(r"(\w+)\([0-9a-fA-F]{4},[0-9a-fA-F]{4}\)(?:\[\d+\])?$")


def dciodvfy() -> str:
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.fail("dciodvfy (Debian package dicom3tools) is not installed; .ci/run installs it", pytrace=False)
    return exe


def norm(path: str) -> str:
    """Lower-case hex, no trailing value index: /A(0008,0018)[1] and /A(0008,0018) compare equal."""
    path = path.strip().lstrip("/").lower()
    return re.sub(r"\[1\]$", "", path)


def crashed(lines: list[str]) -> bool:
    """dciodvfy stopped on an internal assertion (it then reports nothing about the file)."""
    return any("Assertion" in line and "failed" in line for line in lines)


def run(path: Path) -> list[str]:
    done = subprocess.run([dciodvfy(), "-new", str(path)], capture_output=True, text=True, timeout=60,
                          errors="replace")
    return (done.stdout + done.stderr).splitlines()


def overlap(path: Path) -> set[tuple[str, str]]:
    """(assertion id, normalised path) of the dciodvfy messages inside the overlap."""
    return overlap_lines(run(path))


def overlap_lines(lines: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for line in lines:
        m = LINE.match(line.strip())
        if not m:
            continue
        _, where, text = m.groups()
        kw = LAST_KEYWORD.search(where)
        keyword = kw.group(1) if kw else ""
        p = PRESENCE.search(text)
        if p and "/" not in where.strip("/"):
            aid = MODULES.get(p.group(3), {}).get(p.group(2))
            if aid and keyword in CHECKED[aid]:
                out.add((aid, norm(where)))
            continue
        if "different from SOPInstanceUID" in text or "different from SOPClassUID" in text:
            out.add(("DCM-SOP-003", norm(where)))
        elif re.match(r"MediaStorageSOP(Class|Instance)UID but missing SOP(Class|Instance)UID", text):
            missing = "SOPClassUID(0008,0016)" if "SOPClassUID but" in text else "SOPInstanceUID(0008,0018)"
            out.add(("DCM-SOP-003", norm(where)))
            out.add(("DCM-SOP-001", norm(missing)))
        elif "SOPInstanceUID has same value as" in text:
            out.add(("DCM-SOP-002", norm(where)))
        elif "CodingSchemeDesignator in a units Code Sequence is not UCUM" in text:
            out.add(("DCM-SR-006", norm(where)))
        elif text.startswith("Value invalid for this VR ["):
            vr = text[len("Value invalid for this VR ["):][:2]
            if vr in VR_IDS:
                out.add((VR_IDS[vr], norm(where)))
        elif text.startswith("Unrecognized enumerated value") and keyword in ENUM_IDS and "/" not in where.strip("/"):
            out.add((ENUM_IDS[keyword], norm(where)))
    return out


OVERLAP_IDS = set().union(*(set(v.values()) for v in MODULES.values())) | set(VR_IDS.values()) | \
    set(ENUM_IDS.values()) | {"DCM-SOP-002", "DCM-SOP-003", "DCM-SR-006"}


def ours(findings: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    return {(aid, norm(loc)) for aid, loc, _ in findings if aid in OVERLAP_IDS}
