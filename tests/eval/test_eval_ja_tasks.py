"""The Japanese suite's tasks read their published layouts: several pages or images per item, the anchors'
ids, filters and rotations."""

from __future__ import annotations

import pytest

from polyvlm.eval.registry import get_task
from polyvlm.eval.tasks.table_rows import TaskDataError


def load(name, fixtures):
    return list(get_task(name).load(str(fixtures / name)))


def test_jdocqa_pages_and_answer_types(fixtures):
    items = load("jdocqa", fixtures)
    assert [len(it.images) for it in items] == [2, 1, 3, 1]  # image_0..image_3, the empty ones skipped
    assert [it.meta["answer_type"] for it in items] == ["yesno", "factoid", "numerical", "open-ended"]
    assert items[3].category == "open-ended_bleu" and items[0].prompt == "この資料は駅の案内ですか？"


def test_ja_multi_image_vqa_shows_every_image_and_drops_the_tags(fixtures):
    items = load("ja-multi-image-vqa", fixtures)
    assert [it.question_id for it in items] == ["0", "1"] and [len(it.images) for it in items] == [2, 3]
    assert "<image>" not in items[1].prompt and items[1].prompt.startswith("看板")


def test_mecha_ja_rotations_move_the_answer_letter(fixtures):
    items = load("mecha-ja", fixtures)
    assert [it.question_id for it in items[:4]] == ["0_rot0", "0_rot1", "0_rot2", "0_rot3"]
    for it in items:  # the letter always names the same option text
        assert it.choices[it.reference] == ("アイロンがけ" if it.group == "0" else "釣り")
    assert items[1].prompt.startswith("男性は何をしていますか？\nA. 料理")
    assert items[4].meta["background_text"] and items[4].meta["answer_type"] == 1


def test_cc_ocr_and_cvqa_keep_only_the_japanese_rows(fixtures):
    ocr = load("cc-ocr", fixtures)
    assert [(it.question_id, it.reference) for it in ocr] == [("0", "駅 出口"), ("1", "日本語 の 看板")]
    assert all(isinstance(it.images[0], bytes) for it in ocr)  # base64 cells decoded
    cvqa = load("cvqa-ja", fixtures)
    assert [it.question_id for it in cvqa] == ["0", "1"] and [it.reference for it in cvqa] == ["A", "B"]
    assert cvqa[1].choices["B"] == "夏" and cvqa[1].category == "Geography"


def test_jic_vqa_domains_and_graded_sets(fixtures):
    jic = load("jic-vqa", fixtures)
    assert [(it.reference, it.category) for it in jic][:2] == [("桜", "jaflower30"), ("寿司", "jafood101")]
    for name, first_id in (("jgraphqa", "g0"), ("jgraphqa-refined", "g0"), ("business-slide-vqa", "s0")):
        items = load(name, fixtures)
        assert items[0].question_id == first_id and items[0].prompt.endswith("正確かつ簡潔に答えてください。")
        assert items[0].meta["question"] in items[0].prompt


def test_jic_vqa_without_images_says_how_to_prepare_them(tmp_path):
    (tmp_path / "jafood101.csv").write_text(
        "id,url,category,question\n1,https://x/a.jpg,寿司,この食べ物は？\n"
    )
    with pytest.raises(TaskDataError, match="prepare_jic_vqa.py"):
        list(get_task("jic-vqa").load(str(tmp_path)))
