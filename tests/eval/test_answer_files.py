"""The one answers reader: which field holds the answers in each published layout, and loud errors (no known
field, several, a malformed line with file:line); a torn last line is forgiven only in our own log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyvlm.eval.answer_files import AnswerFileError, read_answer_file
from polyvlm.eval.prediction_log import read_predictions


def write(path: Path, rows: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + tail, encoding="utf-8")
    return path


def test_heron_text_ja_answers_are_read_from_text_ja(tmp_path):
    # Heron's gpt4v_0314_ja.jsonl: the answer is in text_ja, there is no text at all
    f = write(tmp_path / "gpt4v_ja.jsonl", [{"question_id": 0, "prompt": "何？", "text_ja": "湖です。"}])
    read = read_answer_file(f, ("ja",))
    assert read.field == "text_ja" and read.answers["0"].text == "湖です。"


def test_a_language_tagged_field_wins_for_its_language_only(tmp_path):
    # Heron's bard_0718_ja.jsonl / answers_gpt4_ja.jsonl: English `text` beside Japanese `jp`
    f = write(tmp_path / "bard_ja.jsonl", [{"question_id": 1, "text": "A lake.", "jp": "湖です。"}])
    assert read_answer_file(f, ("ja",)).answers["1"].text == "湖です。"
    assert read_answer_file(f, ("en",)).answers["1"].text == "A lake."


def test_answer_beside_text_is_the_reference(tmp_path):
    # llm-jp-eval-mm's (and our) prediction.jsonl: text = the model's, answer = the gold answer
    f = write(tmp_path / "prediction.jsonl", [{"question_id": "q", "text": "mine", "answer": "gold"}])
    read = read_answer_file(f)
    assert read.field == "text" and read.answers["q"].text == "mine"


def test_several_candidate_fields_are_refused_unless_one_is_named(tmp_path):
    f = write(tmp_path / "a.jsonl", [{"question_id": 1, "text": "x", "prediction": "y"}])
    with pytest.raises(AnswerFileError, match=r"text, prediction.*--answer-field"):
        read_answer_file(f)
    assert read_answer_file(f, answer_field="prediction").answers["1"].text == "y"


def test_no_known_field_is_refused_naming_the_fields_seen(tmp_path):
    f = write(tmp_path / "odd.jsonl", [{"question_id": 1, "reply_body": "x", "score": 3}])
    with pytest.raises(AnswerFileError) as e:
        read_answer_file(f)
    assert str(f) in str(e.value) and "reply_body" in str(e.value) and "score" in str(e.value)
    with pytest.raises(AnswerFileError, match="no field 'txt'"):
        read_answer_file(f, answer_field="txt")


def test_a_malformed_line_is_an_error_with_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text(
        '{"question_id": 1, "text": "a"}\n{"question_id": 2, "text": \n{"question_id": 3, "text": "c"}\n'
    )
    with pytest.raises(AnswerFileError, match=rf"{f}:2: not a JSON object"):
        read_answer_file(f)


def test_a_line_without_the_chosen_field_is_an_error_with_its_line(tmp_path):
    f = write(tmp_path / "gap.jsonl", [{"question_id": 1, "text": "a"}, {"question_id": 2, "txt": "b"}])
    with pytest.raises(AnswerFileError, match=rf"{f}:2: no answer field 'text'"):
        read_answer_file(f)


def test_only_our_log_forgives_a_torn_last_line(tmp_path):
    f = write(
        tmp_path / "prediction.jsonl", [{"question_id": "a", "text": "x"}], tail='{"question_id": "b", "te'
    )
    assert set(read_predictions(f)) == {"a"}
    with pytest.raises(AnswerFileError, match=":2: not a JSON object"):
        read_answer_file(f)
    torn_mid = tmp_path / "torn_mid.jsonl"
    torn_mid.write_text('{"question_id": "a", "te\n{"question_id": "b", "text": "y"}\n')
    with pytest.raises(AnswerFileError, match=":1: not a JSON object"):
        read_predictions(torn_mid)  # a bad line in the middle of the log was not a kill: loud
