"""The leaderboard draws each metric on its own stated scale, names the judge only for judged metrics, and
merges runs of one model (the newest run of a task shown, the older named)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyvlm.eval.report import render_html, render_markdown
from polyvlm.eval.report_data import collect_runs, merge_runs
from polyvlm.eval.report_scales import metric_scale

BAR_SPAN = 560 - 220 - 70  # report_svg's chart width less its label and value margins


def write_run(root: Path, run: str, task: str, model: str, finished: str, metrics: dict[str, float]) -> None:
    out = root / run / task / model
    out.mkdir(parents=True)
    line = {m: {"overall_score": v, "details": {"n": 10}} for m, v in metrics.items()}
    (out / "evaluation.jsonl").write_text(json.dumps(line) + "\n")
    manifest = {"task": task, "judge": {"spec": "openai:judge-x@http://127.0.0.1:1/v1"}, "finished": finished}
    (out / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def runs(tmp_path):
    write_run(
        tmp_path, "old", "t1", "m", "2026-01-01T00:00:00+00:00", {"llm_judge_vila": 2.0, "exact_match": 50.0}
    )
    write_run(
        tmp_path, "new", "t1", "m", "2026-02-01T00:00:00+00:00", {"llm_judge_vila": 4.0, "exact_match": 80.0}
    )
    write_run(tmp_path, "old", "t2", "m", "2026-01-01T00:00:00+00:00", {"mme": 1500.0})
    write_run(
        tmp_path,
        "new",
        "t1",
        "other",
        "2026-02-01T00:00:00+00:00",
        {"llm_judge_vila": 5.0, "exact_match": 20.0},
    )
    return collect_runs([tmp_path / "old", tmp_path / "new"])


def test_runs_of_one_model_merge_into_one_row(runs):
    merged = {(r.model, r.task): r for r in merge_runs(runs)}
    assert len(runs) == 4 and len(merged) == 3
    assert merged["m", "t1"].run == "new" and merged["m", "t1"].superseded == ["old"]
    assert merged["m", "t1"].metrics["llm_judge_vila"]["overall_score"] == 4.0
    assert merged["m", "t2"].run == "old" and not merged["m", "t2"].superseded
    html = render_html(runs)
    assert html.count("<tr><th>m</th>") == 1 and "run new, newest of 2 runs" in html
    md = render_markdown(runs)
    assert sum(line.startswith("| m |") for line in md.splitlines()) == 1


def test_each_metric_on_its_own_scale(runs):
    assert (metric_scale("llm_judge_vila").low, metric_scale("llm_judge_vila").high) == (1.0, 5.0)
    assert metric_scale("heron_judge", [112.0]).high == 112.0  # widened to hold a value past the range
    html = render_html(runs)
    assert "t1 · llm_judge_vila (scale 1-5)" in html and "t2 · mme (scale 0-2000)" in html
    assert "exact_match · scale 0-100" in html  # stated in the leaderboard's header too
    # a 4.0 on 1-5 is three quarters of a bar, a 5.0 a full one; 80 on 0-100 is four fifths
    assert f'width="{0.75 * BAR_SPAN:.1f}"' in html and f'width="{1.0 * BAR_SPAN:.1f}"' in html
    assert f'width="{0.8 * BAR_SPAN:.1f}"' in html
    assert f'width="{0.2 * BAR_SPAN:.1f}"' in html  # "other"'s 20 on 0-100, not its share of the best value


def test_the_judge_is_named_only_for_judged_metrics(runs):
    html = render_html(runs)
    # every manifest names the judge, but only llm_judge_vila's table (task t1: two models) shows it
    assert html.count("openai:judge-x") == 2 and html.count("<th>judge</th>") == 1
