"""The model endpoint misbehaving: unreachable before work starts is a clear message; one that dies mid-run
stops the run (StopRun) with every answer already given kept on disk."""

from __future__ import annotations

import json
import socket

import harness_scorers  # noqa: F401 -- registers harness_contains
import pytest
from click.testing import CliRunner

from fake_openai_server import FakeOpenAIServer
from polyvlm.cli import cli
from polyvlm.clients.chat import LimitsSpec
from polyvlm.core.errors import StopRun
from polyvlm.eval.adapters.base import GenerationSettings
from polyvlm.eval.adapters.spec import open_adapter
from polyvlm.eval.run import EvalConfig, run_task
from polyvlm.eval.tasks.custom import CustomTask


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_model_is_refused_before_work(tmp_path, fixtures):
    url = f"http://127.0.0.1:{free_port()}/v1"
    args = ["eval", "run", "--model", f"openai:vlm@{url}", "--tasks", "custom", "--data",
            f"custom={fixtures / 'custom/questions.jsonl'}", "--metrics", "harness_contains", "--quiet",
            "-o", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert url.split("/v1")[0].split("//")[1] in result.output or "refused" in result.output
    assert not (tmp_path / "custom/vlm/prediction.jsonl").exists()


def test_endpoint_dying_mid_run_stops_and_keeps_answers(tmp_path, fixtures):
    image = str(fixtures / "custom/images/lake.jpg")
    rows = [{"id": f"q{i}", "image": image, "question": q, "reference": "x"}
            for i, q in enumerate(["one?", "two?", "[[500x99]] three?", "[[500x99]] four?", "[[500x99]] five?"])]  # fmt: skip
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    limits = LimitsSpec(concurrency=1, retries=0, backoff_s=0.01, breaker_failures=2)
    with FakeOpenAIServer() as server:
        adapter = open_adapter(
            f"openai:vlm@{server.url}", GenerationSettings(), str(tmp_path / "m.sqlite"), limits=limits
        )
        with pytest.raises(StopRun):
            run_task(
                CustomTask(metrics=("harness_contains",)),
                str(data),
                adapter,
                EvalConfig(tmp_path / "out", progress=False),
            )
    saved = [json.loads(x) for x in (tmp_path / "out/custom/vlm/prediction.jsonl").read_text().splitlines()]
    answered = [p["question_id"] for p in saved if "error" not in p]
    assert answered == ["q0", "q1"]
    assert not (tmp_path / "out/custom/vlm/evaluation.jsonl").exists()  # nothing scored from half a run
