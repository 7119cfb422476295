"""The dataset-card part of report.html for conversations: counts, model-call totals, a gallery of samples."""

from __future__ import annotations

from html import escape
from typing import Any

from polyvlm.synth.categories import CATEGORIES

TOTALS = ("calls", "cache_hits", "retries", "prompt_tokens", "completion_tokens", "cost_usd")


def _sample(entry: dict[str, Any]) -> str:
    thumb = f'<img src="{escape(entry["thumb"])}" alt="">' if entry.get("thumb") else ""
    turns = "".join(
        f"<p><b>{escape(role)}</b> {escape(content)}</p>" for role, content in entry.get("messages", [])
    )
    why = (
        f"<div class=why>{escape(entry['step'])}: {escape(entry['reason'])}</div>"
        if entry.get("reason")
        else ""
    )
    meta = " · ".join(escape(str(entry.get(k) or "")) for k in ("task", "language", "generator", "license"))
    return f"<div class=sample>{thumb}<small>{escape(entry['id'])} · {meta}</small>{why}{turns}</div>"


def cer_histogram_html(bins: dict[str, int]) -> str:
    """The OCR read-back CER of rendered/synthetic samples as a bar table, kept and dropped (empty without any)."""
    if not bins:
        return ""
    edges = sorted({key.split("|")[1] for key in bins}, key=float)
    top = max(bins.values())
    rows = ""
    for edge in edges:
        kept, dropped = bins.get(f"kept|{edge}", 0), bins.get(f"dropped|{edge}", 0)
        bar = (
            f'<span style="display:inline-block;height:10px;width:{200 * kept / top:.0f}px;background:#4a7"></span>'
            f'<span style="display:inline-block;height:10px;width:{200 * dropped / top:.0f}px;background:#c55"></span>'
        )
        rows += f"<tr><td>{edge}</td><td class=n>{kept}</td><td class=n>{dropped}</td><td>{bar}</td></tr>"
    return (
        "<h2>OCR read-back (character error rate)</h2><table><tr><th>CER from</th><th>kept</th>"
        f"<th>dropped</th><th></th></tr>{rows}</table>"
    )


def category_table_html(categories: dict[str, int]) -> str:
    """Kept samples per Jagle category, in Jagle's order ("-": a task synth/categories.py does not map)."""
    if not categories:
        return ""
    order = [c for c in CATEGORIES if c in categories] + sorted(set(categories) - set(CATEGORIES))
    rows = "".join(f"<tr><td>{escape(c)}</td><td class=n>{categories[c]}</td></tr>" for c in order)
    return f"<h2>Samples per category</h2><table><tr><th>category</th><th>samples</th></tr>{rows}</table>"


def sample_card_html(samples: dict[str, Any], metrics: dict[str, dict[str, float]]) -> str:
    """Counts per generator, language and task; model-call totals; kept and dropped samples."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(part)}</td>" for part in key.split("|")) + f"<td class=n>{n}</td></tr>"
        for key, n in sorted(samples["counts"].items())
    )
    licenses = "".join(
        "<tr>" + "".join(f"<td>{escape(part)}</td>" for part in key.split("|")) + f"<td class=n>{n}</td></tr>"
        for key, n in sorted(samples.get("licenses", {}).items())
    )
    totals: dict[str, float] = {}
    for counters in metrics.values():
        for k in TOTALS:
            totals[k] = totals.get(k, 0) + counters.get(k, 0)
    calls = "".join(f"<tr><td>{k}</td><td class=n>{v:,.6g}</td></tr>" for k, v in totals.items() if v)
    kept = "".join(_sample(e) for e in samples["kept"]) or "<p>none kept</p>"
    dropped = "".join(
        f"<h3>{escape(key)}</h3>{''.join(_sample(e) for e in entries)}"
        for key, entries in sorted(samples["dropped"].items())
    )
    return (
        "<h2>Samples kept</h2><table><tr><th>generator</th><th>language</th><th>task</th><th>samples</th></tr>"
        f"{rows}</table><p>{samples['turns']} turns in all.</p>"
        + category_table_html(samples.get("categories", {}))
        + "<h2>Licence mix</h2><table><tr><th>source licence</th><th>generator licence</th><th>samples</th></tr>"
        f"{licenses}</table>"
        + (f"<h2>Model calls</h2><table>{calls}</table>" if calls else "")
        + cer_histogram_html(samples.get("ocr_cer", {}))
        + f"<h2>Gallery: kept</h2>{kept}<h2>Gallery: dropped, by rule</h2>{dropped or '<p>nothing dropped</p>'}"
    )
