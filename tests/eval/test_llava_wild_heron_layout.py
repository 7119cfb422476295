"""Heron's LLaVA-Bench-in-the-wild ja files (questions_ja.jsonl with `jp`, answers_gpt4_ja.jsonl with `jp`
beside the English `text`, context_ja.jsonl with `caption_jp`, images one folder up) load as the ja task, and a
broken file is named with its line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from polyvlm.eval.registry import get_task
from polyvlm.eval.tasks.table_rows import TaskDataError


def heron(fixtures: Path) -> Path:
    return fixtures / "llava-bench-in-the-wild-heron"


def test_heron_ja_layout_is_read(fixtures):
    items = list(get_task("llava-bench-in-the-wild-ja").load(str(heron(fixtures) / "ja")))
    assert [it.question_id for it in items] == ["0", "1", "2", "3"]
    first = items[0]
    assert first.prompt == "男性は何をしていますか？"  # jp, not the English text
    assert first.reference == "タクシーに取り付けた台でシャツにアイロンをかけています。"  # GPT-4's jp
    assert first.meta["context"] == "黄色いタクシーの後ろでアイロンをかける男性。"  # caption_jp
    assert first.language == "ja" and first.category == "conv"
    assert Path(first.images[0]) == heron(fixtures) / "images/001.jpg" and Path(first.images[0]).is_file()


def _copy(fixtures: Path, tmp_path: Path) -> Path:
    shutil.copytree(heron(fixtures), tmp_path / "heron")
    return tmp_path / "heron/ja"


def _rewrite(path: Path, edit) -> None:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in edit(rows)), encoding="utf-8")


def test_a_question_without_its_field_names_its_file_and_line(fixtures, tmp_path):
    ja = _copy(fixtures, tmp_path)
    _rewrite(
        ja / "questions_ja.jsonl", lambda rows: [*rows[:2], {k: v for k, v in rows[2].items() if k != "jp"}]
    )
    with pytest.raises(TaskDataError, match=r"questions_ja\.jsonl:3: no column 'jp'"):
        list(get_task("llava-bench-in-the-wild-ja").load(str(ja)))


def test_a_question_without_a_reference_names_both_files(fixtures, tmp_path):
    ja = _copy(fixtures, tmp_path)
    _rewrite(ja / "answers_gpt4_ja.jsonl", lambda rows: rows[:3])
    with pytest.raises(
        TaskDataError, match=r"questions_ja\.jsonl:4: question 3 has no reference .*answers_gpt4_ja"
    ):
        list(get_task("llava-bench-in-the-wild-ja").load(str(ja)))


def test_a_missing_context_file_is_named(fixtures, tmp_path):
    ja = _copy(fixtures, tmp_path)
    (ja / "context_ja.jsonl").unlink()
    with pytest.raises(TaskDataError, match="questions_ja.jsonl without context_ja.jsonl"):
        list(get_task("llava-bench-in-the-wild-ja").load(str(ja)))
