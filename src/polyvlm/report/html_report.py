"""report.html: the run's funnel as a bar chart, drop reasons, and a few kept records (all escaped)."""

from __future__ import annotations

from html import escape
from typing import Any

from polyvlm.core.recipe import Recipe
from polyvlm.report.document_card import DOCUMENT_STYLE, document_card_html
from polyvlm.report.pair_card import CARD_STYLE, pair_card_html
from polyvlm.report.sample_card import sample_card_html

_STYLE = """body{font-family:system-ui,'Noto Sans CJK JP',sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b00}.sample{border:1px solid #ddd;padding:.6em;margin:.6em 0}
.sample p{white-space:pre-wrap;margin:.3em 0}small{color:#666}.sample img{max-width:160px;max-height:160px;float:right;margin-left:.6em}"""


def funnel_svg(stats: dict[str, Any]) -> str:
    """Horizontal bars: records in, then what leaves each step."""
    bars = [("records in", stats["totals"]["records_in"])] + [(s["label"], s["out"]) for s in stats["steps"]]
    top = max([n for _, n in bars] + [1])
    height = 26 * len(bars) + 10
    rows = []
    for i, (label, n) in enumerate(bars):
        width = 520 * n / top
        y = 8 + 26 * i
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="13">{escape(label)}</text>'
            f'<rect x="200" y="{y}" width="{width:.1f}" height="18" fill="#4a7bd0"/>'
            f'<text x="{205 + width:.1f}" y="{y + 14}" font-size="12">{n}</text>'
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="{height}">{"".join(rows)}</svg>'


def render_report(recipe: Recipe, stats: dict[str, Any]) -> str:
    """The whole page."""
    t = stats["totals"]
    reasons = []
    for reason, n in sorted(stats["read"]["errors"].items()):
        reasons.append(f"<tr><td>read</td><td>error: {escape(reason)}</td><td class=n>{n}</td></tr>")
    for reason, n in sorted(stats["read"]["skipped"].items()):
        reasons.append(f"<tr><td>read</td><td>skipped: {escape(reason)}</td><td class=n>{n}</td></tr>")
    for s in stats["steps"]:
        for reason, n in sorted(s["dropped"].items(), key=lambda kv: -kv[1]):
            reasons.append(
                f"<tr><td>{escape(s['label'])}</td><td>{escape(reason)}</td><td class=n>{n}</td></tr>"
            )
        if s["errors"]:
            reasons.append(
                f"<tr><td>{escape(s['label'])}</td><td class=bad>errors</td><td class=n>{s['errors']}</td></tr>"
            )
    samples = "".join(
        f"<div class=sample><b>{escape(x.get('title') or x['id'])}</b> <small>{escape(x.get('url', ''))} · "
        f"{escape(x.get('language', ''))} · {x.get('images', 0)} images</small><p>{escape(x.get('text', ''))}</p></div>"
        for x in stats.get("samples", [])
    )
    written = "".join(
        f"<tr><td>{escape(k)}</td><td class=n>{v}</td></tr>" for k, v in stats["written"].items()
    )
    made = f" (+{t['created']} made by expand steps)" if t.get("created") else ""
    metrics = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(k)}</td><td class=n>{v:,.6g}</td></tr>"
        for label, counters in stats.get("metrics", {}).items()
        for k, v in sorted(counters.items())
    )
    if metrics:
        metrics = f"<h2>Step counters</h2><table><tr><th>step</th><th>counter</th><th>value</th></tr>{metrics}</table>"
    card = pair_card_html(stats["pairs"]) if stats.get("pairs") else ""
    if stats.get("conversations"):
        card += sample_card_html(stats["conversations"], stats.get("metrics", {}))
    if stats.get("interleaved"):
        card += document_card_html(stats["interleaved"])
    balance = (
        "" if stats["balanced"] else "<p class=bad>The counts do not add up: please report this run.</p>"
    )
    return f"""<!doctype html><html lang=en><meta charset=utf-8><title>polyvlm run: {escape(recipe.name)}</title>
<style>{_STYLE}
{CARD_STYLE}
{DOCUMENT_STYLE}</style><h1>{escape(recipe.name)}</h1>
<p>{stats["files"]} input files · engine {escape(stats["engine"])} · {stats["seconds"]} s ·
recipe <code>{escape(recipe.path)}</code> <small>sha256 {recipe.hash[:12]}</small></p>
<h2>Funnel</h2>{funnel_svg(stats)}
<p>{t["records_in"]} records in{made}: <b>{t["kept"]}</b> kept, {t["rejected"]} rejected (see <code>rejects/</code>),
{t["errors"]} errors (see <code>errors.jsonl</code>).</p>{balance}
<h2>Drop reasons</h2><table><tr><th>step</th><th>reason</th><th>records</th></tr>{"".join(reasons)}</table>
<h2>Outputs</h2><table><tr><th>output</th><th>records</th></tr>{written}</table>{metrics}
{card}{"<h2>Sample records</h2>" + samples if samples else ""}
</html>"""
