"""The one reader of answer files (JSONL, one answer a line): ours, llm-jp-eval-mm's, LLaVA's and Heron's,
VLMEvalKit rows converted to JSONL. Every path of eval that reads answers goes through here.

Which field holds the answer is decided once per file (never per line), from the fields its lines carry:

- `--answer-field NAME` wins; a file without that field is an error naming the fields it has.
- A field tagged with a language (`text_ja`, `text_JA`, `answer_ja`, Heron's `jp`, any `text_<lang>`) is the
  answer in that language: for a task in that language it wins over the untagged `text` (Heron's
  LLaVA-Bench files carry GPT-4's English `text` beside the Japanese `jp`).
- Otherwise the untagged fields `text` (LLaVA, Heron, llm-jp-eval-mm, ours), `prediction` (VLMEvalKit),
  `response`, `output`, `pred`, `model_answer`, `answer`. `answer` is the gold answer, not the model's,
  when another of them is beside it (llm-jp-eval-mm's and VLMEvalKit's layout).
- More than one candidate left is refused (choose with --answer-field); none is refused, naming the fields seen.

A line that is not a JSON object, or lacks the question id or the chosen field, is an error with `file:line`.
The last line of our own append-only log may be cut short by a kill: only there (`torn_tail_ok`) is a last
line without its newline that does not parse ignored. The last line of a question id wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyvlm.eval.items import Prediction
from polyvlm.eval.json_lines import read_object_lines
from polyvlm.eval.tasks.table_rows import TaskDataError

ID_FIELDS = ("question_id", "id", "index")  # index: VLMEvalKit's rows
PLAIN_FIELDS = ("text", "prediction", "response", "output", "pred", "model_answer", "answer")
GOLD_WHEN_PAIRED = "answer"  # beside a model's text/prediction, `answer` is the reference
_TAGGED = re.compile(r"^(?:text|answer|prediction|response)_([A-Za-z]{2})$")
_TAG_ALIASES = {"jp": "ja"}  # Heron's LLaVA-Bench translations


class AnswerFileError(TaskDataError):
    """An answer file that cannot be read as answers (the message names the file, and the line)."""


@dataclass(frozen=True)
class AnswerFile:
    """The answers of one file, by question id, and the field they were read from."""

    path: Path
    field: str
    answers: dict[str, Prediction]
    lines: int  # JSON lines read (a question id answered twice counts twice)
    unused_fields: tuple[str, ...] = ()  # other answer-like fields present but not read
    torn_tail: bool = False  # a last line cut short by a kill was ignored


def language_of_field(name: str) -> str:
    """The language a field is tagged with (`text_ja` → ja, `jp` → ja), "" for an untagged field."""
    if name in _TAG_ALIASES:
        return _TAG_ALIASES[name]
    m = _TAGGED.match(name)
    return m.group(1).lower() if m else ""


def read_json_lines(path: Path, torn_tail_ok: bool = False) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """Every non-blank line of a JSONL file as (line number, object); an error (AnswerFileError) names
    `file:line`. With `torn_tail_ok`, a last line without its newline that does not parse is dropped (True
    is returned)."""
    return read_object_lines(path, AnswerFileError, torn_tail_ok)


def _seen(rows: Iterable[tuple[int, dict[str, Any]]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def choose_answer_field(
    path: Path, seen: Sequence[str], languages: Sequence[str] = (), explicit: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """The field holding the answers of a file whose lines carry `seen`, and the other answer-like fields."""
    if explicit:
        if explicit not in seen:
            raise AnswerFileError(
                f"{path}: no field {explicit!r} (--answer-field) in any line; its fields: {', '.join(seen)}"
            )
        return explicit, tuple(f for f in _candidates(seen) if f != explicit)
    candidates = _candidates(seen)
    tagged = [f for f in candidates if language_of_field(f)]
    plain = [f for f in candidates if not language_of_field(f)]
    if len(plain) > 1 and GOLD_WHEN_PAIRED in plain:
        plain.remove(GOLD_WHEN_PAIRED)
    wanted = {lang.lower() for lang in languages}
    for group in ([f for f in tagged if language_of_field(f) in wanted], plain, tagged):
        if len(group) == 1:
            return group[0], tuple(f for f in candidates if f != group[0])
        if len(group) > 1:
            raise AnswerFileError(
                f"{path}: several fields could hold the answers ({', '.join(group)}): "
                "choose one with --answer-field"
            )
    raise AnswerFileError(
        f"{path}: no answer field; expected one of {', '.join(PLAIN_FIELDS)}, text_<lang> or jp "
        f"(or name it with --answer-field); its fields: {', '.join(seen) or 'none'}"
    )


def _candidates(seen: Sequence[str]) -> list[str]:
    tagged = [f for f in seen if language_of_field(f)]
    return [f for f in PLAIN_FIELDS if f in seen] + tagged


def _text(value: Any, where: str, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise AnswerFileError(f"{where}: field {name!r} is not a text (got {type(value).__name__})")


def read_answer_file(
    path: Path,
    languages: Sequence[str] = (),
    answer_field: str | None = None,
    torn_tail_ok: bool = False,
) -> AnswerFile:
    """The answers of a JSONL answer file (see the module's rules); an empty file has no answers."""
    rows, torn = read_json_lines(path, torn_tail_ok)
    if not rows:
        return AnswerFile(path, answer_field or "", {}, 0, torn_tail=torn)
    seen = _seen(rows)
    chosen, unused = choose_answer_field(path, seen, languages, answer_field)
    id_field = next((f for f in ID_FIELDS if f in seen), None)
    if id_field is None:
        raise AnswerFileError(
            f"{path}: no question id field ({', '.join(ID_FIELDS)}); its fields: {', '.join(seen)}"
        )
    answers: dict[str, Prediction] = {}
    for n, row in rows:
        where = f"{path}:{n}"
        if id_field not in row:
            raise AnswerFileError(f"{where}: no {id_field!r} (the file's other lines have one)")
        if chosen not in row:
            raise AnswerFileError(
                f"{where}: no answer field {chosen!r}; this line's fields: {', '.join(row)}"
            )
        qid = str(row[id_field])
        prompt = row.get("input_text", row.get("prompt"))
        prompt = (
            prompt if isinstance(prompt, str) else ""
        )  # shown in outputs only: never worth refusing a file
        answers[qid] = Prediction(qid, _text(row[chosen], where, chosen), prompt, str(row.get("error") or ""))
    return AnswerFile(path, chosen, answers, len(rows), unused, torn)
