"""The shared corpus (../shared/corpus, laid beside the repository for CI too) as (name, path) pairs.

IEEE 11073 hex files are read from the corpus folder; the DICOM list names files that ship inside
the pydicom, pynetdicom and pydicom-data packages (installed by the test extras), never downloaded.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    for candidate in (ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the shared corpus (../shared/corpus) is not beside the repository")


def x73_files() -> list[Path]:
    return sorted(p for p in (corpus_dir() / "ieee11073").glob("*.hex"))


def dicom_files() -> list[tuple[str, Path]]:
    """(package/file, path) of every row of packaged-test-files.tsv."""
    import pydicom.data
    import pynetdicom

    rows = list(csv.DictReader(open(corpus_dir() / "dicom" / "packaged-test-files.tsv", encoding="utf-8"),
                               delimiter="\t"))
    out = []
    for r in rows:
        if r["package"] == "pydicom":
            path = Path(pydicom.data.__file__).parent / "test_files" / r["file"]
        elif r["package"] == "pynetdicom":
            path = Path(pynetdicom.__file__).parent / "tests" / "dicom_files" / r["file"]
        else:
            import data_store  # pydicom-data

            path = Path(data_store.__file__).parent / r["file"].removeprefix("data_store/")
        out.append((f"{r['package']}/{r['file']}", path))
    return out
