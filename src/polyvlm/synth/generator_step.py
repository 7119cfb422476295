"""The shape shared by the generators that call a chat model once per record: ask, then parse or drop.

A subclass says which records it works on (`wants`: the others pass through, so that one recipe can
hold the generators of several sources), what to ask (`request`) and how to read the answer (`parse`).
This base sends a whole batch in one `complete` call, turns a failed call into `model_error:<reason>`
and an answer cut off at the token limit into `bad_output:truncated`, and stamps every kept sample with
the generator model, its licence, the prompt file's sha256 and the seed.
"""

from __future__ import annotations

from typing import ClassVar

from polyvlm.clients.chat import ChatRequest, ChatResult
from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Drop
from polyvlm.synth.chat_step import ChatStepParams, ClientStep
from polyvlm.synth.generated_by import add_generator
from polyvlm.synth.prompt_data import PromptData, load_prompt_data
from polyvlm.synth.prompt_files import PromptNotFound


class GeneratorParams(ChatStepParams):
    """Parameters every model-calling generator has."""

    language: str = "ja"
    """language of the prompt files (prompts/<language>/) and of the text written"""


class GeneratorStep(ClientStep):
    """A batch step that asks a chat model one question per record and parses each answer into a Sample."""

    prompt_names: ClassVar[tuple[str, ...]] = ()  # the prompt files (without .yaml) this step reads

    def read_prompts(self) -> None:
        self._prompts = self.load_prompts()

    def load_prompts(self) -> dict[str, PromptData]:
        """The step's prompt files for its language; a missing or malformed one is a recipe error."""
        p = self.params
        try:
            return {n: load_prompt_data(p.language, n, p.prompt_dir) for n in self.prompt_names}
        except PromptNotFound as e:
            raise RecipeError(f"step {self.label}: {e}") from None

    def wants(self, record: Record) -> bool:
        """Whether the step works on this record; the others pass through untouched (one recipe, many sources)."""
        raise NotImplementedError

    def request(self, record: Record) -> ChatRequest | Drop:
        """The chat request for one record, or why it cannot be asked."""
        raise NotImplementedError

    def parse(self, record: Record, text: str) -> Sample | Drop:
        """The sample made from the model's answer, or why the answer is unusable."""
        raise NotImplementedError

    def prompt_of(self, record: Record) -> PromptData:
        """The prompt file a record was asked with (the step's only one unless a subclass chooses)."""
        return next(iter(self._prompts.values()))

    def apply_batch(self, records: list[Record]) -> list[Record | Drop]:
        self.ensure_setup()
        asked = [self.request(r) if self.wants(r) else r for r in records]
        todo = [(i, q) for i, q in enumerate(asked) if isinstance(q, ChatRequest)]
        results = self._client.complete([q for _, q in todo]) if todo else []
        # drops and passed records stand as they are; the records asked about become what their answers make
        out: list[Record | Drop] = [
            q if isinstance(q, Drop) else r for r, q in zip(records, asked, strict=True)
        ]
        for (i, _), result in zip(todo, results, strict=True):
            out[i] = self._finish(records[i], result)
        return out

    def _finish(self, record: Record, result: ChatResult) -> Record | Drop:
        if result.text is None:
            return Drop(f"model_error:{result.error or 'unknown'}", result.detail)
        if result.finish_reason == "length":
            # an answer cut at max_tokens ends mid-sentence or mid-block: not training data
            return Drop("bad_output:truncated", f"{result.completion_tokens} completion tokens")
        made = self.parse(record, result.text)
        if isinstance(made, Sample):
            self.stamp(made, self.prompt_of(record))
        return made

    def stamp(self, sample: Sample, prompt: PromptData) -> None:
        """Record who wrote the sample: model, licence, prompt file hash, seed (generated_by.add_generator)."""
        spec = self.params.client
        sample.language = self.params.language
        sample.metadata["prompt_file"] = f"{self.params.language}/{prompt.name}.yaml"
        sample.metadata["prompt_sha256"] = prompt.sha256
        sample.metadata["seed"] = spec.seed
        add_generator(sample, self.name, spec, prompt.sha256)
