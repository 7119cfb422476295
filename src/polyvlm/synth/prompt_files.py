"""Prompts are data: `prompts/<lang>/<name>.system.txt` and `<name>.user.txt`, filled with {field}s, hashed.

Only the named fields are replaced (plain str.replace), so braces in a prompt's own text, such as a JSON
example, need no escaping. The hash of both files goes into each sample's provenance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


class PromptNotFound(FileNotFoundError):
    """No prompt file of that name for that language."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """A system and a user template, and the sha256 of the two (what a sample records as its prompt)."""

    system: str
    user: str
    sha256: str

    def messages(self, **fields: str) -> list[dict[str, str]]:
        """OpenAI-format messages with every {field} replaced."""

        def fill(template: str) -> str:
            for key, value in fields.items():
                template = template.replace("{" + key + "}", value)
            return template

        out = [{"role": "system", "content": fill(self.system)}] if self.system.strip() else []
        return out + [{"role": "user", "content": fill(self.user)}]


def prompt_dir(lang: str) -> Path:
    """The shipped prompt folder of a language."""
    return Path(str(resources.files("polyvlm") / "prompts" / lang))


def load_prompt(lang: str, name: str, directory: str = "") -> Prompt:
    """The prompt `name` of `lang` (from `directory` when given, else the shipped prompts)."""
    base = Path(directory) if directory else prompt_dir(lang)
    user_path = base / f"{name}.user.txt"
    if not user_path.is_file():
        raise PromptNotFound(f"no prompt {name!r} for language {lang!r}: {user_path} does not exist")
    system_path = base / f"{name}.system.txt"
    system = system_path.read_text(encoding="utf-8") if system_path.is_file() else ""
    user = user_path.read_text(encoding="utf-8")
    digest = hashlib.sha256(f"{system}\x00{user}".encode()).hexdigest()
    return Prompt(system.strip(), user.strip(), digest)
