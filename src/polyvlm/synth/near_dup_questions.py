"""near_duplicate_questions: drop a sample whose question about an image nearly repeats an earlier one's.

Samples are grouped by image (sha256, else pHash, else path, else URL of each of their images); within a
group, a sample goes when one of its user questions has a character n-gram Jaccard >= threshold with a
question of a sample earlier in input order. The first by position stays, whatever order shards are
observed and merged in. A sample is compared with every earlier one, dropped or not, so a chain
A ~ B ~ C drops B and C even where A and C alone would not be near.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Aggregate, Drop, Params, register
from polyvlm.synth.char_ngrams import char_ngrams, jaccard, normalize
from polyvlm.synth.language_table import is_unspaced

Position = tuple[int, ...]
State = dict[str, list[tuple[Position, tuple[str, ...]]]]  # image key -> [(position, normalised questions)]


class NearDuplicateQuestionsParams(Params):
    """Parameters of near_duplicate_questions."""

    threshold: float = Field(0.8, gt=0.0, le=1.0)
    """Jaccard of character n-gram sets at or above which two questions are the same question"""
    ngram: int | None = Field(None, ge=1)
    """n of the character n-grams; none: 2 for unspaced scripts (Japanese, Chinese), 3 otherwise"""
    roles: list[str] = ["user"]
    """roles of the messages that are questions"""


def image_key(record: Record) -> str:
    """Which image(s) a record is about ('' when it has none, or none of them is identified)."""
    keys = []
    for im in record.images:
        key = (
            f"sha256:{im.sha256}"
            if im.sha256
            else f"phash:{im.phash}"
            if im.phash
            else f"path:{im.path}"
            if im.path
            else f"url:{im.url}"
            if im.url
            else ""
        )
        if not key:
            return ""
        keys.append(key)
    return "|".join(keys)


@register
class NearDuplicateQuestions(Aggregate):
    """Drop samples with a user question nearly the same as one of an earlier sample of the same image."""

    name = "near_duplicate_questions"
    Params = NearDuplicateQuestionsParams

    def _questions(self, record: Record) -> tuple[str, ...]:
        if not isinstance(record, Sample):
            return ()
        roles = set(self.params.roles)
        return tuple(q for m in record.messages if m.role in roles and (q := normalize(m.content)))

    def _grams(self, question: str) -> set[str]:
        if is_unspaced("", question):  # spaces in Japanese are layout, not word boundaries
            return set(char_ngrams(question.replace(" ", ""), self.params.ngram or 2))
        return set(char_ngrams(question, self.params.ngram or 3))

    def init_state(self) -> State:
        return {}

    def observe(self, state: State, record: Record, position: Position) -> None:
        key, questions = image_key(record), self._questions(record)
        if key and questions:
            state.setdefault(key, []).append((tuple(position), questions))

    def merge(self, a: State, b: State) -> State:
        if len(a) < len(b):
            a, b = b, a
        for key, items in b.items():
            a.setdefault(key, []).extend(items)
        return a

    def apply(self, state: State, record: Record, position: Position) -> Record | Drop:
        key, questions = image_key(record), self._questions(record)
        earlier = [(pos, qs) for pos, qs in state.get(key, []) if pos < tuple(position)] if key else []
        if not earlier or not questions:
            return record
        mine = [self._grams(q) for q in questions]
        for pos, theirs in sorted(earlier):
            for other in theirs:
                grams = self._grams(other)
                if any(jaccard(g, grams) >= self.params.threshold for g in mine):
                    return Drop("duplicate_question", f"like a question at {list(pos)}")
        return record
