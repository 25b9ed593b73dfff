"""One self-contained HTML file a person can send to the vendor: summary table, then each input
with its findings, the offending segment/field (or bytes) highlighted in the message text, and
the spec reference of each finding. No external assets: styles inline, no scripts needed.
"""

from __future__ import annotations

from html import escape

from .links import reference_url


def _reference(reference: str) -> str:
    """The reference, linked to where it can be read (the report stays self-contained: links only)."""
    url = reference_url(reference)
    return f'<a href="{escape(url)}">{escape(reference)}</a>' if url else escape(reference)

RANK = {"error": 3, "warning": 2, "info": 1}
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #ccc}
.meta{color:#555;margin-bottom:14px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th{background:#1f3a5f;color:#fff;text-align:left;padding:6px 10px}
td{border:1px solid #d0d0d0;padding:5px 10px;vertical-align:top}
td.n{text-align:right} .pass{color:#11751f;font-weight:bold} .fail{color:#b00020;font-weight:bold}
.sev-error{color:#b00020;font-weight:bold} .sev-warning{color:#8a5a00;font-weight:bold} .sev-info{color:#075985}
pre.msg{background:#f6f8fa;border:1px solid #d0d7de;padding:10px;font-size:13px;line-height:1.55;
 white-space:pre-wrap;word-break:break-all}
mark{padding:1px 0;border-radius:2px;color:#000}
mark.hl-error{background:#ff4d4d;outline:2px solid #b00020}
mark.hl-warning{background:#ffd24d} mark.hl-info{background:#9fd3ff}
code{font-size:13px} .ref{color:#555;font-size:12px}
"""


def _highlight(text: str, findings: list) -> str:
    """The text with each finding's span wrapped in <mark> (overlaps: the most severe wins)."""
    spans = [(f.offset, f.offset + max(f.length or 1, 1), f, i) for i, f in enumerate(findings, 1)
             if f.offset is not None and 0 <= f.offset < len(text)]
    if not spans:
        return escape(text)
    cuts = sorted({0, len(text)} | {s for s, _, _, _ in spans} | {min(e, len(text)) for _, e, _, _ in spans})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        covering = [(RANK.get(f.severity, 0), -i, f, i) for s, e, f, i in spans if s <= a and b <= e]
        piece = escape(text[a:b])
        if covering:
            _, _, f, i = max(covering, key=lambda c: (c[0], c[1]))
            out.append(f'<mark class="hl-{f.severity}" title="{escape(f.assertion)}: {escape(f.message)}" '
                       f'data-finding="{i}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def _hexdump(data: bytes, findings: list) -> str:
    """Binary input as offset + 16 hex bytes per line, the bytes at each finding's offset highlighted."""
    marks: dict[int, tuple[int, int, object]] = {}  # byte offset -> (rank, finding number, finding)
    for i, f in enumerate(findings, 1):
        if f.offset is None:
            continue
        for b in range(f.offset, min(f.offset + max(f.length or 1, 1), len(data))):
            rank = RANK.get(f.severity, 0)
            if b not in marks or rank > marks[b][0]:
                marks[b] = (rank, i, f)
    lines = []
    for start in range(0, len(data), 16):
        cells = []
        for b in range(start, min(start + 16, len(data))):
            cell = f"{data[b]:02X}"
            hit = marks.get(b)
            if hit:
                f = hit[2]
                cell = (f'<mark class="hl-{f.severity}" title="{escape(f.assertion)}: {escape(f.message)}" '
                        f'data-finding="{hit[1]}">{cell}</mark>')
            cells.append(cell)
        lines.append(f"{start:08X}  " + " ".join(cells))
    return "\n".join(lines)


def render(report) -> str:  # noqa: ANN001
    s = report.summary()
    verdict = '<span class="fail">FAIL</span>' if s["errors"] else '<span class="pass">PASS</span>'
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Conformance report: {escape(report.profile)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Conformance report {verdict}</h1>",
        f'<div class="meta">profile <b>{escape(report.profile)}</b> · {len(report.assertions)} assertions · '
        f'{s["inputs"]} input(s) · {s["errors"]} error(s) · {s["warnings"]} warning(s)</div>',
        '<table id="summary"><thead><tr><th>input</th><th>assertions</th><th>errors</th><th>warnings</th>'
        "<th>info</th><th>verdict</th></tr></thead><tbody>",
    ]
    for k, res in enumerate(report.results):
        info = sum(f.severity == "info" for f in res.findings)
        v = '<span class="fail">FAIL</span>' if res.errors else '<span class="pass">PASS</span>'
        parts.append(f'<tr><td><a href="#in-{k}">{escape(res.input)}</a></td><td class="n">{res.checked}</td>'
                     f'<td class="n">{res.errors}</td><td class="n">{res.warnings}</td><td class="n">{info}</td>'
                     f"<td>{v}</td></tr>")
    parts.append("</tbody></table>")
    if report.vendor is not None:
        parts.append(_vendor(report.vendor))
    for k, res in enumerate(report.results):
        parts.append(f'<h2 id="in-{k}">{escape(res.input)}</h2>')
        if res.findings:
            parts.append('<table class="findings"><thead><tr><th>#</th><th>severity</th><th>assertion</th>'
                         "<th>location</th><th>finding</th><th>reference</th></tr></thead><tbody>")
            for i, f in enumerate(res.findings, 1):
                parts.append(f'<tr><td class="n">{i}</td><td class="sev-{f.severity}">{f.severity}</td>'
                             f"<td><code>{escape(f.assertion)}</code></td><td><code>{escape(f.location)}</code></td>"
                             f'<td>{escape(f.message)}</td><td class="ref">{_reference(f.reference)}</td></tr>')
            parts.append("</tbody></table>")
        else:
            parts.append('<p class="pass">no findings</p>')
        if res.text:
            parts.append(f'<pre class="msg">{_highlight(res.text, res.findings)}</pre>')
        elif res.raw:
            parts.append(f'<pre class="msg hex">{_hexdump(res.raw, res.findings)}</pre>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _vendor(vendor) -> str:  # noqa: ANN001
    rows = ['<h2 id="vendor">Vendor capability statement</h2>']
    d = vendor.to_dict()
    rows.append(f'<div class="meta">{escape(d.get("vendor", ""))} {escape(d.get("product", ""))}</div>')
    rows.append('<table id="vendor-table"><thead><tr><th>aspect</th><th>claimed, not exercised</th>'
                "<th>exercised, not claimed</th></tr></thead><tbody>")
    for aspect, row in d.get("aspects", {}).items():
        rows.append(f"<tr><td>{escape(aspect)}</td><td>{escape(', '.join(row['claimed_not_exercised']))}</td>"
                    f"<td>{escape(', '.join(row['exercised_not_claimed']))}</td></tr>")
    rows.append("</tbody></table>")
    if vendor.findings:
        rows.append("<table><thead><tr><th>severity</th><th>assertion</th><th>finding</th></tr></thead><tbody>")
        for f in vendor.findings:
            rows.append(f'<tr><td class="sev-{f.severity}">{f.severity}</td><td><code>{escape(f.assertion)}</code>'
                        f"</td><td>{escape(f.message)}</td></tr>")
        rows.append("</tbody></table>")
    return "\n".join(rows)
