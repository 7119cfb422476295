"""Prompt building and answer reading of the LLaVA-style generator (captions and boxes stand in for the image).

As in LLaVA, a text-only model reads the five captions of an image (and, for the detail and complex
types only, the objects' normalised boxes), sees few-shot examples from the prompt file, and writes in
the target language; the prompt file says what it writes (`output`): a conversation of Q:/A: blocks, one
Q:/A: pair, or an answer to an instruction taken from the file's instruction list.
"""

from __future__ import annotations

import hashlib
from typing import Any

from polyvlm.core.errors import RecipeError
from polyvlm.core.records import Message, qa_messages
from polyvlm.synth.prompt_data import PromptData
from polyvlm.synth.qa_blocks import parse_qa_blocks, strip_answer_label

INSTRUCT_TYPES = ("conversation", "detail", "complex")
BOX_TYPES = frozenset({"detail", "complex"})  # LLaVA gave boxes to these two only
OUTPUTS = ("conversation", "qa", "answer")


def prompt_name(kind: str) -> str:
    """The prompt file (without .yaml) of an instruction type."""
    return f"llava_{kind}"


def validate_instruct_prompt(prompt: PromptData) -> None:
    """Raise a RecipeError naming the file when a prompt file lacks what the generator reads."""
    output = prompt.get("output")
    if output not in OUTPUTS:
        raise RecipeError(f"{prompt.path}: 'output' must be one of {', '.join(OUTPUTS)}, got {output!r}")
    prompt.get("system")
    for k, ex in enumerate(prompt.data.get("examples") or []):
        if not isinstance(ex, dict) or not ex.get("captions") or not isinstance(ex.get("response"), str):
            raise RecipeError(f"{prompt.path}: example {k} needs 'captions' and 'response'")
    if output == "answer":
        prompt.get("instructions", list)


def box_line(instance: dict[str, Any]) -> str:
    """One object as LLaVA wrote it: `category: [x1, y1, x2, y2]` with at most 3 decimals."""
    coords = ", ".join(f"{round(float(v), 3):g}" for v in instance["bbox"])
    return f"{instance['category']}: [{coords}]"


def scene_text(captions: list[str], instances: list[dict[str, Any]], with_boxes: bool) -> str:
    """What the model reads instead of the image: captions, one a line, then the boxes when asked for."""
    text = "\n".join(c.strip() for c in captions)
    if with_boxes and instances:
        text += "\n\n" + "\n".join(box_line(i) for i in instances)
    return text


def instruct_messages(
    prompt: PromptData, kind: str, captions: list[str], instances: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """The chat request of one image and type: system, few-shot user/assistant pairs, then this image."""
    with_boxes = kind in BOX_TYPES
    messages = [{"role": "system", "content": prompt.get("system").strip()}]
    for ex in prompt.data.get("examples") or []:
        example_scene = scene_text(ex["captions"], ex.get("instances") or [], with_boxes)
        messages.append({"role": "user", "content": example_scene})
        messages.append({"role": "assistant", "content": ex["response"].strip()})
    messages.append({"role": "user", "content": scene_text(captions, instances, with_boxes)})
    return messages


def seeded_choice(options: list[str], key: str, seed: int) -> str:
    """One of `options`, fixed by a hash of (seed, key): the same sample gets the same one on any engine."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def instruct_turns(prompt: PromptData, text: str, sample_id: str, seed: int) -> list[Message] | str:
    """The conversation the model's answer makes (first user turn opens with `<image>`), or why it is unusable."""
    output = prompt.data["output"]
    if output == "answer":
        answer = strip_answer_label(text)
        if not answer:
            return "empty_answer"
        instruction = seeded_choice(prompt.get("instructions", list), sample_id, seed)
        return [Message("user", f"<image>\n{instruction}"), Message("assistant", answer)]
    pairs = parse_qa_blocks(text)
    if isinstance(pairs, str):
        return pairs
    if output == "qa" and len(pairs) != 1:
        return "expected_one_qa"
    return qa_messages(pairs)
