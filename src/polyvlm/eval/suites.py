"""Named lists of tasks with one headline each (`polyvlm eval suite NAME`).

A suite names its tasks and, for each, the metric that enters the headline. The headline is the plain
mean of those metrics over the tasks that were scored — every one is on 0-100 (accuracy %, ROUGE-L ×
100, BLEU/F1 × 100, a judge's % of the reference) — as Jagle and JAMMEval average their Japanese tasks. A
task whose data is not on disk, or whose headline metric could not be computed (a judge metric without
`--judge`, every item excluded), is listed as skipped with the reason and never enters the mean: the
headline says over how many tasks it was taken. Add a suite by adding an entry to SUITES.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SuiteTask:
    """One task of a suite and the metric of it that enters the suite's headline."""

    task: str
    metric: str


@dataclass(frozen=True)
class Suite:
    """A named list of tasks; the headline is the mean of their headline metrics (each 0-100)."""

    name: str
    description: str
    tasks: tuple[SuiteTask, ...]


SUITES: dict[str, Suite] = {
    "ja": Suite(
        "ja",
        "Japanese VLM suite: llm-jp-eval-mm's and JAMMEval's Japanese tasks; mean of the task headlines",
        (
            SuiteTask("japanese-heron-bench", "heron_judge"),
            SuiteTask("ja-vlm-bench-in-the-wild", "rougel"),
            SuiteTask("ja-vg-vqa-500", "rougel"),
            SuiteTask("llava-bench-in-the-wild-ja", "llava_judge"),
            SuiteTask("jmmmu", "choice"),
            SuiteTask("jdocqa", "jdocqa"),
            SuiteTask("ja-multi-image-vqa", "rougel"),
            SuiteTask("jic-vqa", "jic_vqa"),
            SuiteTask("mecha-ja", "mecha_ja"),
            SuiteTask("cc-ocr", "cc_ocr"),
            SuiteTask("cvqa-ja", "choice"),
            SuiteTask("jgraphqa-refined", "binary_judge"),
            SuiteTask("business-slide-vqa", "binary_judge"),
        ),
    ),
    "en-docs": Suite(
        "en-docs",
        "English documents, charts and perception (issue 23): each task scored by its official rule; mean",
        (
            SuiteTask("chartqa", "relaxed_match"),
            SuiteTask("docvqa", "anls"),
            SuiteTask("infovqa", "anls"),
            SuiteTask("textvqa", "vqa_accuracy"),
            SuiteTask("okvqa", "vqa_accuracy"),
            SuiteTask("countbenchqa", "count_match"),
            SuiteTask("realworldqa", "exact_match"),
            SuiteTask("mmmu", "mmmu"),
            SuiteTask("blink", "choice"),
        ),
    ),
}


@dataclass(frozen=True)
class SuiteRow:
    """A task's line in a suite's result: its headline value, or why it is not in the mean."""

    task: str
    metric: str
    value: float | None = None
    skipped: str = ""  # the reason (e.g. "no data at data/eval/jdocqa"); "" when scored


def get_suite(name: str) -> Suite:
    """The suite called `name`; a KeyError listing the suites otherwise."""
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; suites: {', '.join(sorted(SUITES))}")
    return SUITES[name]


def suite_headline(rows: Sequence[SuiteRow]) -> float | None:
    """The mean of the scored tasks' values (None when none was scored); skipped tasks never enter it."""
    values = [r.value for r in rows if not r.skipped and r.value is not None]
    return sum(values) / len(values) if values else None
