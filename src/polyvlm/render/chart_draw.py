"""A ChartData drawn by matplotlib (Agg, no display) into a PNG, with each mark's and each text's pixel box.

matplotlib is the renderer: a well-kept library whose every bar, wedge and point is an artist that
reports its own extent after drawing, so the boxes come from the same draw as the pixels. The figure is
drawn once on an Agg canvas and that buffer is the image (no `savefig` re-layout, no `bbox_inches`
crop), so boxes are image coordinates. Text uses one CJK font file (fontconfig's Noto Sans CJK JP by
default) that also covers Latin, Cyrillic, Greek and Hangul; a glyph the font lacks is reported, not drawn
as a box (`missing_glyphs`).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from polyvlm.render.chart_data import ChartData, format_number

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


@dataclass(slots=True)
class RenderedChart:
    """The PNG, its size, every mark (box, a point inside it, colour) and text box, and the font drawn with."""

    png: bytes
    width: int
    height: int
    marks: list[dict[str, Any]]
    texts: list[dict[str, Any]]
    font: str
    missing_glyphs: list[str] = field(default_factory=list)


def _box(extent: Any, height: int) -> list[float]:
    """A display-space Bbox (origin bottom-left) as [x0, y0, x1, y1] in image pixels (origin top-left)."""
    x0, y0, x1, y1 = (float(v) for v in (extent.x0, extent.y0, extent.x1, extent.y1))
    return [round(x0, 1), round(height - y1, 1), round(x1, 1), round(height - y0, 1)]


def _point(x: float, y: float, height: int) -> list[float]:
    return [round(float(x), 1), round(height - float(y), 1)]


def _square(x: float, y: float, r: float, height: int) -> list[float]:
    """The box of a round marker of radius r (pixels) centred on display point (x, y)."""
    x, y = float(x), height - float(y)
    return [round(x - r, 1), round(y - r, 1), round(x + r, 1), round(y + r, 1)]


def _draw_bars(ax: Any, data: ChartData) -> list[tuple[Any, str, str, float]]:
    """Bars (one, grouped or stacked), labelled with their values; (patch, series, category, value) each."""
    n, k = len(data.categories), len(data.series)
    stacked = data.kind == "stacked_bar"
    width = 0.7 if stacked or k == 1 else 0.8 / k
    bottoms = [0.0] * n
    out = []
    for j, s in enumerate(data.series):
        xs = [i if stacked or k == 1 else i - 0.4 + width * (j + 0.5) for i in range(n)]
        bars = ax.bar(
            xs, s.values, width, bottom=bottoms if stacked else None, color=PALETTE[j], label=s.name
        )
        labels = [format_number(v, data.decimals) for v in s.values]
        ax.bar_label(bars, labels=labels, label_type="center" if stacked else "edge", fontsize=8, padding=2)
        out += [(p, s.name, c, v) for p, c, v in zip(bars.patches, data.categories, s.values, strict=True)]
        if stacked:
            bottoms = [b + v for b, v in zip(bottoms, s.values, strict=True)]
    ax.set_xticks(range(n), data.categories, rotation=30 if n > 5 else 0, ha="right" if n > 5 else "center")
    ax.set_xlabel(data.category_label)
    ax.set_ylabel(f"{data.value_label}（{data.unit}）")
    ax.margins(y=0.12)
    return out


def draw_chart(data: ChartData, font_path: str, width: int = 800, height: int = 600) -> RenderedChart:
    """Draw `data` at width x height pixels; marks and texts measured from the very draw that made the PNG."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties, fontManager

    fontManager.addfont(font_path)  # idempotent: makes the family name resolvable for tick labels drawn later
    font = FontProperties(fname=font_path).get_name()
    with warnings.catch_warnings(record=True) as caught, matplotlib.rc_context({"font.family": [font]}):
        warnings.simplefilter("always")
        fig = Figure(figsize=(width / 100, height / 100), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title(data.title, fontsize=14)
        marks: list[dict[str, Any]] = []
        if data.kind in ("bar", "grouped_bar", "stacked_bar"):
            bars = _draw_bars(ax, data)
        elif data.kind == "line":
            for j, s in enumerate(data.series):
                ax.plot(data.categories, s.values, marker="o", color=PALETTE[j], label=s.name, markersize=7)
                for i, v in enumerate(s.values):
                    ax.annotate(
                        format_number(v, data.decimals),
                        (i, v),
                        textcoords="offset points",
                        xytext=(0, 7),
                        ha="center",
                        fontsize=8,
                    )
            ax.set_xlabel(data.category_label)
            ax.set_ylabel(f"{data.value_label}（{data.unit}）")
            ax.margins(y=0.15)
        elif data.kind == "pie":
            values = data.series[0].values
            wedges, _ = ax.pie(
                values,
                labels=data.categories,
                colors=PALETTE[: len(values)],
                startangle=90,
                counterclock=False,
                wedgeprops={"edgecolor": "white", "linewidth": 1},
            )
            for w, v in zip(wedges, values, strict=True):
                mid = math.radians((w.theta1 + w.theta2) / 2)
                ax.text(
                    0.68 * math.cos(mid),
                    0.68 * math.sin(mid),
                    format_number(v, data.decimals, data.unit),
                    ha="center",
                    va="center",
                    fontsize=9,
                )
            ax.set_aspect("equal")
        elif data.kind == "scatter":
            values = data.series[0].values
            ax.scatter(data.x_values, values, s=60, color=PALETTE[0])
            for name, x, y in zip(data.categories, data.x_values, values, strict=True):
                ax.annotate(name, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=9)
            ax.set_xlabel(f"{data.x_label}（{data.x_unit}）")
            ax.set_ylabel(f"{data.value_label}（{data.unit}）")
            ax.margins(0.1)
        else:
            raise ValueError(f"unknown chart kind {data.kind!r}")
        if len(data.series) > 1:
            ax.legend(loc="best", fontsize=9)
        fig.tight_layout()
        canvas.draw()
        renderer = canvas.get_renderer()
        if data.kind in ("bar", "grouped_bar", "stacked_bar"):
            for patch, series, category, value in bars:
                box = _box(patch.get_window_extent(renderer), height)
                # a point in the lower quarter of the bar: a stacked bar's value label sits at its middle
                inside = [round((box[0] + box[2]) / 2, 1), round(box[1] + 0.75 * (box[3] - box[1]), 1)]
                marks.append(
                    {
                        "type": "bar",
                        "series": series,
                        "category": category,
                        "value": value,
                        "box": box,
                        "inside": inside,
                        "color": patch.get_facecolor(),
                    }
                )
        elif data.kind == "line":
            for j, (line, s) in enumerate(zip(ax.get_lines(), data.series, strict=True)):
                r = line.get_markersize() * fig.dpi / 72 / 2
                pts = ax.transData.transform(list(zip(range(len(s.values)), s.values, strict=True)))
                for (x, y), c, v in zip(pts, data.categories, s.values, strict=True):
                    box = _square(x, y, r, height)
                    marks.append(
                        {
                            "type": "point",
                            "series": s.name,
                            "category": c,
                            "value": v,
                            "box": box,
                            "inside": _point(x, y, height),
                            "color": PALETTE[j],
                        }
                    )
        elif data.kind == "pie":
            center = ax.transData.transform((0, 0))
            for w, c, v in zip(wedges, data.categories, data.series[0].values, strict=True):
                mid = math.radians((w.theta1 + w.theta2) / 2)
                inner = ax.transData.transform((0.35 * math.cos(mid), 0.35 * math.sin(mid)))
                marks.append(
                    {
                        "type": "wedge",
                        "series": data.series[0].name,
                        "category": c,
                        "value": v,
                        "box": _box(w.get_window_extent(renderer), height),
                        "inside": _point(*inner, height),
                        "color": w.get_facecolor(),
                        "center": _point(*center, height),
                    }
                )
        else:
            r = math.sqrt(60) * fig.dpi / 72 / 2
            pts = ax.transData.transform(list(zip(data.x_values, data.series[0].values, strict=True)))
            for (x, y), c, v, xv in zip(
                pts, data.categories, data.series[0].values, data.x_values, strict=True
            ):
                box = _square(x, y, r, height)
                marks.append(
                    {
                        "type": "point",
                        "series": data.series[0].name,
                        "category": c,
                        "value": v,
                        "x_value": xv,
                        "box": box,
                        "inside": _point(x, y, height),
                        "color": PALETTE[0],
                    }
                )
        for m in marks:
            m["color"] = matplotlib.colors.to_hex(m["color"])
        texts = _texts(fig, ax, renderer, height)
        buf = io.BytesIO()
        from PIL import Image

        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB").save(
            buf, format="PNG", optimize=False
        )
    missing = sorted({str(w.message) for w in caught if "missing from font" in str(w.message)})
    return RenderedChart(buf.getvalue(), width, height, marks, texts, font_path, missing)


def _texts(fig: Any, ax: Any, renderer: Any, height: int) -> list[dict[str, Any]]:
    """Title, axis labels, tick labels and legend entries that were drawn, with their boxes."""
    found = [("title", ax.title), ("x_label", ax.xaxis.label), ("y_label", ax.yaxis.label)]
    found += [("x_tick", t) for t in ax.get_xticklabels()] + [("y_tick", t) for t in ax.get_yticklabels()]
    found += [("label", t) for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        found += [("legend", t) for t in legend.get_texts()]
    out = []
    for role, t in found:
        if t.get_text() and t.get_visible():
            out.append(
                {"role": role, "text": t.get_text(), "box": _box(t.get_window_extent(renderer), height)}
            )
    return out
