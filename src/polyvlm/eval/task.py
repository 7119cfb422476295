"""The Task contract and its registry: one file per task under eval/tasks/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from polyvlm.eval.items import EvalItem


class Task:
    """A benchmark: where its data comes from, how an item is asked, and which metrics it reports.

    `load(source)` reads a local directory or file laid out like the benchmark's published dataset
    (same column names) or, where a network exists, a hub dataset by name.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    languages: ClassVar[tuple[str, ...]] = ()
    default_metrics: ClassVar[tuple[str, ...]] = ()
    hub_name: ClassVar[str] = ""  # the published dataset's name, when there is one

    def load(self, source: str) -> Iterator[EvalItem]:
        """The task's items from a local path (or a hub name), in a stable order."""
        raise NotImplementedError


TASKS: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in TASKS and TASKS[cls.name] is not cls:
        raise ValueError(f"task name {cls.name!r} registered twice")
    TASKS[cls.name] = cls
    return cls
