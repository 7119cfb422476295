"""The failure gate: a run whose samples mostly fail stops with the reasons, instead of training on nothing.

Two places lose samples: reading a source (a broken line, an unknown role, an empty assistant turn, a
missing image file) and building a micro-batch (too long, no supervised token, an unreadable image).
Each is measured against ``max_failed_share`` (default 1 %): a source whose dropped share passes it stops
the run before any step; a stage whose failed share passes it stops as soon as enough samples were seen
to judge (``MIN_SAMPLES``, or the whole stage when it is smaller), and always at the stage's end, before
a model is saved. A stage that supervised no token at all fails too. The error names the top reasons
with a few sample ids and places, so the fix does not need errors.jsonl.
"""

from __future__ import annotations

from collections import Counter

from polyvlm.core.errors import RecipeError
from polyvlm.train.data.sources import LoadedSource, describe_drops
from polyvlm.train.data.stream import SourceIndex

MIN_SAMPLES = 100
"""samples a stage must have seen before a share is judged mid-stage (a few early failures are noise)"""
EXAMPLES_PER_REASON = 3


def check_source_drops(loaded: LoadedSource | SourceIndex, max_share: float, where: str) -> None:
    """Stop when more than ``max_share`` of a source's records could not be read as samples."""
    dropped = sum(loaded.dropped.values())
    if dropped and dropped / loaded.read > max_share:
        raise RecipeError(
            f"{where}: source {loaded.config.name!r} ({loaded.config.path}): {dropped} of {loaded.read} records "
            f"cannot train ({dropped / loaded.read:.1%} > max_failed_share {max_share:.1%}): "
            f"{describe_drops(loaded)}"
        )


class FailureGate:
    """Counts a stage's samples and failures step by step; raises RecipeError past the allowed share."""

    def __init__(self, stage: str, max_share: float, stage_samples: int, where: str) -> None:
        self.stage = stage
        self.max_share = max_share
        self.judge_after = min(MIN_SAMPLES, stage_samples)
        self.where = where
        self.seen = 0
        self.failed = 0
        self.supervised = 0.0
        self.reasons: Counter = Counter()
        self.examples: dict[str, list[str]] = {}

    def add(self, seen: int, failed: int, supervised: float, dropped: dict[str, str]) -> None:
        """One step: samples planned and failed over all ranks, supervised tokens, this rank's drops."""
        self.seen += seen
        self.failed += failed
        self.supervised += supervised
        for sample_id, reason in dropped.items():
            kind = reason.split(": ", 1)[0]
            self.reasons[kind] += 1
            ids = self.examples.setdefault(kind, [])
            if len(ids) < EXAMPLES_PER_REASON:
                ids.append(sample_id)

    def check(self, final: bool = False) -> None:
        """Raise when the failed share passes the limit (judged once enough was seen), or at the end nothing trained."""
        if (
            (final or self.seen >= self.judge_after)
            and self.failed
            and self.failed / self.seen > self.max_share
        ):
            raise RecipeError(
                f"{self.where}: stage {self.stage!r}: {self.failed} of {self.seen} samples failed "
                f"({self.failed / self.seen:.1%} > max_failed_share {self.max_share:.1%}); no model saved. "
                f"Top reasons: {self.top_reasons()} (every sample in errors.jsonl)"
            )
        if final and self.supervised == 0:
            raise RecipeError(
                f"{self.where}: stage {self.stage!r} supervised no token in {self.seen} samples; no model saved. "
                f"Reasons: {self.top_reasons() or 'every sample is masked (no assistant turn or caption)'}"
            )

    def top_reasons(self, top: int = 3) -> str:
        """The most common failure kinds with counts and example sample ids."""
        return "; ".join(
            f"{n} x {kind} (e.g. {', '.join(self.examples[kind])})"
            for kind, n in self.reasons.most_common(top)
        )
