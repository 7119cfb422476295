"""A tiny random PolyVLM answers a custom task end to end, through polyvlm's own adapter and through the
generic transformers adapter (the same greedy answers); a missing model is refused with a clear message."""

from __future__ import annotations

import json

import harness_scorers  # noqa: F401 -- registers harness_contains
import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("transformers")

from polyvlm.cli import cli  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from polyvlm.model.tiny import save_tiny

    path = tmp_path_factory.mktemp("models") / "tiny-polyvlm"
    save_tiny(str(path))
    return path


def run_eval(model: str, fixtures, out) -> tuple[int, str]:
    args = ["eval", "run", "--model", model, "--tasks", "custom", "--data",
            f"custom={fixtures / 'custom/questions.jsonl'}", "--metrics", "harness_contains",
            "--max-new-tokens", "6", "--quiet", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


@pytest.mark.slow
def test_tiny_polyvlm_through_both_local_adapters(tiny_dir, fixtures, tmp_path):
    code, output = run_eval(f"polyvlm:{tiny_dir}", fixtures, tmp_path / "out")
    assert code == 0, output
    code, output = run_eval(f"transformers:{tiny_dir}", fixtures, tmp_path / "out")
    assert code == 0, output
    # both adapters write under the model directory's name: the second run found every answer already there
    preds = [
        json.loads(x)
        for x in (tmp_path / "out/custom/tiny-polyvlm/prediction.jsonl").read_text().splitlines()
    ]
    assert [p["question_id"] for p in preds] == ["c1", "c2"]
    assert all(isinstance(p["text"], str) and "error" not in p for p in preds)
    manifest = json.loads((tmp_path / "out/custom/tiny-polyvlm/manifest.json").read_text())
    sessions = manifest["inference_sessions"]
    assert len(sessions) == 1 and sessions[0]["asked"] == 2  # the transformers run asked nothing
    assert (
        sessions[0]["model"]["backend"] == "polyvlm"
        and sessions[0]["model"]["generation"]["max_new_tokens"] == 6
    )

    code, output = run_eval(f"transformers:{tiny_dir}", fixtures, tmp_path / "hf")
    assert code == 0, output
    hf = [
        json.loads(x) for x in (tmp_path / "hf/custom/tiny-polyvlm/prediction.jsonl").read_text().splitlines()
    ]
    assert [p["text"] for p in hf] == [p["text"] for p in preds]  # greedy: the same answers either way
    assert (
        json.loads((tmp_path / "hf/custom/tiny-polyvlm/manifest.json").read_text())["model"]["backend"]
        == "transformers"
    )


def test_missing_local_model_is_refused_clearly(tmp_path, fixtures):
    code, output = run_eval(f"polyvlm:{tmp_path / 'nothing'}", fixtures, tmp_path / "out")
    assert code != 0 and "not a saved PolyVLM" in output and "Traceback" not in output
    code, output = run_eval("no-such-spec", fixtures, tmp_path / "out")
    assert code != 0 and "model spec" in output
