"""Structured prompt files: `prompts/<lang>/<name>.yaml` (few-shot examples, instruction lists), hashed.

The sibling of prompt_files.py (plain system/user templates) for prompts that are data, not one template:
the LLaVA-style few-shot examples, the per-language instruction lists, the short-answer instruction. The
sha256 of the file's bytes is what a sample records as `prompt_sha256`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from polyvlm.core.errors import RecipeError
from polyvlm.synth.prompt_files import PromptNotFound, prompt_dir


@dataclass(frozen=True, slots=True)
class PromptData:
    """A parsed prompt file, where it lies and the sha256 of its bytes."""

    name: str
    path: str
    sha256: str
    data: dict[str, Any]

    def get(self, key: str, kind: type | tuple[type, ...] = str) -> Any:
        """A required field of the file, of the given type (a mistake in a prompt file stops the run)."""
        value = self.data.get(key)
        if not isinstance(value, kind) or (isinstance(value, str | list) and not value):
            want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise RecipeError(f"{self.path}: needs a non-empty {key!r} ({want})")
        return value


def load_prompt_data(lang: str, name: str, directory: str = "") -> PromptData:
    """The prompt file `<name>.yaml` of `lang` (from `directory` when given, else the shipped prompts)."""
    base = Path(directory) if directory else prompt_dir(lang)
    path = base / f"{name}.yaml"
    if not path.is_file():
        shipped = sorted(p.parent.name for p in prompt_dir(lang).parent.glob(f"*/{name}.yaml"))
        raise PromptNotFound(
            f"no prompt {name!r} for language {lang!r}: {path} does not exist "
            f"(shipped for: {', '.join(shipped) or 'none'}; write one by translating another language's file)"
        )
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RecipeError(f"{path}: not a valid YAML prompt file: {e}") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a prompt file is a YAML mapping")
    return PromptData(name, str(path), hashlib.sha256(raw).hexdigest(), data)
