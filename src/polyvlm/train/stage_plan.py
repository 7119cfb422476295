"""A stage's data plan: its sources indexed by position, its length in steps, and its mixture's start.

A stage counted in passes (``epochs`` per source, or the stage's epochs with no rates) draws each source's
samples that many times; otherwise sources are drawn by rate for ``steps`` (or the stage's epochs of the
sources' total samples). A source with ``category_rates`` is drawn as one part per category
(train/data/category_split.py), each with its share of the source's rate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import UNCATEGORIZED, StageConfig, TrainConfig
from polyvlm.train.data.category_split import category_counts, category_parts
from polyvlm.train.data.mixture import Mixture, source_probabilities
from polyvlm.train.data.sources import describe_drops
from polyvlm.train.data.stream import SourceIndex, StreamSource, source_index
from polyvlm.train.failure_gate import check_source_drops


@dataclass
class StagePlan:
    """A stage's data, ready to stream: its sources by position, its length and its mixture's start."""

    sources: list[StreamSource]
    steps: int
    make_mixture: Callable[[], Mixture]
    """a fresh mixture at the stage's first step"""
    counts: dict[str, dict]
    """per source: files' records read, samples kept, records dropped by reason (data.json)"""

    def report(self, global_batch_size: int) -> dict:
        """The stage's entry in data.json (and in its checkpoints): steps, samples planned, per-source counts."""
        return {
            "steps": self.steps,
            "samples_planned": self.steps * global_batch_size,
            "sources": self.counts,
        }


def stage_passes(stage: StageConfig, sizes: list[int]) -> list[int] | None:
    """Samples of each source in the stage when it is counted in passes (epochs), else None (rates)."""
    data = stage.data
    if data.per_source_epochs:
        return [max(1, round(s.epochs * n)) for s, n in zip(data.sources, sizes, strict=True)]  # type: ignore[operator]
    rated = (
        any("rate" in s.model_fields_set or s.category_rates is not None for s in data.sources)
        or data.text_only_share is not None
    )
    if stage.epochs is not None and not rated:  # a stage's epochs are passes over each source
        return [max(1, round(stage.epochs * n)) for n in sizes]
    return None


def plan_stage(config: TrainConfig, si: int, seed: int) -> StagePlan:
    """Index the stage's sources (each within the failure share) and set up its mixture."""
    stage = config.stages[si]
    indexes = [source_index(s) for s in stage.data.sources]
    for k, index in enumerate(indexes):
        where = config.line_of("stages", si, "data", "sources", k, "path")
        check_source_drops(index, config.max_failed_share, where)
        if not len(index):
            raise RecipeError(f"{where}: source {index.config.name!r}: no usable sample in {index.config.path!r}: "
                              f"{describe_drops(index)}")  # fmt: skip
    sizes = [len(i) for i in indexes]
    passes = stage_passes(stage, sizes)
    if passes is not None:
        streams = [StreamSource(i) for i in indexes]
        p = [n / sum(passes) for n in passes]
        total = max(1, math.ceil(sum(passes) / stage.global_batch_size))
    else:
        parts = [(s, stream, share) for k, (s, i) in enumerate(zip(stage.data.sources, indexes, strict=True))
                 for stream, share in category_parts(i, config.line_of("stages", si, "data", "sources", k))]  # fmt: skip
        streams = [stream for _, stream, _ in parts]
        try:
            p = source_probabilities(
                [s.rate * share for s, _, share in parts],
                [s.is_text_only for s, _, _ in parts],
                stage.data.text_only_share,
            )
        except ValueError as e:
            raise RecipeError(f"stage {stage.name!r}: {e}") from None
        total = stage.steps or max(1, math.ceil(stage.epochs * sum(sizes) / stage.global_batch_size))
    make = functools.partial(Mixture, [len(s) for s in streams], p, stage.global_batch_size, seed,
                             int(stage.data.single_source_fraction * total), passes, stage.data.shuffle_window)  # fmt: skip
    return StagePlan(streams, total, make, {i.config.name: source_counts(i) for i in indexes})


def source_counts(index: SourceIndex) -> dict:
    """A source's entry in data.json: records read, samples kept (per category when they carry one), drops."""
    counts = {
        "path": index.config.path,
        "read": index.read,
        "samples": len(index),
        "dropped": dict(index.dropped),
    }
    categories = category_counts(index)
    if set(categories) != {UNCATEGORIZED}:
        counts["categories"] = categories
    return counts
