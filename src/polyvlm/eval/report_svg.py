"""Inline SVG bar charts with confidence-interval whiskers (no plotting library; every label escaped)."""

from __future__ import annotations

from html import escape

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")


def bar_chart(
    title: str, bars: list[tuple[str, float | None, float | None, float | None]], width: int = 560
) -> str:
    """Horizontal bars (label, value, ci_low, ci_high); a missing value is drawn as "n/a", never as zero."""
    row_h, left, right = 26, 220, 70
    height = 30 + row_h * len(bars)
    values = [v for _, v, lo, hi in bars for v in (v, hi) if v is not None]
    top = max(values + [1.0])
    scale = (width - left - right) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
    ]
    for i, (label, value, lo, hi) in enumerate(bars):
        y = 26 + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label[:34])}</text>'
        )
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" font-size="12" fill="#888">n/a</text>')
            continue
        color = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(value * scale, 1):.1f}" height="{row_h - 8}" fill="{color}"/>'
        )
        if lo is not None and hi is not None:
            x1, x2, mid = left + lo * scale, left + hi * scale, y + row_h / 2 - 1
            parts.append(
                f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{mid}" y2="{mid}" stroke="#222" stroke-width="1.5"/>'
                f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{mid - 5}" y2="{mid + 5}" stroke="#222"/>'
                f'<line x1="{x2:.1f}" x2="{x2:.1f}" y1="{mid - 5}" y2="{mid + 5}" stroke="#222"/>'
            )
        end = left + max(value, hi or value) * scale
        parts.append(f'<text x="{end + 5:.1f}" y="{y + 15}" font-size="11">{value:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)
