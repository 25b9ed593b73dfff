"""Load the corpus byte vectors kept in tests/x73/data (provenance: data/SOURCES.md and each file's header)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples" / "x73"


def load(name: str) -> bytes:
    """The octets of one `.hex` vector (header lines skipped)."""
    text = (DATA / f"{name}.hex").read_text()
    return bytes.fromhex("".join(line for line in text.splitlines() if not line.startswith("#")))


def trace(*names: str) -> bytes:
    """Binary concatenation of several agent APDU vectors (a trace)."""
    return b"".join(load(n) for n in names)


def all_apdu_vectors() -> list[str]:
    """Every vector that is one whole, well-formed APDU (the known-malformed ones excluded)."""
    bad = {"antidote_H221_ID_02BC", "antidote_H221_ID_0190", "antidote_pedometer__pedometer_noti_config",
           "antidote_pulse_oximeter__pulse_oximeter_buf_scan_report_mp_grouped", "antidote_scan_report_info_var",
           "antidote_data_apdu1", "antidote_data_apdu2"}
    return sorted(p.stem for p in DATA.glob("*.hex") if p.stem not in bad)
