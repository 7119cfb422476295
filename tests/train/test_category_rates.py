"""Per-category rates: the writers keep a sample's Jagle category, the index keeps each position's, and a
source with category_rates becomes one mixture part per category with shares n_c w_c / sum(n w)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from pydantic import ValidationError

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Message, Sample
from polyvlm.io.conversation_formats import from_llava, from_messages, to_llava, to_messages
from polyvlm.train.config import SourceConfig
from polyvlm.train.data.category_split import category_counts, category_parts
from polyvlm.train.data.sources import load_source
from polyvlm.train.data.stream import source_index


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYVLM_INDEX_CACHE", str(tmp_path / "cache"))


def sample(i: int, category: str | None) -> Sample:
    metadata = {"category": category} if category else {}
    return Sample(
        id=f"s{i}", messages=[Message("user", "問"), Message("assistant", f"答{i}")], metadata=metadata
    )


def write_messages(path, counts: dict[str | None, int]) -> str:
    """A messages JSONL with ``counts[category]`` records of each category, interleaved."""
    pending = [c for c, n in counts.items() for _ in range(n)]
    pending = pending[::2] + pending[1::2]  # categories interleaved, not in runs
    path.write_text("".join(json.dumps(to_messages(sample(i, c)), ensure_ascii=False) + "\n"
                            for i, c in enumerate(pending)), encoding="utf-8")  # fmt: skip
    return str(path)


def test_the_writers_keep_the_category_and_the_readers_give_it_back():
    s = sample(0, "ocr_qa")
    assert to_llava(s)["category"] == to_messages(s)["category"] == "ocr_qa"
    assert from_llava(to_llava(s), 0).metadata == {"category": "ocr_qa"}
    assert from_messages(to_messages(s), 0).metadata == {"category": "ocr_qa"}
    plain = sample(1, None)
    assert "category" not in to_llava(plain) and "category" not in to_messages(plain)
    assert from_llava(to_llava(plain), 1).metadata == {}


def test_a_training_sample_carries_its_records_category(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps([to_llava(sample(0, "chart_table")), to_llava(sample(1, None))]), encoding="utf-8"
    )
    loaded = load_source(SourceConfig(name="a", format="llava_json", path=str(path)))
    assert [s.category for s in loaded.samples] == ["chart_table", ""]


def test_the_index_keeps_each_positions_category_and_caches_it(tmp_path):
    path = write_messages(tmp_path / "m.jsonl", {"ocr_qa": 30, "general_vqa": 10, None: 5})
    config = SourceConfig(name="m", format="messages_jsonl", path=path)
    index = source_index(config)
    assert category_counts(index) == {"ocr_qa": 30, "general_vqa": 10, "uncategorized": 5}
    in_order = load_source(config).samples
    for name, positions in index.categories().items():
        assert {in_order[int(k)].category for k in positions} == {name}
    again = source_index(config)  # from the cache
    assert category_counts(again) == category_counts(index)
    assert again.category_codes.tolist() == index.category_codes.tolist()


def test_category_parts_share_the_sources_rate_by_samples_times_weight(tmp_path):
    path = write_messages(tmp_path / "m.jsonl", {"ocr_qa": 30, "general_vqa": 10, None: 5})
    rates = {"ocr_qa": 2.0, "uncategorized": 0.0}
    config = SourceConfig(name="m", format="messages_jsonl", path=path, category_rates=rates)
    parts = category_parts(source_index(config))
    shares = {stream.name: share for stream, share in parts}
    assert shares == pytest.approx({"m/ocr_qa": 60 / 70, "m/general_vqa": 10 / 70})  # uncategorized: weight 0
    assert sum(shares.values()) == pytest.approx(1.0)
    ocr = next(stream for stream, _ in parts if stream.name == "m/ocr_qa")
    assert len(ocr) == 30
    assert {ocr[k].category for k in range(len(ocr))} == {"ocr_qa"}  # a part reads only its own records
    unweighted = category_parts(source_index(SourceConfig(name="m", format="messages_jsonl", path=path)))
    assert [(len(s), share) for s, share in unweighted] == [(45, 1.0)]


def test_category_rates_that_cannot_apply_are_refused(tmp_path):
    path = write_messages(tmp_path / "m.jsonl", {"ocr_qa": 4})
    absent = SourceConfig(name="m", format="messages_jsonl", path=path, category_rates={"chart_table": 2.0})
    with pytest.raises(RecipeError, match=r"chart_table.*its categories: ocr_qa 4"):
        category_parts(source_index(absent), "train.yaml:7")
    zero = SourceConfig(name="m", format="messages_jsonl", path=path, category_rates={"ocr_qa": 0.0})
    with pytest.raises(RecipeError, match="every category 0"):
        category_parts(source_index(zero))
    with pytest.raises(ValidationError, match="unknown categories"):
        SourceConfig(name="m", format="messages_jsonl", path=path, category_rates={"charts": 1.0})
    with pytest.raises(ValidationError, match="counted in epochs"):
        SourceConfig(name="m", format="messages_jsonl", path=path, category_rates={"ocr_qa": 1.0}, epochs=1)


def plan_with(tmp_path, source_extra: str, length: str = "    steps: 400\n"):
    from polyvlm.train.config import parse_train_config
    from polyvlm.train.stage_plan import plan_stage

    ocr = write_messages(tmp_path / "ocr.jsonl", {"ocr_qa": 30, "general_vqa": 10, None: 5})
    text = tmp_path / "text.jsonl"
    text.write_text("".join(json.dumps({"text": f"文{i}"}) + "\n" for i in range(20)), encoding="utf-8")
    config = parse_train_config(
        f"""\
name: c
model: {{tiny: {{seed: 0}}}}
stages:
  - name: s
    train: {{lm: {{lr: 1.0e-3}}}}
    global_batch_size: 50
{length}    data:
      sources:
        - {{name: m, format: messages_jsonl, path: {ocr}{source_extra}}}
        - {{name: t, format: text_jsonl, path: {text}}}
""",
        str(tmp_path / "c.yaml"),
    )
    return plan_stage(config, 0, seed=3)


def test_the_mixture_draws_each_category_by_samples_times_weight(tmp_path):
    plan = plan_with(tmp_path, ", rate: 1.0, category_rates: {ocr_qa: 3.0, uncategorized: 0}")
    assert [s.name for s in plan.sources] == ["m/general_vqa", "m/ocr_qa", "t"]
    assert plan.counts["m"]["categories"] == {"ocr_qa": 30, "general_vqa": 10, "uncategorized": 5}
    assert "categories" not in plan.counts["t"]  # no record of it carries a category
    mixture = plan.make_mixture()
    drawn = Counter(plan.sources[s].name for _ in range(plan.steps) for s, _ in mixture.next_batch())
    n = sum(drawn.values())
    # m keeps half the draws (rates 1 and 1); inside m, ocr_qa 90 : general_vqa 10
    assert drawn["m/ocr_qa"] / n == pytest.approx(0.5 * 0.9, abs=0.01)
    assert drawn["m/general_vqa"] / n == pytest.approx(0.5 * 0.1, abs=0.01)
    assert drawn["t"] / n == pytest.approx(0.5, abs=0.01)
    plain = plan_with(tmp_path, "")
    assert [s.name for s in plain.sources] == ["m", "t"]  # without category_rates nothing is split


def test_category_rates_make_a_stage_in_epochs_draw_by_rate(tmp_path):
    plan = plan_with(tmp_path, ", category_rates: {ocr_qa: 2.0}", length="    epochs: 2\n")
    assert plan.make_mixture().remaining is None  # by rate, not exact passes
    assert plan.steps == 3  # ceil(2 epochs x 65 samples / 50)
    with pytest.raises(RecipeError, match=r"c.yaml:\d+: source 'm'.*naive_ocr.*which no record carries"):
        plan_with(tmp_path, ", category_rates: {naive_ocr: 1.0}")
