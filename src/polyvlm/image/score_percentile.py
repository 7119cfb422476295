"""score_percentile: drop the lowest-scoring pairs by a named image score, exactly (an Aggregate).

Of the N pairs that carry the score, the floor(N * percentile / 100) lowest are dropped. Ties are broken
by input position (of equal scores the later pair goes first, as dedup keeps the earlier), so the same
pairs go on every engine, shard layout and merge order. Pairs without the score (or with NaN) are
dropped as `no_<score>` and do not count in N.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from pydantic import Field

from polyvlm.core.records import Pair, Record
from polyvlm.core.step import Aggregate, Drop, Params, register

Key = tuple[float, tuple[int, ...]]  # (score, negated position): sorts lowest score, then latest, first


class ScorePercentileParams(Params):
    """Parameters of score_percentile."""

    score: str = "clip"
    """name of the image score (image.scores[score]), e.g. clip or nsfw"""
    percentile: float = Field(30.0, ge=0.0, le=100.0)
    """percent of scored pairs to drop, from the lowest score up"""


@dataclass
class ScoreTable:
    """Every observed (score, position), packed: 8 bytes per score and per position field."""

    scores: array = field(default_factory=lambda: array("d"))
    positions: array = field(default_factory=lambda: array("q"))
    width: int = 0  # fields per position
    cutoff: Key | None = None  # computed once from the merged table
    cutoff_ready: bool = False

    def add(self, score: float, position: tuple[int, ...]) -> None:
        """Record one scored pair."""
        if self.width and len(position) != self.width:
            raise ValueError(f"position {position} has {len(position)} fields, expected {self.width}")
        self.width = len(position)
        self.scores.append(score)
        self.positions.extend(position)

    def extend(self, other: ScoreTable) -> None:
        """Append another partial table (concatenation: associative; the cutoff ignores order)."""
        if self.width and other.width and self.width != other.width:
            raise ValueError(f"position widths differ: {self.width} and {other.width}")
        self.width = self.width or other.width
        self.scores.extend(other.scores)
        self.positions.extend(other.positions)

    def cutoff_for(self, percentile: float) -> Key | None:
        """The key of the last pair to drop (None: drop none)."""
        if not self.cutoff_ready:
            self.cutoff = self._cutoff(percentile)
            self.cutoff_ready = True
        return self.cutoff

    def _cutoff(self, percentile: float) -> Key | None:
        n = len(self.scores)
        # exact decimal arithmetic: 30% of 10 is 3, never 2.9999999999999996 rounded down
        k = math.floor(n * Fraction(repr(percentile)) / 100)
        if k <= 0:
            return None
        scores = np.frombuffer(self.scores, dtype=np.float64)
        neg = -np.frombuffer(self.positions, dtype=np.int64).reshape(n, self.width)
        # lexsort: the last key is the primary one; then position fields in order, negated
        order = np.lexsort((*(neg[:, j] for j in reversed(range(self.width))), scores))
        i = int(order[k - 1])
        return float(scores[i]), tuple(int(x) for x in neg[i])


def pair_score(record: Record, name: str) -> float | None:
    """A pair's named image score, or None when absent, NaN, or the record is not a pair."""
    if not isinstance(record, Pair):
        return None
    score = record.image.scores.get(name)
    return None if score is None or math.isnan(score) else float(score)


@register
class ScorePercentile(Aggregate):
    """Drop the bottom `percentile` percent of pairs by image.scores[score] (reason low_<score>); exact."""

    name = "score_percentile"
    Params = ScorePercentileParams

    def init_state(self) -> ScoreTable:
        return ScoreTable()

    def observe(self, state: ScoreTable, record: Record, position: tuple[int, ...]) -> None:
        score = pair_score(record, self.params.score)
        if score is not None:
            state.add(score, position)

    def merge(self, a: ScoreTable, b: ScoreTable) -> ScoreTable:
        if len(a.scores) < len(b.scores):
            a, b = b, a
        a.extend(b)
        return a

    def apply(self, state: ScoreTable, record: Record, position: tuple[int, ...]) -> Record | Drop:
        name = self.params.score
        score = pair_score(record, name)
        if score is None:
            return Drop(f"no_{name}", "not a pair" if not isinstance(record, Pair) else "")
        cutoff = state.cutoff_for(self.params.percentile)
        if cutoff is not None and (score, tuple(-x for x in position)) <= cutoff:
            return Drop(f"low_{name}", f"{name}={score:.4f} <= cutoff {cutoff[0]:.4f}")
        return record
