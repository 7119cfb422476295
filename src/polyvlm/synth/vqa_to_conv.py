"""vqa_to_conv: a VQA conversation (read_vqa) gets the target language's short-answer instruction on its first question."""

from __future__ import annotations

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Drop, MapStep, Params, register
from polyvlm.synth.categories import set_category
from polyvlm.synth.prompt_data import PromptData, load_prompt_data
from polyvlm.synth.prompt_files import PromptNotFound


class VqaToConvParams(Params):
    """Parameters of vqa_to_conv."""

    language: str = "ja"
    """language of the instruction (prompts/<language>/vqa_to_conv.yaml: short_answer_instruction)"""
    prompt_dir: str = ""
    """a folder with your own vqa_to_conv.yaml instead of the shipped prompts/<language>/"""


def with_short_answer_instruction(sample: Sample, instruction: str) -> bool:
    """Append the instruction to the first user turn (once); False when the sample has no user turn."""
    first = next((m for m in sample.messages if m.role == "user"), None)
    if first is None:
        return False
    if not first.content.rstrip().endswith(instruction):
        first.content = f"{first.content.rstrip()}\n{instruction}"
    return True


@register
class VqaToConv(MapStep):
    """Make a read_vqa sample (task vqa) a training conversation: short-answer instruction on the first question."""

    name = "vqa_to_conv"
    Params = VqaToConvParams

    def _prompt(self) -> PromptData:
        try:
            prompt = load_prompt_data(self.params.language, "vqa_to_conv", self.params.prompt_dir)
        except PromptNotFound as e:
            raise RecipeError(f"step {self.label}: {e}") from None
        prompt.get("short_answer_instruction")
        return prompt

    def check(self) -> None:
        self._prompt()

    def setup(self) -> None:
        self._prompt_file = self._prompt()
        self._instruction = self._prompt_file.get("short_answer_instruction").strip()

    def apply(self, record: Record) -> Record | Drop:
        self.ensure_setup()
        if not isinstance(record, Sample) or record.task != "vqa":
            return record  # not from read_vqa: for another generator of the recipe
        if not with_short_answer_instruction(record, self._instruction):
            return Drop("no_conversation")
        record.task = "vqa_conversation"
        set_category(record)
        record.language = record.language or self.params.language
        record.metadata["prompt_file"] = f"{self.params.language}/vqa_to_conv.yaml"
        record.metadata["prompt_sha256"] = self._prompt_file.sha256
        return record
