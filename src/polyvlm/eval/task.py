"""The Task contract and its registry: one file per task under eval/tasks/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from polyvlm.core.registry import Registry
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


TASKS = Registry("task")  # name -> Task subclass
register_task = TASKS.add  # class decorator: make a task available by its `name`
