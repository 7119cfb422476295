"""split_sentences: a Document's text segments become sentences; its images keep their places between them."""

from __future__ import annotations

import importlib.util

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Document, Record
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.text.sentence_rules import repair, splitter_for


class SplitSentencesParams(Params):
    """Parameters of split_sentences."""

    language: str = ""
    """split every document as this language (ja: bunkai; others: pysbd); empty: each document's own language"""


def split_segments(segments: list[str], language: str) -> tuple[list[str], list[int]]:
    """The sentences of all segments in order, and the index of each segment's first sentence (plus the end)."""
    split = splitter_for(language)
    sentences: list[str] = []
    starts: list[int] = []
    for segment in segments:
        starts.append(len(sentences))
        # the repair rules work inside a segment: a sentence never crosses a paragraph or an image
        sentences.extend(repair(split(segment)))
    starts.append(len(sentences))
    return sentences, starts


@register
class SplitSentences(MapStep):
    """Split each Document's text segments into sentences (bunkai for Japanese, pysbd else); images stay in place."""

    name = "split_sentences"
    Params = SplitSentencesParams

    def check(self) -> None:
        # bunkai supports Python < 3.12 only; a recipe that may meet Japanese must not start without it
        if self.params.language in ("", "ja") and importlib.util.find_spec("bunkai") is None:
            raise RecipeError(
                "split_sentences needs bunkai for Japanese (Python < 3.12): pip install 'bunkai>=1.5.7', "
                "or set the step's language to a non-Japanese language"
            )

    def apply(self, record: Record) -> Record | Drop:
        if not isinstance(record, Document):
            return Drop("not_a_document")
        language = self.params.language or record.language
        if not language:
            return Drop("no_language", "run language_id first or set the step's language")
        sentences, starts = split_segments(record.texts, language)
        for image in record.images:
            s = image.segment_index
            if s is None:
                continue
            if not 0 <= s <= len(record.texts):
                return Drop("bad_segment_index", f"image before segment {s} of {len(record.texts)}")
            # an image that stood before segment s now stands before that segment's first sentence
            image.segment_index = starts[s]
        record.metadata["sentence_segment"] = [
            k for k in range(len(record.texts)) for _ in range(starts[k + 1] - starts[k])
        ]
        record.texts = sentences
        return record
