"""The dataset-card part of report.html for a pair corpus: histograms and a gallery of kept and dropped pairs."""

from __future__ import annotations

from html import escape
from typing import Any

TITLES = {
    "alt_length": "alt text length (characters)",
    "image_min_side": "image size (shorter side, px)",
    "nsfw": "NSFW score",
    "clip": "CLIP image-text similarity",
}


def histogram_svg(counts: list[int], edges: list[float]) -> str:
    """Vertical bars with the bin edges under them."""
    top = max(counts + [1])
    bar_w, h = 34, 110
    parts = []
    for i, n in enumerate(counts):
        bh = 90 * n / top
        x = 4 + i * bar_w
        parts.append(
            f'<rect x="{x}" y="{h - 20 - bh:.1f}" width="{bar_w - 4}" height="{bh:.1f}" fill="#4a7bd0"/>'
            f'<text x="{x + (bar_w - 4) / 2}" y="{h - 23 - bh:.1f}" font-size="10" text-anchor="middle">{n or ""}</text>'
            f'<text x="{x}" y="{h - 6}" font-size="9">{edges[i]:g}</text>'
        )
    width = 8 + bar_w * len(counts)
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}">{"".join(parts)}</svg>'


def _card(entry: dict[str, Any]) -> str:
    thumb = (
        f'<img src="{escape(entry["thumb"])}" alt="">'
        if entry.get("thumb")
        else "<div class=nothumb>no image</div>"
    )
    scores = " · ".join(f"{escape(k)} {v:.3f}" for k, v in sorted(entry.get("scores", {}).items()))
    size = entry.get("size") or [None, None]
    dims = f"{size[0]}×{size[1]}" if size[0] else ""
    why = (
        f"<div class=why>{escape(entry['step'])}: {escape(entry['reason'])}</div>"
        if entry.get("reason")
        else ""
    )
    return (
        f"<figure class=pair>{thumb}<figcaption><b>{escape(entry['text'])}</b>{why}"
        f'<small>{escape(dims)} {scores}<br><span title="{escape(entry["url"])}">{escape(entry["url"][:80])}</span>'
        f"</small></figcaption></figure>"
    )


def pair_card_html(pairs: dict[str, Any]) -> str:
    """Histograms of the kept pairs, then the gallery: kept pairs, and pairs dropped per rule."""
    hists = []
    for name, counts in pairs["hist"].items():
        if sum(counts):
            hists.append(
                f"<div class=hist><h3>{escape(TITLES.get(name, name))}</h3>"
                f"{histogram_svg(counts, pairs['edges'][name])}</div>"
            )
    kept = "".join(_card(e) for e in pairs["kept"]) or "<p>none kept</p>"
    dropped = "".join(
        f"<h3>{escape(key)}</h3><div class=gallery>{''.join(_card(e) for e in entries)}</div>"
        for key, entries in sorted(pairs["dropped"].items())
    )
    return (
        f"<h2>Kept pairs</h2><div class=hists>{''.join(hists) or '<p>no kept pairs</p>'}</div>"
        f"<h2>Gallery: kept</h2><div class=gallery>{kept}</div>"
        f"<h2>Gallery: dropped, by rule</h2>{dropped or '<p>nothing dropped</p>'}"
    )


CARD_STYLE = """.hists{display:flex;flex-wrap:wrap;gap:1.5em}.hist h3{font-size:.95em;margin:.2em 0}
.gallery{display:flex;flex-wrap:wrap;gap:.8em}.pair{width:180px;margin:0;border:1px solid #ddd;padding:.4em}
.pair img{max-width:160px;max-height:160px;display:block}.nothumb{width:160px;height:60px;background:#eee;color:#888;
font-size:.8em;display:flex;align-items:center;justify-content:center}.pair figcaption{font-size:.85em;word-break:break-all}
.why{color:#b00;font-size:.9em}"""
