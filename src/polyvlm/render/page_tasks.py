"""Questions with exact answers from a rendered page's ground truth: transcription, heading, table cell, line after X.

The templates are data (prompts/<lang>/render_tasks.yaml); every answer is read off the measured lines,
so it is what the image shows, in reading order.
"""

from __future__ import annotations

import random
from typing import Any

from polyvlm.synth.prompt_data import PromptData

QAPairs = list[tuple[str, str]]


def join_lines(texts: list[str]) -> str:
    """Lines of one block joined: no space between CJK characters, one between Latin words."""
    out = ""
    for t in texts:
        if out and out[-1].isascii() and out[-1].isalnum() and t[:1].isascii() and t[:1].isalnum():
            out += " "
        out += t
    return out


def block_texts(truth: dict[str, Any]) -> dict[int, str]:
    """Each block's whole text, from its lines."""
    by_block: dict[int, list[str]] = {}
    for line in truth["lines"]:
        by_block.setdefault(line["block"], []).append(line["text"])
    return {b: join_lines(t) for b, t in by_block.items()}


def transcription(truth: dict[str, Any]) -> str:
    """The page's text in reading order, one line of the image per line."""
    return "\n".join(line["text"] for line in truth["lines"])


def page_questions(truth: dict[str, Any], prompt: PromptData, rng: random.Random) -> QAPairs:
    """Transcription first, then a heading, a cell and a line-after question where the page has them."""
    pairs = [(rng.choice(prompt.get("transcribe", list)), transcription(truth))]
    texts = block_texts(truth)
    blocks = [b for b in truth["blocks"] if b["id"] in texts]
    headings = [b for b in blocks if b["role"] == "heading"]
    if headings:
        pairs.append((rng.choice(prompt.get("heading", list)), texts[headings[0]["id"]]))
    header = {b["col"]: texts[b["id"]] for b in blocks if b["role"] == "cell" and b["row"] == "0"}
    cells = [b for b in blocks if b["role"] == "cell" and b["row"] not in (None, "0") and b["col"] in header]
    if cells:
        cell = rng.choice(cells)
        question = rng.choice(prompt.get("cell", list))
        question = question.replace("{header}", header[cell["col"]]).replace("{row}", cell["row"])
        pairs.append((question, texts[cell["id"]]))
    after = line_after(truth["lines"], rng)
    if after:
        line, following = after
        pairs.append((rng.choice(prompt.get("line_after", list)).replace("{line}", line), following))
    return pairs


def line_after(lines: list[dict[str, Any]], rng: random.Random) -> tuple[str, str] | None:
    """A (line, the line after it) pair where the first line is unique on the page and long enough to quote."""
    texts = [line["text"] for line in lines]
    candidates = [
        i
        for i in range(len(texts) - 1)
        if len(texts[i]) >= 4 and texts.count(texts[i]) == 1 and lines[i]["role"] != "cell"
    ]
    if not candidates:
        return None
    i = rng.choice(candidates)
    return texts[i], texts[i + 1]
