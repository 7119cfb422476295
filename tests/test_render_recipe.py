"""recipes/ja-render.yaml end to end on two real Japanese pages: rendered and synthetic samples, the OCR gate, card."""

from __future__ import annotations

import json
import os
import shutil

import yaml

from engine_outputs import parquet_records
from polyvlm.core.recipe import load_recipe
from polyvlm.engine.run import run_recipe


def test_the_render_recipe_writes_gated_samples_and_a_card(root, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("python-readability__utf-8-kanji.sample.html", "postlight__www.ipa.go.jp.html"):
        if (root / "examples/data/ja-pages" / name).is_file():
            shutil.copy(root / "examples/data/ja-pages" / name, pages / name)
    assert len(os.listdir(pages)) >= 1
    recipe = yaml.safe_load((root / "recipes/ja-render.yaml").read_text(encoding="utf-8"))
    recipe["inputs"][0]["path"] = f"{pages}/*.html"
    for step in recipe["steps"]:
        if "render_pages" in step:
            step["render_pages"].update(width=640, height=720)
        if "synth_ocr" in step:
            step["synth_ocr"].update(width=512, height=512)
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    out = str(tmp_path / "out")
    stats = run_recipe(load_recipe(str(path)), out, workers=1, progress=False)
    assert stats["balanced"], stats["totals"]
    samples = parquet_records(out, "samples")
    tasks = sorted(s["task"] for s in samples)
    n = len(os.listdir(pages))
    dropped = stats["totals"]["rejected"]
    assert len(samples) + dropped == 2 * n  # a page and a synthetic image per document, each kept or dropped
    assert {"render_page", "synth_ocr"} & set(tasks)
    for s in samples:
        assert s["metadata"]["ocr"]["cer"] <= 0.15
        assert s["messages"][0]["content"].startswith("<image>\n")
        assert s["provenance"]["license"] == "see examples/data/PROVENANCE.md"
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        report = f.read()
    assert "OCR read-back (character error rate)" in report
    with open(
        os.path.join(out, "messages", os.listdir(os.path.join(out, "messages"))[0]), encoding="utf-8"
    ) as f:
        assert json.loads(f.readline())["messages"]
    # a second run resumes: nothing is made again, nothing doubled
    again = run_recipe(load_recipe(str(path)), out, workers=1, progress=False)
    assert len(parquet_records(out, "samples")) == len(samples)
    assert again["balanced"]
