"""parse_qa_blocks: question/answer pairs from model output written as `Q:` / `A:` blocks separated by `===`.

Tolerant of what models actually write: spacing, full-width colons (Ｑ：), numbered labels (Q1:, 質問2：),
bracketed labels (【質問】), markdown bold (**Q:**), list bullets, chatty lines before the first question or
after the last separator, blank lines, a missing `===` between blocks, and a label alone on its line with
the text below it. Strict about what makes bad training
data: a question without an answer, an answer without a question, an empty question or answer, or text
between separators that is not a labelled block rejects the whole output, with a reason.
"""

from __future__ import annotations

import re

QAPairs = list[tuple[str, str]]

_NUM = r"[0-9０-９]*"
_BOLD = r"(?:\*\*|__)?"
_BULLET = r"(?:[-*・•]\s*|#+\s*)?"
_OPEN = r"(?:[【\[]\s*)?"
_SEP = r"(?:\s*[】\]]\s*[:：]?|\s*[:：])"  # Q: / Ｑ： / 【質問】 / [Q1]:
_Q_WORDS = r"q|ｑ|question|質問|問い|問"
_A_WORDS = r"a|ａ|answer|回答|答え|答"
# a label is the first thing on its line; `Queen:` or `Also:` are not labels (digits only after the word)
_LABEL = re.compile(
    rf"^\s*{_BULLET}{_BOLD}\s*{_OPEN}(?:(?P<q>{_Q_WORDS})|(?P<a>{_A_WORDS}))\s*{_NUM}\s*{_BOLD}{_SEP}\s*{_BOLD}(?P<rest>.*)$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*[=＝]{3,}\s*$")


def parse_qa_blocks(text: str) -> QAPairs | str:
    """The (question, answer) pairs of `Q:`/`A:` blocks in input order, or the reason the text is rejected."""
    pairs: QAPairs = []
    question: list[str] | None = None  # lines of the open question
    answer: list[str] | None = None  # lines of the open answer
    stray: list[str] = []  # unlabelled text since the last separator, before any label
    seen_label = False

    def close() -> str | None:
        nonlocal question, answer
        if question is None and answer is None:
            return None
        if answer is None:
            return "unbalanced:question_without_answer"
        q, a = _join(question or []), _join(answer)
        question, answer = None, None
        if not q:
            return "empty_question"
        if not a:
            return "empty_answer"
        pairs.append((q, a))
        return None

    for line in (text or "").splitlines():
        if _SEPARATOR.match(line):
            reason = close()
            if reason:
                return reason
            if seen_label and _join(stray):
                return "unlabelled_block"
            stray = []
            continue
        m = _LABEL.match(line)
        if m is None:
            target = answer if answer is not None else question
            (target if target is not None else stray).append(line)
            continue
        rest = _strip_bold(m.group("rest"))
        if m.group("q") is not None:
            # a new question closes the pair before it: tolerates a missing `===`
            reason = close()
            if reason:
                return reason
            if seen_label and _join(stray):
                return "unlabelled_block"
            question, stray, seen_label = [rest], [], True
        else:
            if question is None or answer is not None:
                return "unbalanced:answer_without_question"
            answer = [rest]
    reason = close()
    if reason:
        return reason
    # unlabelled text after the last separator is closing chatter, like a preamble before the first label
    return pairs if pairs else "no_qa_blocks"


def strip_answer_label(text: str) -> str:
    """The text without a leading `A:` / `回答：`-style label (models add one even when asked not to)."""
    lines = text.strip().splitlines()
    if lines:
        m = _LABEL.match(lines[0])
        if m is not None and m.group("a") is not None:
            lines[0] = _strip_bold(m.group("rest"))
    return _join(lines)


def _strip_bold(text: str) -> str:
    return re.sub(r"^\s*(?:\*\*|__)\s*", "", text)


def _join(lines: list[str]) -> str:
    return "\n".join(line.rstrip() for line in lines).strip()
