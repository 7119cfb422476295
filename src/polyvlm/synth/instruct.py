"""instruct_tasks and llava_instruct: LLaVA-style instruction data written directly in the target language.

`instruct_tasks` turns each captioned image into one sample per instruction type (conversation, detail,
complex); `llava_instruct` asks a text-only chat model to write each one from the captions (and boxes, for
detail and complex) with the type's few-shot prompt file of the target language.
"""

from __future__ import annotations

import copy
from typing import Literal

from polyvlm.clients.chat import ChatRequest
from polyvlm.core.records import Record, Sample
from polyvlm.core.step import Drop, ExpandStep, Params, register
from polyvlm.synth.categories import set_category
from polyvlm.synth.generator_step import GeneratorParams, GeneratorStep
from polyvlm.synth.llava_prompt import (
    INSTRUCT_TYPES,
    instruct_messages,
    instruct_turns,
    prompt_name,
    validate_instruct_prompt,
)
from polyvlm.synth.prompt_data import PromptData

InstructType = Literal["conversation", "detail", "complex"]


class InstructTasksParams(Params):
    """Parameters of instruct_tasks."""

    types: list[InstructType] = list(INSTRUCT_TYPES)
    """instruction types made per image (LLaVA: conversation, detail, complex)"""


@register
class InstructTasks(ExpandStep):
    """One sample per instruction type and captioned image (id `<image id>-<type>`); other records pass."""

    name = "instruct_tasks"
    Params = InstructTasksParams

    def expand(self, record: Record) -> list[Record] | Drop:
        if not isinstance(record, Sample) or record.task != "captions":
            return [record]  # not from read_coco_captions: for another generator of the recipe
        if not record.metadata.get("captions"):
            return Drop("no_captions")
        out: list[Record] = []
        for kind in dict.fromkeys(self.params.types):  # a type listed twice is made once
            sample = copy.deepcopy(record)
            sample.id = f"{record.id}-{kind}"
            sample.task = f"llava_{kind}"
            sample.metadata["instruct_type"] = kind
            set_category(sample)
            out.append(sample)
        return out


class LlavaInstructParams(GeneratorParams):
    """Parameters of llava_instruct."""

    seed: int = 0
    """which instruction of the prompt file's list each detail sample gets (a hash of seed and sample id); default: the recipe's seed"""


@register
class LlavaInstruct(GeneratorStep):
    """Write LLaVA-style conversation / detail / complex samples in the target language from captions + boxes."""

    name = "llava_instruct"
    Params = LlavaInstructParams
    prompt_names = tuple(prompt_name(k) for k in INSTRUCT_TYPES)

    def load_prompts(self) -> dict[str, PromptData]:
        prompts = super().load_prompts()
        for prompt in prompts.values():
            validate_instruct_prompt(prompt)
        return prompts

    def prompt_of(self, record: Record) -> PromptData:
        return self._prompts[prompt_name(record.metadata["instruct_type"])]

    def wants(self, record: Record) -> bool:
        return isinstance(record, Sample) and record.task.startswith("llava_") and not record.messages

    def request(self, record: Record) -> ChatRequest | Drop:
        assert isinstance(record, Sample)  # wants() let only samples through
        if record.metadata.get("instruct_type") not in INSTRUCT_TYPES:
            return Drop("no_instruct_type", "run instruct_tasks before llava_instruct")
        captions = record.metadata.get("captions") or []
        if not captions:
            return Drop("no_captions")
        kind = record.metadata["instruct_type"]
        instances = record.metadata.get("instances") or []
        return ChatRequest(instruct_messages(self.prompt_of(record), kind, captions, instances))

    def parse(self, record: Record, text: str) -> Sample | Drop:
        assert isinstance(record, Sample)  # request() let only samples through
        prompt = self.prompt_of(record)
        turns = instruct_turns(prompt, text, record.id, self.params.seed)
        if isinstance(turns, str):
            return Drop(f"bad_output:{turns}", text[:200])
        record.messages = turns
        if prompt.data["output"] == "answer":
            record.metadata["instruction_seed"] = self.params.seed
        return record
