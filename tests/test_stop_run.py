"""A step that says the run must stop (an endpoint is down) stops it; the same command resumes it."""

import pytest

from polyvlm.core.errors import StopRun
from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Sample, record_to_json
from polyvlm.core.step import BatchStep
from polyvlm.engine.run import run_recipe


class _FlakyEndpoint(BatchStep):
    """Fails the whole run while `down` is set, as a model step does when its circuit breaker opens."""

    name = "test_flaky_endpoint"
    down = True

    def apply_batch(self, records):
        if type(self).down:
            raise StopRun("endpoint http://127.0.0.1:1/v1 is down")
        return records


def test_stop_run_stops_and_the_rerun_resumes(tmp_path, write_recipe, register_step):
    register_step(_FlakyEndpoint)
    _FlakyEndpoint.down = True
    data = tmp_path / "in.jsonl"
    data.write_text("".join(record_to_json(Sample(id=f"s{i}")) + "\n" for i in range(5)))
    path = write_recipe(f"""
    inputs: [{data}]
    steps: [{{test_flaky_endpoint: {{batch_size: 2}}}}]
    outputs: [{{write_jsonl: {{path: out}}}}]
    """)
    out = str(tmp_path / "run")
    with pytest.raises(StopRun, match="is down"):
        run_recipe(load_recipe(path), output=out, progress=False, workers=1)
    assert not (tmp_path / "run" / "stats.json").exists()  # nothing finished, nothing claimed
    _FlakyEndpoint.down = False
    stats = run_recipe(load_recipe(path), output=out, progress=False, workers=1)
    assert stats["totals"]["kept"] == 5 and stats["balanced"]


def test_endpoint_option_points_every_model_step_at_a_url(root, tmp_path):
    """`polyvlm run --endpoint URL` sends the recipe's model calls to a real local server instead."""
    import json
    import subprocess
    import sys

    from fake_openai_server import FakeOpenAIServer

    out = tmp_path / "out"
    text = (root / "recipes/translate-fr-de-it-es.yaml").read_text()
    recipe = tmp_path / "recipe.yaml"  # the shipped recipe with a cache of its own (a fresh run pays)
    recipe.write_text(
        text.replace("license: Apache-2.0,", f"license: Apache-2.0, cache_path: {tmp_path}/c.sqlite,")
    )
    with FakeOpenAIServer() as server:
        res = subprocess.run(
            [sys.executable, "-m", "polyvlm.cli", "run", str(recipe), "-o", str(out), "--quiet",
             "--endpoint", server.url, "--endpoint-model", "test-model"],
            cwd=root, capture_output=True, text=True,
        )  # fmt: skip
        requests = server.stats()["requests"]
    assert res.returncode == 0, res.stderr[-2000:]
    stats = json.loads((out / "stats.json").read_text())
    calls = sum(m.get("calls", 0) for m in stats["metrics"].values())
    assert calls > 0 and requests >= calls  # every call went to the server, none to the embedded model
    assert json.loads((out / "manifest.json").read_text())["recipe_sha256"]


def test_the_cli_finds_a_stop_behind_wrapping_errors():
    from polyvlm.cli import _stop_cause

    stop = StopRun("endpoint down")

    class RayLikeError(RuntimeError):
        def __init__(self, cause):
            super().__init__("task failed")
            self.cause = cause

    chained = RuntimeError("outer")
    chained.__cause__ = RayLikeError(stop)
    assert _stop_cause(stop) is stop and _stop_cause(chained) is stop
    assert _stop_cause(RuntimeError("unrelated")) is None
