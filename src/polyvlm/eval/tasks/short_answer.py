"""The instruction the English short-answer tasks append, as lmms-eval's task files word it."""

from __future__ import annotations

SINGLE_WORD_OR_PHRASE = "Answer the question using a single word or phrase."


def short_answer_prompt(question: str) -> str:
    """The question, then on its own line the single-word-or-phrase instruction."""
    return f"{question.strip()}\n{SINGLE_WORD_OR_PHRASE}"
