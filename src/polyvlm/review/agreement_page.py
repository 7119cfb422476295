"""The agreement report as HTML: a table of the figures per group and field, and bar plots of the ratings."""

from __future__ import annotations

from html import escape
from typing import Any

from polyvlm.review.config import ReviewConfig


def bars_svg(distribution: dict[str, int]) -> str:
    """A small bar plot of how often each value was given."""
    top = max([*distribution.values(), 1])
    w, h = 36, 100
    parts = []
    for i, (value, n) in enumerate(distribution.items()):
        bh = 70 * n / top
        x = 4 + i * w
        parts.append(
            f'<rect x="{x}" y="{h - 18 - bh:.1f}" width="{w - 6}" height="{bh:.1f}" fill="#4a7bd0"/>'
            f'<text x="{x + (w - 6) / 2}" y="{h - 21 - bh:.1f}" font-size="10" text-anchor="middle">{n}</text>'
            f'<text x="{x + (w - 6) / 2}" y="{h - 5}" font-size="10" text-anchor="middle">{escape(value)}</text>'
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{8 + w * len(distribution)}" height="{h}">{"".join(parts)}</svg>'


def _fig(entry: dict[str, Any]) -> str:
    if entry.get("value") is None:
        return f'<span class="na" title="{escape(entry.get("reason", ""))}">n/a</span>'
    return f"{entry['value']:.3f}"


def _cohen(pairs: list[dict[str, Any]]) -> str:
    if not pairs:
        return '<span class="na">n/a</span>'
    rows = []
    for p in pairs:
        q = f" (quadratic {_fig(p['kappa_quadratic'])})" if "kappa_quadratic" in p else ""
        rows.append(
            f"{escape(p['pair'][0])}–{escape(p['pair'][1])}: {_fig(p['kappa'])}{q}, {p['items']} items"
        )
    return "<br>".join(rows)


def agreement_html(report: dict[str, Any], config: ReviewConfig) -> str:
    """The report body (escaped; group names come from the data)."""
    out = [f"<p>{report['items']} items, {report['submissions']} current submissions.</p>"]
    for g in report["groups"]:
        title = "All items" if g["by"] == "all" else f"{g['by']}: {g['value']}"
        out.append(f"<h2>{escape(title)} <small>({g['submissions']} submissions)</small></h2>")
        out.append(
            "<table><tr><th>field</th><th>ratings</th><th>items rated 2+ times</th><th>Cohen's kappa (pairs)</th>"
            "<th>Fleiss' kappa</th><th>Krippendorff's alpha</th><th>distribution</th></tr>"
        )
        for f in config.fields:
            a = g["fields"][f.name]
            fl, kr = a["fleiss"], a["krippendorff"]
            out.append(
                f"<tr><td>{escape(f.name)}</td><td>{a['ratings']}</td><td>{a['overlap_items']}</td>"
                f"<td>{_cohen(a['cohen'])}</td><td>{_fig(fl)} ({fl.get('items', 0)} items)</td>"
                f"<td>{_fig(kr)} ({kr['level']}, {kr.get('items', 0)} items)</td>"
                f"<td>{bars_svg(a['distribution'])}</td></tr>"
            )
        out.append("</table>")
    return "\n".join(out)


def agreement_document(report: dict[str, Any], config: ReviewConfig, title: str) -> str:
    """A standalone HTML page of the report (what `polyvlm review agreement` writes)."""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.na{color:#999}</style></head><body>"
        f"<h1>{escape(title)}</h1>{agreement_html(report, config)}</body></html>\n"
    )
