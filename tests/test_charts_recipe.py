"""recipes/ja-charts.yaml end to end: chart and table samples with exact QA, a card with a gallery, readable by training."""

from __future__ import annotations

import glob
import json

import pytest
import yaml

from engine_outputs import parquet_records
from polyvlm.core.recipe import load_recipe
from polyvlm.engine.run import run_recipe

pytest.importorskip("matplotlib")
pytest.importorskip("playwright")


@pytest.fixture(scope="module")
def charts_run(tmp_path_factory):
    from conftest import ROOT

    tmp = tmp_path_factory.mktemp("charts")
    recipe = yaml.safe_load((ROOT / "recipes/ja-charts.yaml").read_text(encoding="utf-8"))
    for spec in recipe["inputs"]:
        spec["path"] = str(ROOT / spec["path"])
    for step in recipe["steps"]:
        if "render_tables" in step:
            step["render_tables"]["tables_per_record"] = 1
    path = tmp / "r.yaml"
    path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    out = tmp / "out"
    stats = run_recipe(load_recipe(str(path)), str(out), workers=1, progress=False)
    return stats, out


def test_the_recipe_writes_chart_and_table_samples(charts_run):
    stats, out = charts_run
    assert stats["balanced"], stats["totals"]
    samples = parquet_records(str(out), "samples")
    tasks = [s["task"] for s in samples]
    # 4 seeds x 6 charts, 4 seeds x 1 table, and the bundled CSV's table as it is
    assert tasks.count("chart_qa") == 4 * 6 and tasks.count("table_qa") == 4 + 1
    assert {
        json.loads(s["metadata"])["category"] if isinstance(s["metadata"], str) else s["metadata"]["category"]
        for s in samples
    } == {"chart_table"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Gallery" in report and report.count('<img src="data:image/') >= 3


def test_training_reads_the_llava_json_and_its_images(charts_run):
    from polyvlm.train.config import SourceConfig
    from polyvlm.train.data.sources import decode_image, load_source

    _, out = charts_run
    files = glob.glob(str(out / "llava" / "*.json"))
    entries = [e for f in files for e in json.load(open(f, encoding="utf-8"))]
    loaded = load_source(SourceConfig(name="charts", format="llava_json", path=str(out / "llava" / "*.json")))
    assert len(loaded.samples) == len(entries) == 29 and not loaded.dropped
    for sample in loaded.samples[:5]:
        images = [im for seg in sample.segments for im in seg.images]
        assert len(images) == 1 and decode_image(images[0]).size == (800, 600)
