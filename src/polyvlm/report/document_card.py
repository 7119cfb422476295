"""The dataset-card part of report.html for interleaved documents: image drops, histograms, example documents."""

from __future__ import annotations

from html import escape
from typing import Any

from polyvlm.report.pair_card import histogram_svg

TITLES = {
    "images_per_document": "images per document",
    "sentences_per_document": "sentences per document",
    "assigned_similarity": "similarity of each image with its assigned sentence",
}


def _example_html(doc: dict[str, Any]) -> str:
    parts = []
    for item in doc["items"]:
        if "text" in item:
            parts.append(f"<p>{escape(item['text'])}</p>")
            continue
        scores = " · ".join(f"{escape(k)} {v:.3f}" for k, v in sorted(item.get("scores", {}).items()))
        img = (
            f'<img src="{escape(item["thumb"])}" alt="">'
            if item.get("thumb")
            else "<div class=nothumb>no image</div>"
        )
        parts.append(
            f"<figure class=docimg>{img}<figcaption><small>{escape(scores)}<br>"
            f'<span title="{escape(item["url"])}">{escape(item["url"][:70])}</span></small></figcaption></figure>'
        )
    return (
        f"<div class=doc><b>{escape(doc['id'])}</b> <small>{escape(doc['url'])} · placement "
        f"{escape(doc['placement'] or 'none')} · {escape(doc.get('license') or 'licence unknown')}</small>"
        f"{''.join(parts)}</div>"
    )


def document_card_html(docs: dict[str, Any]) -> str:
    """Kept counts, the images removed from documents by step and reason, histograms, example documents."""
    kept = docs["kept"]
    drops = "".join(
        f"<tr><td>{escape(key)}</td><td class=n>{n}</td></tr>"
        for key, n in sorted(docs["image_drops"].items(), key=lambda kv: -kv[1])
    )
    hists = "".join(
        f"<div class=hist><h3>{escape(TITLES.get(name, name))}</h3>{histogram_svg(counts, docs['edges'][name])}</div>"
        for name, counts in docs["hist"].items()
        if sum(counts)
    )
    placement = ", ".join(f"{escape(k)}: {n}" for k, n in sorted(docs["placement"].items()))
    examples = "".join(_example_html(d) for d in docs.get("examples", []))
    return (
        f"<h2>Interleaved documents</h2><p>{kept['documents']} documents kept with {kept['images']} images "
        f"and {kept['sentences']} sentences; placement {placement or 'none'}.</p>"
        f"<h3>Images removed from documents (step: reason)</h3>"
        f"<table><tr><th>step: reason</th><th>images</th></tr>{drops or '<tr><td>none</td><td></td></tr>'}</table>"
        f"<div class=hists>{hists or '<p>no kept documents</p>'}</div>"
        f"<h2>Example documents</h2>{examples or '<p>none kept</p>'}"
    )


DOCUMENT_STYLE = """.doc{border:1px solid #ddd;padding:.6em;margin:.8em 0}.doc p{white-space:pre-wrap;margin:.3em 0}
.docimg{margin:.4em 0}.docimg img{max-width:160px;max-height:160px;display:block}"""
