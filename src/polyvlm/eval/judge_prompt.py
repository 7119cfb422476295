"""Judge prompts are data: `prompts/<lang>/eval/<name>.system.txt` and `<name>.user.txt`, hashed.

Fields are `{context}`, `{question}`, `{reference}`, `{answer}`, `{rule}`, filled in one pass, so a model
answer that happens to contain "{reference}" is never expanded (and braces of a JSON example in the
prompt need no escaping). The sha256 covers both files, and a scorer records it with the prompt's name
so a report says which judge prompt produced a figure. See prompts/en/eval/PROVENANCE.md for sources.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

_FIELD = re.compile(r"\{(context|question|reference|answer|rule)\}")


@dataclass(frozen=True)
class JudgePrompt:
    """A judge's system and user templates, their name and the sha256 of both."""

    name: str
    system: str
    user: str
    sha256: str

    def messages(self, **fields: str) -> list[dict[str, str]]:
        """OpenAI-format messages with the fields filled in one pass (unknown {names} left as they are)."""
        user = _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), self.user)
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + [{"role": "user", "content": user}]


def eval_prompt_dir(lang: str = "en") -> Path:
    """The shipped folder of evaluation prompts of a language."""
    return Path(str(resources.files("polyvlm") / "prompts" / lang / "eval"))


def load_judge_prompt(name: str, lang: str = "en", directory: str = "") -> JudgePrompt:
    """The judge prompt `name` (from `directory` when given, else the shipped ones)."""
    base = Path(directory) if directory else eval_prompt_dir(lang)
    user_path = base / f"{name}.user.txt"
    if not user_path.is_file():
        raise FileNotFoundError(f"no judge prompt {name!r}: {user_path} does not exist")
    system_path = base / f"{name}.system.txt"
    system = system_path.read_text(encoding="utf-8").strip() if system_path.is_file() else ""
    user = user_path.read_text(encoding="utf-8")
    digest = hashlib.sha256(f"{system}\x00{user}".encode()).hexdigest()
    return JudgePrompt(name, system, user, digest)


def load_judge_rules(
    name: str = "llava_rules", lang: str = "en", directory: str = ""
) -> tuple[dict[str, Any], str]:
    """A rules file (category → {role, prompt}) and its sha256."""
    path = (Path(directory) if directory else eval_prompt_dir(lang)) / f"{name}.json"
    raw = path.read_bytes()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()
