"""Who reviews what: a share of the items goes to K annotators (agreement), the rest to one; loads balanced."""

from __future__ import annotations

import random


def assign(
    n_items: int, annotators: list[str], overlap: int, overlap_share: float, seed: int = 0
) -> list[tuple[int, list[str]]]:
    """(item index, its annotators) for every item, in a seeded random order each annotator works through.

    round(overlap_share * n_items) items (chosen at random) get `overlap` annotators, the others one; each
    item goes to the annotators with the fewest items so far (ties broken at random), so loads differ by at
    most one item's worth and overlapping pairs are spread over all annotators.
    """
    if not annotators:
        raise ValueError("a project needs at least one annotator")
    if not 1 <= overlap <= len(annotators):
        raise ValueError(f"--overlap {overlap}: must be between 1 and the {len(annotators)} annotators")
    if not 0.0 <= overlap_share <= 1.0:
        raise ValueError(f"--overlap-share {overlap_share}: must be between 0 and 1")
    rng = random.Random(seed)
    order = list(range(n_items))
    rng.shuffle(order)
    shared = set(order[: round(overlap_share * n_items)]) if overlap > 1 else set()
    load = dict.fromkeys(annotators, 0)
    plan = []
    for item in order:
        k = overlap if item in shared else 1
        tie = {a: rng.random() for a in annotators}
        chosen = sorted(annotators, key=lambda a: (load[a], tie[a]))[:k]
        for a in chosen:
            load[a] += 1
        plan.append((item, sorted(chosen)))
    return plan
