"""Which files a command reads: paths, directories (walked, sorted) and globs, in the order given."""

from __future__ import annotations

import glob
from pathlib import Path

# When walking a directory, files that are documentation or code, not device data (named files are always read).
SKIP_SUFFIXES = frozenset({".md", ".py", ".pyc", ".txt", ".rst", ".json", ".csv", ".tsv", ".sh", ".ndjson"})
_GLOB_CHARS = frozenset("*?[")


def expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """Files to read, in order, and one error line per path that names nothing.

    '-' is standard input; a directory is walked recursively (sorted), leaving out hidden files and
    SKIP_SUFFIXES; a path with glob characters that does not exist as written is expanded (`**` too).
    """
    files: list[str] = []
    problems: list[str] = []
    for p in paths:
        if p == "-":
            files.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            files.extend(_walk(path))
        elif path.exists():
            files.append(p)
        elif _GLOB_CHARS & set(p):
            found = sorted(glob.glob(p, recursive=True))
            if not found:
                problems.append(f"{p}: path: no file matches this pattern")
            for f in found:
                files.extend(_walk(Path(f)) if Path(f).is_dir() else [f] if _wanted(Path(f)) else [])
        else:
            problems.append(f"{p}: path: no such file or directory")
    return files, problems


def is_many(paths: list[str], files: list[str]) -> bool:
    """Several inputs (or a directory or pattern, however many files it holds)."""
    return len(files) > 1 or any(p != "-" and (Path(p).is_dir() or (not Path(p).exists() and _GLOB_CHARS & set(p)))
                                 for p in paths)


def _walk(folder: Path) -> list[str]:
    return sorted(str(f) for f in folder.rglob("*") if f.is_file() and _wanted(f))


def _wanted(f: Path) -> bool:
    return f.suffix.lower() not in SKIP_SUFFIXES and not f.name.startswith(".") and "__pycache__" not in f.parts
