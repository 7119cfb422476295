"""A benchmark translated by `polyvlm eval translate` (`mmbench-fr`, `ai2d-de`, ...): the base task's
metrics and metadata, its items read from the translation's `items.jsonl`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task


class TranslatedTask(Task):
    """`<base>-<lang>`: loaded from the directory `eval translate` wrote (or its parent)."""

    def __init__(self, base: Task, language: str) -> None:
        self.base = base
        self.name = f"{base.name}-{language}"  # type: ignore[misc]  # an instance per translation
        self.description = f"{base.description} — machine-translated to {language} (polyvlm eval translate)"  # type: ignore[misc]
        self.languages = (language,)  # type: ignore[misc]
        self.default_metrics = base.default_metrics  # type: ignore[misc]

    def load(self, source: str) -> Iterator[EvalItem]:
        """Items of `source/items.jsonl`, or of `source/<task>-<lang>/items.jsonl`."""
        from polyvlm.eval.item_files import ITEMS_FILE, read_items

        root = Path(source)
        if not (root / ITEMS_FILE).is_file() and (root / self.name / ITEMS_FILE).is_file():
            root = root / self.name
        yield from read_items(root, self.name)
