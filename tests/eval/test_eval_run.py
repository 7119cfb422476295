"""The harness end to end against the real local OpenAI-compatible server as model and judge: outputs in the
llm-jp-eval-mm layout, failures (5xx, timeouts, unparsable replies, missing images) counted and never
zeros, judge runs distinct, and a second run that asks nothing again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import harness_scorers  # noqa: F401 -- registers harness_contains and harness_judge
import pytest

from fake_openai_server import FakeOpenAIServer
from polyvlm.clients.chat import LimitsSpec
from polyvlm.eval.adapters.base import GenerationSettings
from polyvlm.eval.adapters.spec import open_adapter
from polyvlm.eval.run import EvalConfig, run_task
from polyvlm.eval.tasks.custom import CustomTask

FAST = LimitsSpec(retries=1, backoff_s=0.01, timeout_s=0.5)
# a stalled answer must outlast the test (the server cancels it on stop): one that finished late would
# count as an answer the second run could be blamed for


def write_task(tmp_path: Path, fixtures: Path) -> Path:
    shutil.copytree(fixtures / "custom/images", tmp_path / "images")
    rows = [
        {"id": "q1", "image": "images/ironing.jpg", "question": "What is he doing?", "reference": "answer", "category": "a"},
        {"id": "q2", "image": "images/lake.jpg", "question": "Where?", "reference": "zebra", "category": "a"},
        {"id": "q3", "image": "images/lake.jpg", "question": "[garbage] Color?", "reference": "answer", "category": "b"},
        {"id": "q4", "image": "images/lake.jpg", "question": "[judgefail] Count?", "reference": "answer", "category": "b"},
        {"id": "q5", "image": "images/gone.jpg", "question": "Missing image?", "reference": "answer", "category": "b"},
        {"id": "q6", "image": "images/lake.jpg", "question": "[[500]] Flaky model?", "reference": "answer", "category": "a"},
        {"id": "q7", "image": "images/lake.jpg", "question": "[[500x99]] Broken model?", "reference": "answer", "category": "a"},
        {"id": "q8", "image": "images/lake.jpg", "question": "[judgestall] Slow judge?", "reference": "answer", "category": "b"},
    ]  # fmt: skip
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(server, data, out, judge_runs=1):
    # the judge fails on purpose here (counted, not scored): the share that fails a run is tested elsewhere
    config = EvalConfig(out, judge=f"openai:judge@{server.url}", judge_runs=judge_runs, judge_limits=FAST,
                        progress=False, max_judge_failure_share=1.0)  # fmt: skip
    adapter = open_adapter(
        f"openai:vlm@{server.url}", GenerationSettings(), str(out / ".cache/model.sqlite"), limits=FAST
    )
    task = CustomTask(metrics=("harness_contains", "harness_judge"))
    return run_task(task, str(data), adapter, config)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_run_writes_llm_jp_layout_and_counts_every_failure(tmp_path, fixtures):
    data = write_task(tmp_path, fixtures)
    with FakeOpenAIServer(stall_s=30.0) as server:
        result = run(server, data, tmp_path / "out")
        out = tmp_path / "out/custom/vlm"
        assert result.out_dir == out
        preds = read_jsonl(out / "prediction.jsonl")
        assert [p["question_id"] for p in preds] == [f"q{i}" for i in range(1, 9)]
        by_id = {p["question_id"]: p for p in preds}
        assert set(preds[0]) >= {
            "question_id",
            "text",
            "answer",
            "input_text",
            "harness_contains",
            "harness_judge",
        }
        assert by_id["q1"]["text"].startswith("answer ") and by_id["q1"]["input_text"] == "What is he doing?"
        assert by_id["q5"]["error"].startswith("missing_image") and by_id["q5"]["harness_contains"] is None
        assert by_id["q7"]["error"].startswith("http_500") and by_id["q7"]["harness_judge"] is None
        assert by_id["q6"]["text"]  # a 5xx once, then answered on retry
        ev = json.loads((out / "evaluation.jsonl").read_text())
        contains = ev["harness_contains"]
        assert contains["details"]["n"] == 6 and contains["details"]["excluded"] == {"prediction_failed": 2}
        assert contains["overall_score"] == pytest.approx(5 / 6)  # q2's zebra is the one miss, no zeros added
        judge = ev["harness_judge"]
        assert judge["details"]["n"] == 3  # q1, q2, q6
        assert judge["details"]["excluded"] == {
            "prediction_failed": 2, "judge_unparsable": 1, "judge_call_failed": 2}  # fmt: skip
        expected = [len(by_id[q]["text"]) % 5 + 1 for q in ("q1", "q2", "q6")]
        assert judge["overall_score"] == pytest.approx(sum(expected) / 3)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["judge_failures"] == {"harness_contains": 0, "harness_judge": 3}
        assert manifest["model"]["generation"]["max_new_tokens"] == 256
        assert manifest["model"]["generation"]["do_sample"] is False
        assert manifest["prompt_sha256s"] == {"harness_judge": {"harness_judge.txt": "0" * 64}}
        assert {e["question_id"] for e in manifest["excluded_items"] if e["metric"] == "harness_judge"} == {
            "q3", "q4", "q5", "q7", "q8"}  # fmt: skip
        judged = read_jsonl(out / "judge.jsonl")
        assert any(j["reason"] == "judge_unparsable" and j["detail"]["reply"] for j in judged)
        # the model was sent the image as a data URL before the question, greedy, 256 tokens at most
        body = next(b for b in server.bodies if b["model"] == "vlm")
        parts = body["messages"][0]["content"]
        assert (
            parts[0]["image_url"]["url"].startswith("data:image/jpeg;base64,") and parts[-1]["type"] == "text"
        )
        assert body["temperature"] == 0 and body["max_tokens"] == 256

        # a second run: answered items are not asked again; only the failed model call (q7) is retried
        answered_before = dict(server.answered)
        seen_before = dict(server.seen)
        run(server, data, tmp_path / "out")
        new = {p: n - seen_before.get(p, 0) for p, n in server.seen.items() if n != seen_before.get(p, 0)}
        assert all("Broken model" in p or "[[" in p for p in new), new  # only failures are asked again
        assert all(server.answered[p] == answered_before.get(p, 0) for p in answered_before)
        assert json.loads((out / "evaluation.jsonl").read_text()) == ev


def test_judge_runs_are_distinct_calls_with_mean_and_spread(tmp_path, fixtures):
    data = write_task(tmp_path, fixtures)
    with FakeOpenAIServer(stall_s=30.0) as server:
        run(server, data, tmp_path / "out", judge_runs=3)
        judge_bodies = [
            b for b in server.bodies if b["model"] == "judge" and "Judge q1:" in b["messages"][0]["content"]
        ]
        assert sorted(b["seed"] for b in judge_bodies) == [0, 1, 2]
        assert all(b["temperature"] == 0 for b in judge_bodies)
        ev = json.loads((tmp_path / "out/custom/vlm/evaluation.jsonl").read_text())["harness_judge"]
        assert len(ev["details"]["judge_runs"]) == 3 and ev["details"]["judge_run_std"] >= 0
        assert ev["overall_score"] == pytest.approx(sum(ev["details"]["judge_runs"]) / 3)
        preds = read_jsonl(tmp_path / "out/custom/vlm/prediction.jsonl")
        assert len(preds[0]["harness_judge_runs"]) == 3
        requests = server.requests
        run(server, data, tmp_path / "out", judge_runs=3)
        # re-scoring reads every judge verdict from the cache; only the always-failing calls go out again
        again = [b for b in server.bodies[requests:] if b["model"] == "judge"]
        assert all("[[" in b["messages"][0]["content"] for b in again)


def test_no_judge_given_skips_judge_metrics_visibly(tmp_path, fixtures):
    data = write_task(tmp_path, fixtures)
    with FakeOpenAIServer() as server:
        config = EvalConfig(tmp_path / "out", progress=False, limit=2)
        adapter = open_adapter(
            f"openai:vlm@{server.url}", GenerationSettings(), str(tmp_path / "m.sqlite"), limits=FAST
        )
        result = run_task(CustomTask(metrics=("harness_judge", "no_such_metric")), str(data), adapter, config)
    skipped = {o.metric: o.skipped for o in result.outcomes}
    assert "--judge" in skipped["harness_judge"] and "no scorer" in skipped["no_such_metric"]
    ev = json.loads((result.out_dir / "evaluation.jsonl").read_text())
    assert ev["harness_judge"]["overall_score"] is None
