"""render_charts: every kind draws its Japanese text with real glyphs, mark boxes lie on the marks, answers equal the data."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("matplotlib")

from polyvlm.core.records import Document  # noqa: E402
from polyvlm.render.chart_data import CHART_KINDS, ChartData, Series  # noqa: E402
from polyvlm.render.chart_step import RenderCharts  # noqa: E402
from polyvlm.render.font_files import FontMissing, font_file  # noqa: E402

try:
    FONT = font_file("Noto Sans CJK JP")[0]
except FontMissing:  # pragma: no cover - the CI machine has fonts-noto-cjk
    pytest.skip("Noto Sans CJK JP is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def charts():
    step = RenderCharts(charts_per_record=len(CHART_KINDS), kinds=list(CHART_KINDS), questions=8)
    out = step.expand(Document(id="seed-a"))
    return {s.metadata["chart_kind"]: s for s in out}, step


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_every_kind_is_drawn_with_category_and_mark_boxes(charts):
    by_kind, step = charts
    assert set(by_kind) == set(CHART_KINDS)
    for s in by_kind.values():
        assert s.task == "chart_qa" and s.metadata["category"] == "chart_table"
        assert s.messages[0].content.startswith("<image>\n")
    assert step.metrics()["charts_drawn"] == len(CHART_KINDS)


def test_japanese_text_is_drawn_with_glyphs_not_boxes(charts):
    from matplotlib.ft2font import FT2Font

    face = FT2Font(FONT)
    for kind, s in charts[0].items():
        assert s.metadata["spec"]["font_file"] == FONT
        title = next(t for t in s.metadata["texts"] if t["role"] == "title")
        assert title["text"] == s.metadata["data"]["title"]
        # the font has every character of every drawn text (a missing one would be tofu)
        for t in s.metadata["texts"]:
            assert all(face.get_char_index(ord(c)) for c in t["text"] if not c.isspace()), (kind, t["text"])
        # and the title's box holds ink: dark pixels where the title was measured
        img = Image.open(io.BytesIO(s.images[0].data)).convert("L")
        x0, y0, x1, y1 = title["box"]
        crop = img.crop((int(x0), int(y0), int(x1) + 1, int(y1) + 1))
        dark = int((np.asarray(crop) < 100).sum())
        assert dark > 0.03 * crop.width * crop.height, kind


def test_a_script_the_font_lacks_is_dropped_not_drawn_as_boxes():
    data = ChartData("bar", "ภาษาไทย", "言語", "人数", "人", 0, ["ไทย", "日本"], [Series("人数", [3.0, 5.0])])
    step = RenderCharts()
    got = step.expand(Document(id="x", metadata={"chart": data.to_dict()}))
    assert getattr(got, "reason", None) == "glyph_missing"


def test_mark_boxes_lie_inside_the_image_and_over_the_mark_colour(charts):
    for kind, s in charts[0].items():
        img = Image.open(io.BytesIO(s.images[0].data)).convert("RGB")
        data = s.metadata["data"]
        marks = s.metadata["marks"]
        assert len(marks) == len(data["categories"]) * len(data["series"]), kind
        for m in marks:
            x0, y0, x1, y1 = m["box"]
            assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height, (kind, m)
            x, y = m["inside"]
            assert x0 <= x <= x1 and y0 <= y <= y1
            got = img.getpixel((int(round(x)), int(round(y))))
            want = _rgb(m["color"])
            assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 12, (kind, m, got)


def _fmt(v: Decimal, d: int, unit: str) -> str:
    return f"{v:,.{d}f}{unit}"


def _expected(data: dict, qa: dict) -> str:
    """The answer computed again from the data, independently of chart_qa."""
    d, unit = data["decimals"], data["unit"]
    q = qa["question"]
    cats = data["categories"]
    series = [s for s in data["series"] if f"「{s['name']}」" in q] or data["series"][:1]
    vals = [Decimal(str(v)) for v in series[0]["values"]]
    named = sorted((q.index(f"「{c}」"), i) for i, c in enumerate(cats) if f"「{c}」" in q)
    if qa["type"] == "value":
        return _fmt(vals[named[0][1]], d, unit)
    if qa["type"] == "max":
        return cats[vals.index(max(vals))]
    if qa["type"] == "min":
        return cats[vals.index(min(vals))]
    if qa["type"] == "x_max":
        return cats[data["x_values"].index(max(data["x_values"]))]
    if qa["type"] == "sum":
        return _fmt(sum(vals), d, unit)
    a = named[0][1]
    if qa["type"] == "stack_sum":
        return _fmt(sum(Decimal(str(s["values"][a])) for s in data["series"]), d, unit)
    b = named[1][1]
    if qa["type"] == "compare":
        return cats[a] if vals[a] > vals[b] else cats[b]
    if qa["type"] == "difference":
        return _fmt(abs(vals[a] - vals[b]), d, unit)
    if qa["type"] == "trend":
        return "増えました" if vals[b] > vals[a] else "減りました"
    raise AssertionError(qa)


@pytest.mark.parametrize("seed", ["seed-a", "seed-b", "seed-c"])
def test_every_answer_equals_the_value_computed_from_the_data(seed):
    step = RenderCharts(charts_per_record=len(CHART_KINDS), questions=8)
    checked = 0
    for s in step.expand(Document(id=seed)):
        data = s.metadata["data"]
        answers = [m.content for m in s.messages if m.role == "assistant"]
        assert answers == [qa["answer"] for qa in s.metadata["qa"]]
        for qa in s.metadata["qa"]:
            assert qa["answer"] == _expected(data, qa), (data["kind"], qa)
            checked += 1
    assert checked >= 20


def test_the_same_seed_draws_the_same_chart():
    a = RenderCharts(charts_per_record=2).expand(Document(id="same"))
    b = RenderCharts(charts_per_record=2).expand(Document(id="same"))
    assert [s.metadata["data"] for s in a] == [s.metadata["data"] for s in b]
    assert [s.messages for s in a] == [s.messages for s in b]
