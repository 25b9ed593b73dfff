"""scripts/build_terminology.py: source verification mode finds a code that disagrees with a source."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("build_terminology", ROOT / "scripts" / "build_terminology.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_verify_reports_a_disagreeing_source(tmp_path: Path) -> None:
    b = _script()
    dim = tmp_path / "antidote" / "src" / "dim"
    dim.mkdir(parents=True)
    (tmp_path / "antidote" / "src" / "specializations").mkdir()
    # one right code (IEEE 11073-20601 Annex A: MDC_PULS_OXIM_SAT_O2 19384) and one deliberately wrong
    (dim / "nomenclature.h").write_text("#define MDC_PULS_OXIM_SAT_O2 19384\n#define MDC_TEMP_BODY 19293\n"
                                        "#define MDC_DIM_MMHG 3872\n")
    fsh = tmp_path / "dk" / "input" / "fsh"
    fsh.mkdir(parents=True)
    (fsh / "v.fsh").write_text('* $IEEEx73#150456 "MDC_PULS_OXIM_SAT_O2"\n')
    found = b.source_codes(tmp_path / "antidote", None, tmp_path / "dk")
    assert found["antidote"]["MDC_DIM_MMHG"] == 266016
    assert b.verify(found) == ["MDC_TEMP_BODY: shipped 150364, antidote says 150365"]


def test_main_check_passes() -> None:
    assert _script().main(["--check"]) == 0
