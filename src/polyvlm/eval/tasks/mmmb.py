"""MMMB (Parrot): the same multiple-choice questions in six languages (en, zh, pt, ar, tr, ru), in the
MMBench TSV layout, one file per language named `<anything>_<lang>.tsv` (or a `language` column); not
circular. The category of an item is its language, so the per-category breakdown is per language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.mmbench_layout import mmbench_items
from polyvlm.eval.tasks.table_rows import TABLE_SUFFIXES, TaskDataError, read_rows

LANGUAGES = ("en", "zh", "pt", "ar", "tr", "ru")


def language_files(source: str) -> list[tuple[str, Path]]:
    """(language, file) pairs: a file per language in a directory, or one file (its `language` column)."""
    path = Path(source)
    if path.is_file():
        return [("", path)]
    if not path.is_dir():
        raise TaskDataError(f"{source}: no such directory")
    found = []
    for f in sorted(path.iterdir()):
        lang = f.stem.rsplit("_", 1)[-1].lower()
        if f.suffix in TABLE_SUFFIXES and len(lang) == 2:
            found.append((lang, f))
    if not found:
        raise TaskDataError(f"{source}: no <name>_<lang>.tsv files")
    return found


@register_task
class MMMB(Task):
    """MMMB: multilingual multiple choice, plain accuracy per language."""

    name = "mmmb"
    description = "MMMB: multiple choice in en/zh/pt/ar/tr/ru (MMBench layout), accuracy per language"
    languages: ClassVar[tuple[str, ...]] = LANGUAGES
    default_metrics: ClassVar[tuple[str, ...]] = ("choice",)
    circular: ClassVar[bool] = False

    def load(self, source: str) -> Iterator[EvalItem]:
        """Every language's rows; question ids prefixed by the language so they stay unique."""
        for lang, file in language_files(source):
            rows, base = read_rows(file)
            for item in mmbench_items(self.name, rows, base, str(file), lang or "en", self.circular):
                yield EvalItem(
                    **{
                        **item.__dict__,
                        "question_id": f"{item.language}/{item.question_id}",
                        "group": f"{item.language}/{item.group}",
                        "category": item.language,
                        "meta": {**item.meta, "category": item.category},
                    }
                )


@register_task
class MultilingualMMBench(MMMB):
    """Multilingual MMBench (Parrot): the MMBench questions in six languages, circular evaluation."""

    name = "multilingual-mmbench"
    description = "MMBench in en/zh/pt/ar/tr/ru, circular evaluation, per language"
    default_metrics = ("circular",)
    circular = True
