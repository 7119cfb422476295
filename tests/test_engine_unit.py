"""The unit lifecycle (engine/unit.py) on its own: commit publishes everything before the done marker, abort and
a crash leave nothing visible, and a re-run hands a scheduler only the units without a done marker."""

import os

import pytest

from polyvlm.core.errors import StopRun
from polyvlm.core.recipe import load_recipe
from polyvlm.core.records import Message, Sample, record_to_json
from polyvlm.core.step import BatchStep
from polyvlm.engine.phases import phases
from polyvlm.engine.rows import read_rows
from polyvlm.engine.run_dir import RunDir
from polyvlm.engine.unit import Unit, UnitOutput, run_phases, run_unit


def _recipe(tmp_path, write_recipe, steps: str = "  - exact_dedup: {}\n"):
    """Two shards of samples that repeat across shards: exact_dedup makes two phases (observe, then apply)."""
    data = tmp_path / "in"
    data.mkdir()
    for s in range(2):
        lines = [
            record_to_json(Sample(id=f"s{s}-{i}", language="en", messages=[
                Message("user", f"question {i % 4}"), Message("assistant", "answer")])) + "\n"
            for i in range(6)
        ]  # fmt: skip
        (data / f"part{s}.jsonl").write_text("".join(lines))
    steps = f"steps:\n{steps}" if steps else "steps: []\n"
    return load_recipe(write_recipe(f"inputs: ['{data}/*.jsonl']\n{steps}outputs:\n"
                                    "  - write_jsonl: {path: out}\nshard_size: 100\n"))  # fmt: skip


def _serial(recipe, handed: list):
    """A scheduler that runs each unit it is handed here, in order, and notes which it was handed."""

    def schedule(todo, bar):
        for unit in todo:
            handed.append((unit.phase.index, unit.shard))
            path, reader = recipe.shards[unit.shard]
            yield unit, run_unit(unit, path, reader, recipe.outputs, recipe.shard_size)

    return schedule


def _files(root) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, _, names in os.walk(root) for n in names}


def test_a_unit_publishes_everything_before_its_done_marker(tmp_path, write_recipe, monkeypatch):
    recipe = _recipe(tmp_path, write_recipe)
    root = str(tmp_path / "run")
    published: list[str] = []
    real_replace = os.replace

    def replace(src, dst):
        published.append(os.path.relpath(dst, root))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    run_phases(recipe, root, _serial(recipe, []), progress=False)
    assert len(phases(recipe)) == 2
    for phase in range(2):
        for shard in range(2):
            stem = f"p{phase}-s{shard:05d}"
            mine = [i for i, p in enumerate(published) if stem in p or (phase == 1 and f"s{shard:05d}-" in p)]
            done = published.index(f"_state/done/{stem}.json")
            assert mine[-1] == done, f"{stem}: the done marker is the unit's last file"
            expected = {f"rejects/{stem}.jsonl", f"_errors/{stem}.jsonl"}
            expected |= {f"_state/work/{stem}.jsonl", f"_state/work/{stem}.state"} if phase == 0 else set()
            assert expected <= {published[i] for i in mine}
    assert not [p for p in _files(root) if p.endswith(".tmp")]


def test_abort_leaves_no_file_of_the_unit(tmp_path, write_recipe):
    recipe = _recipe(tmp_path, write_recipe, steps="")  # one phase: rows go to the outputs
    root = str(tmp_path / "run")
    (path, reader), = recipe.shards[:1]  # fmt: skip
    output = UnitOutput(Unit(root, phases(recipe)[0], True, 0), reader.label, recipe.outputs, 2)
    for row in read_rows(0, path, reader):
        output.add(row)  # 6 rows: 3 parts of 2 written under temporary names
    output.abort()
    assert _files(root) == set()


def test_a_crash_mid_unit_leaves_no_output_visible_and_the_rerun_finishes(
    tmp_path, write_recipe, register_step
):
    class _DiesOnSecondBatch(BatchStep):
        name = "test_dies_on_second_batch"
        batches = 0

        def apply_batch(self, records):
            type(self).batches += 1
            if type(self).batches == 2:
                raise StopRun("endpoint down")
            return records

    register_step(_DiesOnSecondBatch)
    recipe = _recipe(tmp_path, write_recipe, steps="  - test_dies_on_second_batch: {batch_size: 2}\n")
    root = str(tmp_path / "run")
    path, reader = recipe.shards[0]
    unit = Unit(root, phases(recipe)[0], True, 0)
    with pytest.raises(StopRun):
        run_unit(unit, path, reader, recipe.outputs, 1)  # the first batch reached the writer: one part
    assert _files(root) == set(), "no output, reject, spill or done marker of a unit that did not finish"
    assert not os.path.exists(RunDir(root).done(0, 0))
    stats = run_unit(unit, path, reader, recipe.outputs, 1)
    assert stats["kept"] == 6 and os.path.exists(RunDir(root).done(0, 0))
    assert len([p for p in _files(root) if p.startswith("out/")]) == 6


def test_a_rerun_hands_out_only_the_units_without_a_done_marker(tmp_path, write_recipe):
    recipe = _recipe(tmp_path, write_recipe)
    root = str(tmp_path / "run")
    handed: list = []
    commits: list = []
    first = run_phases(recipe, root, _serial(recipe, handed), progress=False, on_commit=commits.append)
    assert handed == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert commits == ["p0-s00000", "p0-s00001", None, "p1-s00000", "p1-s00001"]
    os.remove(RunDir(root).done(1, 1))  # as if the run had died in that unit
    handed.clear()
    commits.clear()
    again = run_phases(recipe, root, _serial(recipe, handed), progress=False, on_commit=commits.append)
    assert handed == [(1, 1)], "finished units are not run again"
    assert commits == ["p1-s00001"], "a phase's partial states are merged once"
    key = lambda u: (u["phase"], u["shard"])  # noqa: E731
    assert sorted(again, key=key) == sorted(first, key=key)
    handed.clear()
    run_phases(recipe, root, _serial(recipe, handed), progress=False)
    assert handed == []
