"""Jagle's categories: every generated sample carries one, the card counts them, a reader's samples get one by step."""

from __future__ import annotations

from engine_outputs import parquet_records
from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Sample
from polyvlm.engine.run import run_recipe
from polyvlm.synth.categories import CATEGORIES, TASK_CATEGORY, Categorize, category_of


def test_every_task_maps_to_one_of_jagles_five():
    assert set(TASK_CATEGORY.values()) == set(CATEGORIES)
    step = Categorize()
    caption = step.apply(Sample(id="c", task="captions"))
    assert caption.metadata["category"] == "captioning_knowledge"
    chart = step.apply(Sample(id="t", task="photo_qa", metadata={"category": "chart_table"}))
    assert chart.metadata["category"] == "chart_table"  # a category already carried is kept
    unknown = step.apply(Sample(id="u", task="something_new"))
    assert "category" not in unknown.metadata and step.metrics()["uncategorized"] == 1
    assert category_of(Sample(id="x", task="synth_ocr")) == "naive_ocr"


def test_the_ocr_photos_run_carries_categories_and_the_card_counts_them(root, tmp_path):
    stats = run_recipe(
        load_recipe(str(root / "recipes/ja-ocr-photos.yaml")), str(tmp_path), workers=1, progress=False
    )
    samples = parquet_records(str(tmp_path), "samples")
    by_category: dict[str, int] = {}
    for s in samples:
        by_category[s["metadata"]["category"]] = by_category.get(s["metadata"]["category"], 0) + 1
        assert s["metadata"]["category"] == s["task"]  # naive_ocr and ocr_qa are both task and category
    assert set(by_category) == {"naive_ocr", "ocr_qa"} and stats["balanced"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Samples per category" in page
    table = page.split("Samples per category", 1)[1].split("</table>", 1)[0]
    for category, n in by_category.items():
        assert f"<td>{category}</td><td class=n>{n}</td>" in table
