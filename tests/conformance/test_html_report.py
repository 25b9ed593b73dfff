"""The HTML report renders in headless Chromium: the summary table and a highlighted finding are visible."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from interop.conformance.hl7v2.cases import build
from interop.conformance.profiles import select
from interop.conformance.reports import render
from interop.conformance.runner import Report, check_bytes

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HIGHLIGHT = (0xFF, 0x4D, 0x4D)  # mark.hl-error background in reports/html.py
HEADER = (0x1F, 0x3A, 0x5F)  # summary table header background


def _report():
    sel = select("ihe-pcd-01")
    bad = build({"base": "pcd01-vitals", "set": {"OBX[1].18": "XYZ^^XYZ^EUI-64"}})
    good = build("pcd01-vitals")
    results = check_bytes(bad, "bad.hl7", sel) + check_bytes(good, "good.hl7", sel)
    return Report(sel.label, results, sel.assertions)


def test_html_is_self_contained_and_marks_the_offending_field():
    html = render(_report(), "html")
    assert "<table id=\"summary\">" in html
    # no external assets (only the references are links, to where the cited text can be read)
    assert "src=" not in html and "<link" not in html and "url(" not in html and "<script" not in html
    assert {u for u in re.findall(r'https?://[^"]+', html)} <= set(re.findall(r'<a href="(https?://[^"]+)"', html))
    # the OBX-18 value of OBX[1] is the highlighted span, with the finding as its title
    assert '<mark class="hl-error" title="PCD01-OBX-018: OBX-18 &#x27;XYZ&#x27; is not an EUI-64' in html
    assert ">XYZ^^XYZ^EUI-64</mark>" in html
    assert ('<a href="https://www.ihe.net/uploadedFiles/Documents/PCD/IHE_PCD_TF_Vol2.pdf">IHE PCD TF-2 Rev 9.0 App. '
            'B.8 OBX-18') in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is installed by .ci/run; not on this machine")
def test_html_renders_in_headless_chromium(tmp_path: Path):
    from PIL import Image

    page = tmp_path / "report.html"
    page.write_text(render(_report(), "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(common + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert 'id="summary"' in dom.stdout and 'class="hl-error"' in dom.stdout
    subprocess.run(common + [f"--screenshot={shot}", "--window-size=1400,1800", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    img = Image.open(shot).convert("RGB")
    colours = {c for _, c in img.getcolors(maxcolors=1 << 20)}
    assert HEADER in colours, "summary table header not rendered"
    assert HIGHLIGHT in colours, "highlighted finding not rendered"
    # the highlight is a block of pixels, not a stray one
    assert sum(n for n, c in img.getcolors(maxcolors=1 << 20) if c == HIGHLIGHT) > 200


def test_binary_inputs_get_a_hex_view_with_the_offending_bytes_marked():
    from interop.conformance.finding import Finding
    from interop.conformance.runner import InputResult

    data = bytes(range(40))
    f = Finding("X73-TEST-001", "error", "byte 17", "bad length", "IEEE 11073-20601 §8", offset=17, length=2)
    report = Report("x73-20601", [InputResult("trace.bin", "x73", [f], "", 1, {}, data)], [])
    html = render(report, "html")
    assert '<pre class="msg hex">' in html
    assert "00000010  10 <mark class=\"hl-error\" title=\"X73-TEST-001: bad length\" data-finding=\"1\">11</mark>" in html
    assert '<mark class="hl-error" title="X73-TEST-001: bad length" data-finding="1">12</mark> 13' in html
