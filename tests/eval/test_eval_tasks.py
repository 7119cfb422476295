"""Every task loads from its fixture (laid out like the published dataset) with the right ids, references
and images; bad rows are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyvlm.eval.registry import get_task, load_builtin_tasks
from polyvlm.eval.tasks.table_rows import TaskDataError

FIXTURE_OF = {name: name for name in load_builtin_tasks()}
FIXTURE_OF.update({"llava-bench-coco-ja": "llava-bench-coco", "llava-bench-in-the-wild-ja": "llava-bench-in-the-wild",
                   "custom": "custom/questions.jsonl"})  # fmt: skip


@pytest.mark.parametrize("name", sorted(load_builtin_tasks()))
def test_every_task_loads_from_its_fixture(name, fixtures):
    items = list(get_task(name).load(str(fixtures / FIXTURE_OF[name])))
    assert items
    ids = [it.question_id for it in items]
    assert len(ids) == len(set(ids)), "question ids must be unique"
    for it in items:
        assert it.task == name and it.prompt and it.reference not in (None, "")
        for image in it.images:
            assert isinstance(image, bytes) or Path(image).is_file()
        if it.choices:
            assert it.reference in it.choices


def test_heron_repo_layout_carries_reference_and_context(fixtures):
    items = list(get_task("japanese-heron-bench").load(str(fixtures / "japanese-heron-bench")))
    assert [it.category for it in items] == ["conv", "conv", "detail", "detail", "complex", "complex"]
    assert items[0].meta["context"] and items[0].images[0].endswith(".jpg")
    refs = {json.loads(x)["question_id"]: json.loads(x)["text"] for x in (fixtures / "japanese-heron-bench/answers_gpt4.jsonl").open()}  # fmt: skip
    assert items[0].reference == refs[int(items[0].question_id)]


def test_ja_vg_vqa_flattens_every_pair(fixtures):
    items = list(get_task("ja-vg-vqa-500").load(str(fixtures / "ja-vg-vqa-500")))
    assert [it.question_id for it in items] == ["101", "102", "111"]
    assert items[0].images == items[1].images  # both pairs of image 10 show it


def test_llava_coco_en_and_ja(fixtures):
    en = list(get_task("llava-bench-coco").load(str(fixtures / "llava-bench-coco")))
    ja = list(get_task("llava-bench-coco-ja").load(str(fixtures / "llava-bench-coco")))
    assert en[0].prompt.startswith("What is the color") and "スーツケース" in ja[0].prompt
    assert "suitcase" in en[0].meta["context"] and Path(en[0].images[0]).is_file()


def test_mmbench_circular_rotations(fixtures):
    items = list(get_task("mmbench").load(str(fixtures / "mmbench")))
    row0 = [it for it in items if it.group == "0"]
    assert len(row0) == 3  # D is empty in row 0: three options, three rotations
    for it in row0:
        assert it.choices[it.reference] == "A man"
        assert "Look closely." in it.prompt
    assert [it.reference for it in row0] == ["A", "C", "B"]
    assert len([it for it in items if it.group == "1"]) == 4


def test_mmmb_is_per_language_and_not_circular(fixtures):
    items = list(get_task("mmmb").load(str(fixtures / "mmmb")))
    assert sorted({it.language for it in items}) == ["en", "zh"] and len(items) == 4
    assert {it.category for it in items} == {"en", "zh"}
    multi = list(get_task("multilingual-mmbench").load(str(fixtures / "multilingual-mmbench")))
    assert len(multi) == 2 * (3 + 4)


def test_jmmmu_images_in_question_order(fixtures):
    items = list(get_task("jmmmu").load(str(fixtures / "jmmmu")))
    assert len(items[0].images) == 1 and len(items[1].images) == 2
    assert "<image" not in items[1].prompt and "[画像2]" in items[1].prompt
    assert items[1].choices == {"A": "[画像1]", "B": "[画像2]"} and items[1].category == "Geography"


def test_mme_groups_the_two_questions_of_an_image(fixtures):
    items = list(get_task("mme").load(str(fixtures / "mme")))
    assert len({it.group for it in items}) == 2 and len(items) == 4
    assert {it.meta["part"] for it in items} == {"perception", "cognition"}


def test_scienceqa_text_only_row_has_no_image(fixtures):
    items = list(get_task("scienceqa").load(str(fixtures / "scienceqa")))
    assert items[1].images == () and items[1].reference == "B" and "Context:" in items[0].prompt


def test_custom_metrics_chosen(fixtures):
    from polyvlm.eval.tasks.custom import CustomTask

    task = CustomTask(metrics=("substring",))
    items = list(task.load(str(fixtures / "custom/questions.jsonl")))
    assert task.default_metrics == ("substring",) and len(items[1].images) == 2


def test_malformed_rows_are_clear_errors(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": 1, "question": "x", "reference": "y"}\nnot json\n')
    with pytest.raises(TaskDataError, match=r"q.jsonl:2"):
        list(get_task("custom").load(str(bad)))
    bad.write_text('{"id": 1, "reference": "y"}\n')
    with pytest.raises(TaskDataError, match="no column 'question'"):
        list(get_task("custom").load(str(bad)))
    with pytest.raises(TaskDataError, match="no such file"):
        list(get_task("ai2d").load(str(tmp_path / "missing")))


def test_unknown_task_names():
    with pytest.raises(KeyError, match="unknown task"):
        get_task("no-such-task")


def test_saved_dataset_loads_like_the_hub(tmp_path, fixtures):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_parquet(str(fixtures / "pope/test.parquet"))
    ds = ds.cast_column("image", datasets.Image())
    ds.save_to_disk(str(tmp_path / "pope"))
    items = list(get_task("pope").load(str(tmp_path / "pope")))
    ref = list(get_task("pope").load(str(fixtures / "pope")))
    assert [i.question_id for i in items] == [i.question_id for i in ref]
    assert items[0].images[0] == ref[0].images[0]  # the same image bytes


def test_limit_keeps_a_circular_question_whole(fixtures):
    from polyvlm.eval.run import load_items

    items = load_items(get_task("mmbench"), str(fixtures / "mmbench"), limit=1)
    assert [it.question_id for it in items] == ["0", "0-c1", "0-c2"]


def test_heron_hub_table_layout(tmp_path, fixtures):
    import pyarrow as pa
    import pyarrow.parquet as pq

    repo = list(get_task("japanese-heron-bench").load(str(fixtures / "japanese-heron-bench")))
    rows = [
        {"question_id": int(it.question_id), "image": {"bytes": open(it.images[0], "rb").read(), "path": "x.jpg"},
         "category": it.category, "image_category": it.meta["image_category"], "context": it.meta["context"],
         "text": it.prompt, "answer": {"claude-3-opus-20240229": "no", "gpt-4-0125-preview": it.reference}}
        for it in repo
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    hub = list(get_task("japanese-heron-bench").load(str(tmp_path)))
    assert [(h.question_id, h.reference, h.category) for h in hub] == [
        (r.question_id, r.reference, r.category) for r in repo
    ]
    assert isinstance(hub[0].images[0], bytes)
