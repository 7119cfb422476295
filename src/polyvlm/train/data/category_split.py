"""A source with ``category_rates`` as one mixture source per Jagle category, each with its share of the rate.

Jagle (and FineVision) balance a mixture by category — more OCR QA, less captioning — not only by
dataset. A source's records carry their category (the writers' ``category`` key); the index keeps each
position's. A category c with n_c samples and weight w_c (1 when left out) gets the share
n_c w_c / sum(n w) of the source's rate, so the source's share of the mixture stays its rate and only
the draws inside it move. Each part is a mixture source of its own (its positions, its cursor), so the
mixture and its checkpointed state do not change.
"""

from __future__ import annotations

import numpy as np

from polyvlm.core.errors import RecipeError
from polyvlm.train.config import UNCATEGORIZED
from polyvlm.train.data.stream import SourceIndex, StreamSource


def category_parts(index: SourceIndex, where: str = "") -> list[tuple[StreamSource, float]]:
    """The source's mixture parts and each one's share of the source's rate (the whole source when unweighted)."""
    rates = index.config.category_rates
    if rates is None:
        return [(StreamSource(index), 1.0)]
    found = {name or UNCATEGORIZED: positions for name, positions in index.categories().items()}
    if missing := sorted(set(rates) - set(found)):
        counts = ", ".join(f"{name} {len(p)}" for name, p in sorted(found.items()))
        raise RecipeError(f"{where}: source {index.config.name!r}: category_rates names {missing}, "
                          f"which no record carries (its categories: {counts})")  # fmt: skip
    weights = {name: len(p) * rates.get(name, 1.0) for name, p in found.items()}
    total = sum(weights.values())
    if not total:
        raise RecipeError(f"{where}: source {index.config.name!r}: category_rates weigh every category 0")
    name = index.config.name
    return [(StreamSource(index, np.asarray(found[c], dtype=np.int64), f"{name}/{c}"), w / total)
            for c, w in sorted(weights.items()) if w]  # fmt: skip


def category_counts(index: SourceIndex) -> dict[str, int]:
    """Usable samples per category of a source (data.json)."""
    return {name or UNCATEGORIZED: n for name, n in index.category_sizes().items()}
