"""MMBench (English dev set, VLMEvalKit TSV layout), scored circularly: a question counts only when every
rotation of its options is answered right."""

from __future__ import annotations

from collections.abc import Iterator

from polyvlm.eval.items import EvalItem
from polyvlm.eval.task import Task, register_task
from polyvlm.eval.tasks.mmbench_layout import mmbench_items
from polyvlm.eval.tasks.table_rows import read_rows


@register_task
class MMBench(Task):
    """MMBench: multiple choice over 20 abilities, circular evaluation."""

    name = "mmbench"
    description = "MMBench dev (en), multiple choice with circular evaluation (every rotation right)"
    languages = ("en",)
    default_metrics = ("circular",)
    hub_name = "lmms-lab/MMBench"

    def load(self, source: str) -> Iterator[EvalItem]:
        """Every row's rotations, from the TSV (or the hub table with the same columns)."""
        rows, base = read_rows(source, split="dev", config="en")
        yield from mmbench_items(self.name, rows, base, source, "en", circular=True)
