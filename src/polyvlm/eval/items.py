"""What flows through an evaluation: an item to answer, the model's prediction, a score per item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EvalItem:
    """One question of a task: images, the prompt shown to the model, and what a scorer compares to.

    `question_id` is unique within a task and stable across runs (resume and caches key on it).
    `images` are local file paths or raw encoded bytes, in prompt order. `reference` is the gold
    answer (one string, or several accepted strings). `choices` maps option letters to option text for
    multiple-choice items. `group` ties items scored together (the rotations of one circular question,
    the two questions of one MME image). `meta` keeps task-specific fields a scorer needs (e.g.
    Heron-Bench's image context, a judge's reference answer) and is written to prediction.jsonl.
    """

    question_id: str
    task: str
    prompt: str
    images: tuple[str | bytes, ...] = ()
    reference: str | tuple[str, ...] | None = None
    choices: dict[str, str] | None = None
    category: str = ""
    language: str = ""
    group: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prediction:
    """The model's answer to one item; `error` is set (and `text` empty) when the model call failed."""

    question_id: str
    text: str
    input_text: str = ""
    error: str = ""


@dataclass(frozen=True)
class ItemScore:
    """One metric's score of one item. `value` None means excluded from the mean (never counted as 0):
    `reason` says why (judge_unparsable, judge_call_failed, prediction_failed, ...)."""

    question_id: str
    value: float | None
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
