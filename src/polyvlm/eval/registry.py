"""Finding tasks and scorers by name: the built-in modules are imported on first use (not at import time)."""

from __future__ import annotations

import importlib
import pkgutil

from polyvlm.eval.scorer import SCORERS, Scorer
from polyvlm.eval.task import TASKS, Task


def _import_all(package: str) -> None:
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")


def load_builtin_tasks() -> dict[str, type[Task]]:
    """Every registered task by name (imports eval/tasks/*)."""
    _import_all("polyvlm.eval.tasks")
    return TASKS


def load_builtin_scorers() -> dict[str, type[Scorer]]:
    """Every registered scorer by name (imports eval/scorers/*)."""
    _import_all("polyvlm.eval.scorers")
    return SCORERS


def get_task(name: str) -> Task:
    """The task called `name`; `<task>-<lang>` not registered is a translation made by `eval translate`."""
    tasks = load_builtin_tasks()
    if name in tasks:
        return tasks[name]()
    base, _, lang = name.rpartition("-")
    if base in tasks and 2 <= len(lang) <= 3 and lang.isalpha():
        from polyvlm.eval.tasks.translated import TranslatedTask

        return TranslatedTask(tasks[base](), lang)
    raise KeyError(f"unknown task {name!r}; `polyvlm eval tasks` lists them")
