"""The recipe's seed reaches every step that samples, unless the step sets its own; it decides the sample."""

from __future__ import annotations

import json
from pathlib import Path

from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import ImageRef, Pair, record_to_json
from polyvlm.engine.run import run_recipe


def _pairs_file(tmp_path: Path) -> Path:
    """40 pairs of one frequent image host and 3 of a rare one."""
    hosts = ["cdn.example"] * 40 + ["rare.example"] * 3
    pairs = [
        Pair(id=f"p{i}", text=f"t{i}", image=ImageRef(url=f"https://{host}/{i}.jpg"))
        for i, host in enumerate(hosts)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(record_to_json(p) + "\n" for p in pairs))
    return path


def _recipe(write_recipe, data: Path, seed: int | None, step_seed: int | None = None) -> str:
    own = f", seed: {step_seed}" if step_seed is not None else ""
    head = f"seed: {seed}\n" if seed is not None else ""
    return write_recipe(
        head
        + f"inputs: [{data}]\n"
        + f"steps:\n  - domain_downsample: {{max_per_domain: 10{own}}}\n"
        + "outputs: [{write_jsonl: {path: out}}]\n",
        name=f"r-{seed}-{step_seed}.yaml",
    )


def _kept(recipe_path: str, out: Path) -> list[str]:
    run_recipe(load_recipe(recipe_path), output=str(out), progress=False, workers=1)
    return [json.loads(line)["id"] for f in sorted((out / "out").glob("*.jsonl")) for line in f.open()]


def test_sampling_steps_take_the_recipe_seed_unless_they_set_their_own(write_recipe, tmp_path):
    data = _pairs_file(tmp_path)
    assert load_recipe(_recipe(write_recipe, data, 7)).steps[0].params.seed == 7
    assert load_recipe(_recipe(write_recipe, data, 7, step_seed=3)).steps[0].params.seed == 3
    assert load_recipe(_recipe(write_recipe, data, None)).steps[0].params.seed == 0


def test_model_clients_take_the_recipe_seed_unless_the_client_sets_one(write_recipe, tmp_path):
    data = _pairs_file(tmp_path)

    def client_seed(client: str) -> int:
        path = write_recipe(
            f"seed: 11\ninputs: [{data}]\nsteps:\n  - translate: {{target: fr{client}}}\n"
            "outputs: [{write_jsonl: {path: out}}]\n"
        )
        return load_recipe(path).steps[0].params.client.seed

    assert client_seed("") == 11
    assert client_seed(", client: {backend: local}") == 11
    assert client_seed(", client: {backend: local, seed: 4}") == 4


def test_another_seed_changes_the_sample_and_the_same_seed_repeats_it(write_recipe, tmp_path):
    data = _pairs_file(tmp_path)
    first = _kept(_recipe(write_recipe, data, 1), tmp_path / "a")
    again = _kept(_recipe(write_recipe, data, 1), tmp_path / "b")
    other = _kept(_recipe(write_recipe, data, 2), tmp_path / "c")
    assert len(first) == len(other) == 13  # 10 of the frequent host, all 3 of the rare one
    assert first == again
    assert set(first) != set(other)
