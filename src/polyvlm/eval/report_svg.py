"""Inline SVG bar charts with confidence-interval whiskers (no plotting library; every label escaped)."""

from __future__ import annotations

from html import escape

from polyvlm.eval.report_scales import MetricScale

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D")


def bar_chart(
    title: str,
    bars: list[tuple[str, float | None, float | None, float | None]],
    scale: MetricScale | None = None,
    width: int = 560,
) -> str:
    """Horizontal bars (label, value, ci_low, ci_high) on the metric's own scale, which the chart states
    (a full bar is the top of the scale, never the best value shown); a missing value is "n/a", never zero."""
    scale = scale or MetricScale(
        0.0, max([1.0] + [v for _, v, _, hi in bars for v in (v, hi) if v is not None])
    )
    row_h, left, right = 26, 220, 70
    height = 46 + row_h * len(bars)
    span = width - left - right

    def x(value: float) -> float:
        return left + span * min(max(scale.fraction(value), 0.0), 1.0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)} ({scale.label()})"><text x="4" y="16" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>"
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
            f'<rect x="{left}" y="{y + 3}" width="{max(x(value) - left, 1):.1f}" height="{row_h - 8}" fill="{color}"/>'
        )
        if lo is not None and hi is not None:
            x1, x2, mid = x(lo), x(hi), y + row_h / 2 - 1
            parts.append(
                f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{mid}" y2="{mid}" stroke="#222" stroke-width="1.5"/>'
                f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{mid - 5}" y2="{mid + 5}" stroke="#222"/>'
                f'<line x1="{x2:.1f}" x2="{x2:.1f}" y1="{mid - 5}" y2="{mid + 5}" stroke="#222"/>'
            )
        end = x(max(value, hi if hi is not None else value))
        parts.append(f'<text x="{end + 5:.1f}" y="{y + 15}" font-size="11">{value:.2f}</text>')
    # the axis: where the scale starts and ends, so a bar's length reads against the metric's own range
    axis_y = 30 + row_h * len(bars)
    parts.append(
        f'<line x1="{left}" x2="{left + span}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/>'
        f'<text x="{left}" y="{axis_y + 13}" font-size="10" fill="#666">{scale.low:g}</text>'
        f'<text x="{left + span}" y="{axis_y + 13}" font-size="10" fill="#666" text-anchor="end">{scale.high:g}</text>'
        f'<text x="{left + span / 2:.1f}" y="{axis_y + 13}" font-size="10" fill="#666" text-anchor="middle">'
        f"{escape(scale.label())}</text></svg>"
    )
    return "".join(parts)
