"""`polyvlm eval run` runs every task from its fixture against the real local server (a plain scorer of the
tests' own stands in for each task's metrics until the real scorers are installed); `polyvlm run` does not
import the harness."""

from __future__ import annotations

import json
import subprocess
import sys

import harness_scorers  # noqa: F401 -- registers harness_contains
from click.testing import CliRunner
from test_eval_tasks import FIXTURE_OF

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli
from polyvlm.eval.registry import load_builtin_tasks


def test_eval_run_every_task_from_fixtures(tmp_path, fixtures):
    names = sorted(load_builtin_tasks())
    data = [a for n in names for a in ("--data", f"{n}={fixtures / FIXTURE_OF[n]}")]
    with FakeOpenAIServer() as server:
        args = ["eval", "run", "--model", f"openai:vlm@{server.url}", "--tasks", ",".join(names), *data,
                "--metrics", "harness_contains", "--quiet", "-o", str(tmp_path)]  # fmt: skip
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for name in names:
        out = tmp_path / name / "vlm"
        preds = [json.loads(x) for x in (out / "prediction.jsonl").read_text().splitlines()]
        assert preds and all(p["text"].startswith("answer ") and "error" not in p for p in preds), name
        assert json.loads((out / "evaluation.jsonl").read_text())["harness_contains"]["details"]["n"] == len(
            preds
        )
    # images went to the model as data URLs: a JMMMU item with two images sent two
    two = [b for b in server.bodies if "[画像2]" in json.dumps(b, ensure_ascii=False)]
    assert two and sum(p["type"] == "image_url" for p in two[0]["messages"][0]["content"]) == 2


def test_eval_tasks_lists_every_task_and_run_stays_light():
    result = CliRunner().invoke(cli, ["eval", "tasks"])
    assert result.exit_code == 0
    for name in load_builtin_tasks():
        assert f"\n{name}  [" in "\n" + result.output
    code = "import sys, polyvlm.cli; print(sorted(m for m in sys.modules if m.startswith('polyvlm.eval') or m == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
