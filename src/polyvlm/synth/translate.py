"""translate: translate conversations, captions and QA fields with a chat model, structure kept, then verified.

Each text (a message, a caption, a metadata field) is protected (placeholders.py), sent as one request
(all texts of a batch of records in one `complete` call), restored, and checked: placeholders intact
(structure_lost), language of the output (wrong_language:<code>), length ratio for the language pair
(length_ratio) and, when asked, similarity of a back-translation to the source (low_back_similarity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from polyvlm.clients.chat import ChatRequest, ChatResult
from polyvlm.core.records import Record
from polyvlm.core.step import Drop, register
from polyvlm.synth.chat_failures import unusable
from polyvlm.synth.chat_step import ChatStep, ChatStepParams
from polyvlm.synth.generated_by import add_generator
from polyvlm.synth.language_table import language_name, length_ratio_bounds
from polyvlm.synth.placeholders import KINDS, Protected, StructureLost, prose, protect, restore
from polyvlm.synth.text_slots import Slot, originals, record_slots, set_slot
from polyvlm.synth.translation_checks import back_similarity, length_ratio_off, wrong_language
from polyvlm.text.langid import LanguageIdentifier

ProtectedKind = Literal[
    "code_block", "inline_code", "placeholder", "url", "email", "media", "box", "option", "number"
]


class TranslateParams(ChatStepParams):
    """Parameters of translate (and client, prompt_dir, batch_size)."""

    target: str = Field(min_length=2)
    """language to translate into (ISO 639-1: fr, de, it, es, ja, ...)"""
    source: str = "en"
    """language translated from; records labelled with another language go (source_language:<code>)"""
    roles: list[str] = ["system", "user", "assistant"]
    """roles of a Sample's messages that are translated"""
    text: bool = True
    """translate a Pair's text (a caption) and a Document's text segments"""
    metadata_keys: list[str] = []
    """metadata fields (a string or a list of strings) translated too: caption, question, answer, options"""
    protect: list[ProtectedKind] = list(KINDS)
    """what is kept out of the model's reach behind ⟦n⟧ placeholders and restored verbatim"""
    prompt: str = "translate"
    """prompt name: prompts/en/<prompt>.system.txt and .user.txt, with {source_name} {target_name} {text}"""
    check_language: bool = True
    """drop a translation that language id says is not in the target language (wrong_language:<code>)"""
    check_min_chars: int = Field(20, ge=1)
    """texts shorter than this are too short to judge by language id or length ratio on their own"""
    length_ratio_tolerance: float = Field(2.0, gt=1.0)
    """accepted length ratio: the language pair's usual ratio (language_table.DENSITY) ÷ or × this"""
    length_ratio: tuple[float, float] | None = None
    """explicit (low, high) bounds of len(translation) / len(source), instead of the tolerance"""
    back_translate: bool = False
    """translate the output back into the source language and compare (costs a second call per text)"""
    back_similarity: float = Field(0.4, ge=0.0, le=1.0)
    """least character-trigram F1 between the source and its back-translation (low_back_similarity)"""
    keep_source: bool = True
    """keep the untranslated texts in metadata["translated_from"] (for review); language is always kept"""
    target_key: str = ""
    """translate only records whose metadata[target_key] is `target` (others pass untouched): one translate
    step per language after translation_targets fanned each record out"""

    @model_validator(mode="after")
    def _two_languages(self) -> TranslateParams:
        if self.source == self.target:
            raise ValueError(f"source and target are both {self.target!r}")
        return self


@dataclass(slots=True)
class _Job:
    """One record on its way through the step: its protected texts and what the model made of them."""

    record: Record
    slots: list[Slot] = field(default_factory=list)
    protected: list[Protected] = field(default_factory=list)
    # per slot: the model's text, restored once verified (None: nothing was asked)
    outputs: list[str | None] = field(default_factory=list)
    drop: Drop | None = None


@register
class Translate(ChatStep):
    """Translate messages, captions and QA fields with placeholders for structure; verify; drop with reasons."""

    name = "translate"
    Params = TranslateParams

    def prompt_file(self) -> tuple[str, str]:
        return "en", self.params.prompt

    def setup(self) -> None:
        super().setup()
        p = self.params
        self._lid = LanguageIdentifier() if p.check_language else None
        self._bounds = p.length_ratio or length_ratio_bounds(p.source, p.target, p.length_ratio_tolerance)

    def _request(self, text: str, source: str, target: str) -> ChatRequest:
        fields = {"source_name": language_name(source), "target_name": language_name(target), "text": text}
        return ChatRequest(self._prompt.messages(**fields))

    def _complete(self, texts: list[str], source: str, target: str) -> list[ChatResult]:
        return self._client.complete([self._request(t, source, target) for t in texts]) if texts else []

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        p = self.params
        jobs = [self._prepare(r) for r in records]
        asks = [
            (job, i) for job in jobs if not job.drop for i, pr in enumerate(job.protected) if pr.has_words
        ]
        results = self._complete([job.protected[i].text for job, i in asks], p.source, p.target)
        for (job, i), result in zip(asks, results, strict=True):
            if job.drop is None:
                job.drop = unusable(result, "empty_translation")
                job.outputs[i] = result.text
        for job in jobs:
            if job.drop is None:
                job.drop = self._verify(job)
        if p.back_translate:
            self._back_translate([job for job in jobs if job.drop is None])
        return [job.drop if job.drop else self._finish(job) for job in jobs]

    def _prepare(self, record: Record) -> _Job:
        p = self.params
        job = _Job(record)
        if p.target_key and record.metadata.get(p.target_key) != p.target:
            return job  # addressed to another language's translate step
        if record.language and record.language not in (p.source, p.target):
            job.drop = Drop(f"source_language:{record.language}", f"translate expects {p.source}")
            return job
        if record.language == p.target:
            return job  # already in the target language: passes untouched
        job.slots = record_slots(record, roles=p.roles, text=p.text, metadata_keys=p.metadata_keys)
        job.protected = [protect(s.text, frozenset(p.protect)) for s in job.slots]
        job.outputs = [None] * len(job.slots)
        return job

    def _verify(self, job: _Job) -> Drop | None:
        p = self.params
        units = []
        for i, (pr, out) in enumerate(zip(job.protected, job.outputs, strict=True)):
            if out is None:
                continue
            try:
                job.outputs[i] = restore(pr, out)
            except StructureLost as e:
                return Drop("structure_lost", f"{job.slots[i].where}: {e}")
            units.append((pr.prose, prose(out)))
        if self._lid is not None:
            reason = wrong_language(units, p.target, self._lid.detect, p.check_min_chars)
            if reason:
                return Drop(reason)
        off = length_ratio_off(units, self._bounds, p.check_min_chars)
        return Drop("length_ratio", off) if off else None

    def _back_translate(self, jobs: list[_Job]) -> None:
        p = self.params
        asks = [(job, i) for job in jobs for i, out in enumerate(job.outputs) if out is not None]
        # the restored translation is protected again, so numbers and code stay out of the comparison
        texts = [protect(job.outputs[i] or "", frozenset(p.protect)).text for job, i in asks]
        results = self._complete(texts, p.target, p.source)
        pairs: dict[int, list[tuple[str, str]]] = {}
        for (job, i), result in zip(asks, results, strict=True):
            if job.drop is None and (failed := unusable(result, "empty_back_translation")):
                job.drop = failed
            pairs.setdefault(id(job), []).append((job.protected[i].prose, prose(result.text or "")))
        for job in jobs:
            if job.drop is None and id(job) in pairs:
                sources, backs = zip(*pairs[id(job)], strict=True)
                sim = back_similarity(list(sources), list(backs))
                job.record.metadata["back_similarity"] = round(sim, 4)
                if sim < p.back_similarity:
                    job.drop = Drop("low_back_similarity", f"{sim:.3f} < {p.back_similarity}")

    def _finish(self, job: _Job) -> Record:
        p, record = self.params, job.record
        if not job.slots:
            return record
        if p.keep_source:
            record.metadata["translated_from"] = {"language": p.source, **originals(record, job.slots)}
        else:
            record.metadata["translated_from"] = {"language": p.source}
        for slot, out in zip(job.slots, job.outputs, strict=True):
            if out is not None:
                set_slot(record, slot.where, out)
        record.language = p.target
        if any(out is not None for out in job.outputs):
            add_generator(record, self.name, p.client, self._prompt.sha256)
        return record
