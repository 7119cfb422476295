"""The mixture: which source each slot of a global batch comes from, seeded per global batch.

For global batch ``b`` the generator ``default_rng([seed, b])`` draws the sources of all
``global_batch_size`` slots (mixed batches) or one source for the whole batch (single-source batches,
the first ``single_source_steps`` steps). Each source then hands out its next samples in a per-epoch
permutation seeded by ``[seed, source, epoch]``. The whole plan is computed the same on every rank,
independent of workers and ranks: rank r takes slots r, r + world, ...; the only state is the
step and one cursor per source, which a checkpoint stores.

Rates are weights; ``text_only_share`` (when set) fixes the share of text-only sources and spreads
the rest over the others by their rates.
"""

from __future__ import annotations

import numpy as np


def source_probabilities(
    rates: list[float], text_only: list[bool], text_only_share: float | None
) -> np.ndarray:
    """The probability of each source per slot."""
    rates_a = np.asarray(rates, dtype=np.float64)
    text = np.asarray(text_only, dtype=bool)
    if text_only_share is None:
        return rates_a / rates_a.sum()
    if not text.any() or text.all():
        raise ValueError("text_only_share needs both text-only and image sources in the mixture")
    p = np.zeros_like(rates_a)
    p[text] = text_only_share * rates_a[text] / rates_a[text].sum()
    p[~text] = (1 - text_only_share) * rates_a[~text] / rates_a[~text].sum()
    return p


class Mixture:
    """Seeded draws of (source, index) for each global batch, in order; state = step + cursors."""

    def __init__(
        self,
        sizes: list[int],
        probabilities: np.ndarray,
        global_batch_size: int,
        seed: int,
        single_source_steps: int = 0,
    ):
        self.sizes = sizes
        self.p = probabilities
        self.global_batch_size = global_batch_size
        self.seed = seed
        self.single_source_steps = single_source_steps
        self.step = 0
        self.cursors = [0] * len(sizes)
        self._perms: dict[tuple[int, int], np.ndarray] = {}

    def _index(self, source: int, k: int) -> int:
        epoch, at = divmod(k, self.sizes[source])
        key = (source, epoch)
        if key not in self._perms:
            self._perms = {
                kk: v for kk, v in self._perms.items() if kk[0] != source
            }  # keep one epoch per source
            self._perms[key] = np.random.default_rng([self.seed, source, epoch]).permutation(
                self.sizes[source]
            )
        return int(self._perms[key][at])

    def next_batch(self) -> list[tuple[int, int]]:
        """The (source, index) of every slot of the next global batch."""
        rng = np.random.default_rng([self.seed, self.step])
        if self.step < self.single_source_steps:
            sources = [int(rng.choice(len(self.sizes), p=self.p))] * self.global_batch_size
        else:
            sources = rng.choice(len(self.sizes), size=self.global_batch_size, p=self.p).tolist()
        out = []
        for s in sources:
            out.append((s, self._index(s, self.cursors[s])))
            self.cursors[s] += 1
        self.step += 1
        return out

    def state_dict(self) -> dict:
        """Where the mixture stands: the next step and each source's cursor."""
        return {"step": self.step, "cursors": list(self.cursors), "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a saved position."""
        if state["seed"] != self.seed or len(state["cursors"]) != len(self.sizes):
            raise ValueError(
                "the checkpoint's data position belongs to another mixture (seed or sources differ)"
            )
        self.step = state["step"]
        self.cursors = list(state["cursors"])
