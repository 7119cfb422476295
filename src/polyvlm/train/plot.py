"""The loss curve as a small hand-written SVG (no plotting library needed): loss per step, stages marked."""

from __future__ import annotations

import html

WIDTH, HEIGHT, PAD = 640, 320, 48


def loss_curve_svg(records: list[dict], title: str) -> str:
    """An SVG line chart of ``loss`` against ``global_step``, one dashed line at each stage start."""
    if not records:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"></svg>'
    xs = [r["global_step"] for r in records]
    ys = [r["loss"] for r in records]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(0.0, min(ys)), max(ys) * 1.05 or 1.0

    def px(x: float) -> float:
        return PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)

    def py(y: float) -> float:
        return HEIGHT - PAD - (y - y0) / (y1 - y0) * (HEIGHT - 2 * PAD)

    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="black"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="black"/>',
    ]
    for k in range(5):
        y = y0 + (y1 - y0) * k / 4
        parts.append(f'<text x="{PAD - 4}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.2f}</text>')
    for k in range(5):
        x = x0 + (x1 - x0) * k / 4
        parts.append(f'<text x="{px(x):.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle">{x:.0f}</text>')
    starts = {}
    for r in records:
        starts.setdefault(r["stage_name"], r["global_step"])
    for name, x in list(starts.items())[1:]:
        parts.append(
            f'<line x1="{px(x):.1f}" y1="{PAD}" x2="{px(x):.1f}" y2="{HEIGHT - PAD}" stroke="grey" stroke-dasharray="4"/>'
        )
        parts.append(f'<text x="{px(x) + 3:.1f}" y="{PAD + 10}">{html.escape(name)}</text>')
    parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">step</text>')
    parts.append(
        f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" text-anchor="middle">loss</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
