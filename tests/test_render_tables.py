"""render_tables: merged headers, cell boxes over the cells' text, and answers equal to the data."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image

from polyvlm.core.records import Document
from polyvlm.render.browser import BrowserMissing, chromium_path

try:
    chromium_path()
    import playwright  # noqa: F401
except (BrowserMissing, ImportError):  # pragma: no cover - the CI machine has Chromium
    pytest.skip("Chromium or Playwright missing", allow_module_level=True)

from polyvlm.render.table_step import RenderTables  # noqa: E402

GIVEN = {
    "title": "支店別の売上",
    "header": ["支店", "2023年/上期（億円）", "2023年/下期（億円）", "店舗数"],
    "rows": [["札幌", "12.5", "14.0", "3"], ["東京", "1,230.0", "980.5", "12"], ["福岡", "45.25", "50", "4"]],
}


@pytest.fixture(scope="module")
def tables():
    step = RenderTables(tables_per_record=3, questions=8)
    return step.expand(Document(id="t-seed")), step


def test_tables_have_merged_headers_and_a_box_for_every_cell(tables):
    out, step = tables
    assert len(out) == 3 and step.metrics()["tables_drawn"] == 3
    for s in out:
        assert s.task == "table_qa" and s.metadata["category"] == "chart_table"
        cells = s.metadata["cells"]
        data = s.metadata["data"]
        body = [c for c in cells if c["row"] >= 0]
        assert len(body) == len(data["rows"]) * (len(data["columns"]) + 1)
        assert any(c["colspan"] > 1 for c in cells if c["header"])  # the merged group header
        img = Image.open(io.BytesIO(s.images[0].data)).convert("L")
        for c in cells:
            x0, y0, x1, y1 = c["box"]
            assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height
            # the cell's text is drawn inside its box: dark pixels inside the borders
            inner = np.asarray(img.crop((int(x0) + 3, int(y0) + 3, int(x1) - 3, int(y1) - 3)))
            assert (inner < 110).sum() > 5, c
        for c in body:
            if c["col"] > 0:
                i, j = c["row"], c["col"] - 1
                want = Decimal(str(data["rows"][i][1][j]))
                assert Decimal(c["text"].replace(",", "")) == want


def _check(data: dict, qa: dict) -> None:
    """Recompute an answer from the table data."""
    rows = data["rows"]
    cols = data["columns"]
    q = qa["question"]
    names = [f"{c['group']}・{c['name']}" if c["group"] else c["name"] for c in cols]
    j = max((k for k, n in enumerate(names) if f"「{n}」" in q), key=lambda k: len(names[k]))
    col = [Decimal(str(r[1][j])) for r in rows]
    fmt = lambda v: f"{v:,.{cols[j]['decimals']}f}{cols[j]['unit']}"  # noqa: E731
    named = sorted((q.index(f"「{r[0]}」"), i) for i, r in enumerate(rows) if f"「{r[0]}」" in q)
    if qa["type"] == "cell":
        assert qa["answer"] == fmt(col[named[0][1]])
    elif qa["type"] == "row_max":
        assert qa["answer"] == rows[col.index(max(col))][0]
    elif qa["type"] == "column_sum":
        assert qa["answer"] == fmt(sum(col))
    elif qa["type"] == "row_difference":
        assert qa["answer"] == fmt(abs(col[named[0][1]] - col[named[1][1]]))
    else:
        raise AssertionError(qa)


def test_every_table_answer_equals_the_value_computed_from_the_data(tables):
    n = 0
    for s in tables[0]:
        for qa in s.metadata["qa"]:
            _check(s.metadata["data"], qa)
            n += 1
    assert n >= 9


def test_a_table_from_a_file_keeps_its_units_groups_and_decimals():
    step = RenderTables(questions=8, seed=3)
    (s,) = step.expand(Document(id="csv", metadata={"table": GIVEN}))
    data = s.metadata["data"]
    assert [(c["group"], c["name"], c["unit"], c["decimals"]) for c in data["columns"]] == [
        ("2023年", "上期", "億円", 2),
        ("2023年", "下期", "億円", 1),
        ("", "店舗数", "", 0),
    ]
    assert data["note"] == "（単位：億円）"  # the unit no header shows is printed above the table
    texts = {(c["row"], c["col"]): c["text"] for c in s.metadata["cells"]}
    assert texts[(1, 1)] == "1,230.00" and texts[(2, 2)] == "50.0"
    assert any(c["text"] == "2023年" and c["colspan"] == 2 for c in s.metadata["cells"])
    for qa in s.metadata["qa"]:
        _check(data, qa)


def test_a_table_with_text_in_a_value_column_is_dropped_with_the_reason():
    bad = {**GIVEN, "rows": [["札幌", "多い", "1", "2"]]}
    got = RenderTables().expand(Document(id="bad", metadata={"table": bad}))
    assert getattr(got, "reason", None) == "table_not_numeric"
