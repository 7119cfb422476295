"""The mixture: which sample fills each slot of a global batch, drawn per global batch from seeded generators.

For global batch ``b`` the generator ``default_rng([seed, b])`` draws the sources of all
``global_batch_size`` slots (mixed batches) or one source for the whole batch (single-source batches,
the first ``single_source_steps`` steps). With ``passes`` (a stage counted in epochs per source) the
slots are drawn without replacement from each source's remaining samples, so the stage is exactly that
many passes over each source; otherwise by the rates' probabilities. Each source then hands out its next
position in a windowed shuffle: per epoch, the windows of ``window`` positions in an order seeded by
``[seed, source, epoch]``, and the positions of each window in an order seeded by ``[seed, source,
epoch, window]`` — memory bounded by the window, and position k found without drawing the k before it.

The plan is computed the same on every rank, independent of workers and ranks: rank r takes slots r,
r + world, ...; the whole state is the step, one cursor per source (and the remaining counts), which a
checkpoint stores.

Rates are weights; ``text_only_share`` (when set) fixes the share of text-only sources and spreads
the rest over the others by their rates.
"""

from __future__ import annotations

import numpy as np

SHUFFLE_WINDOW = 1 << 16


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


class WindowShuffle:
    """Position k of a source's endless sample order: epochs of windowed permutations, by index."""

    def __init__(self, size: int, seed: int, source: int, window: int = SHUFFLE_WINDOW):
        self.size, self.seed, self.source, self.window = size, seed, source, window
        self._epoch: tuple[int, np.ndarray, np.ndarray] | None = None
        self._perm: tuple[tuple[int, int], np.ndarray] | None = None

    def __getitem__(self, k: int) -> int:
        epoch, at = divmod(k, self.size)
        if self._epoch is None or self._epoch[0] != epoch:
            n = -(-self.size // self.window)
            order = np.random.default_rng([self.seed, self.source, epoch]).permutation(n)
            lengths = np.minimum(self.window, self.size - order * self.window)
            self._epoch = (epoch, order, np.cumsum(lengths))
        _, order, ends = self._epoch
        j = int(np.searchsorted(ends, at, side="right"))
        w = int(order[j])
        if self._perm is None or self._perm[0] != (epoch, w):
            length = min(self.window, self.size - w * self.window)
            perm = np.random.default_rng([self.seed, self.source, epoch, w]).permutation(length)
            self._perm = ((epoch, w), perm)
        start = int(ends[j - 1]) if j else 0
        return w * self.window + int(self._perm[1][at - start])


class Mixture:
    """Seeded draws of (source, position) for each global batch, in order; state = step + cursors."""

    def __init__(
        self,
        sizes: list[int],
        probabilities: np.ndarray,
        global_batch_size: int,
        seed: int,
        single_source_steps: int = 0,
        passes: list[int] | None = None,
        window: int = SHUFFLE_WINDOW,
    ):
        self.sizes = sizes
        self.p = probabilities
        self.global_batch_size = global_batch_size
        self.seed = seed
        self.single_source_steps = single_source_steps
        self.step = 0
        self.cursors = [0] * len(sizes)
        self.remaining = list(passes) if passes is not None else None
        self._orders = [WindowShuffle(n, seed, s, window) for s, n in enumerate(sizes)]

    def _sources(self, rng: np.random.Generator) -> list[int]:
        """The source of every slot of this batch."""
        n, g = len(self.sizes), self.global_batch_size
        left = np.asarray(self.remaining if self.remaining is not None else [0] * n, dtype=np.int64)
        if self.step < self.single_source_steps:
            p = left / left.sum() if left.sum() else self.p
            s = int(rng.choice(n, p=p))
            if self.remaining is not None:
                self.remaining[s] = max(0, self.remaining[s] - g)
            return [s] * g
        if not left.sum():
            return rng.choice(n, size=g, p=self.p).tolist()
        # exact passes: without replacement from what is left; past the end (a last partial batch), by rate
        counts = rng.multivariate_hypergeometric(left, min(g, int(left.sum())))
        self.remaining = (left - counts).tolist()
        slots = np.repeat(np.arange(n), counts)
        if len(slots) < g:
            slots = np.concatenate([slots, rng.choice(n, size=g - len(slots), p=self.p)])
        return rng.permutation(slots).tolist()

    def next_batch(self) -> list[tuple[int, int]]:
        """The (source, position) of every slot of the next global batch."""
        rng = np.random.default_rng([self.seed, self.step])
        out = []
        for s in self._sources(rng):
            out.append((s, self._orders[s][self.cursors[s]]))
            self.cursors[s] += 1
        self.step += 1
        return out

    def state_dict(self) -> dict:
        """Where the mixture stands: the next step, each source's cursor (and what is left of its passes)."""
        state = {
            "step": self.step,
            "cursors": list(self.cursors),
            "seed": self.seed,
            "sizes": list(self.sizes),
        }
        if self.remaining is not None:
            state["remaining"] = list(self.remaining)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue from a saved position (refused when it belongs to other sources or another seed)."""
        if (
            state["seed"] != self.seed
            or len(state["cursors"]) != len(self.sizes)
            or state.get("sizes", self.sizes) != list(self.sizes)
            or ("remaining" in state) != (self.remaining is not None)
        ):
            raise ValueError(
                "the checkpoint's data position belongs to another mixture (seed, sources or their sizes differ)"
            )
        self.step = state["step"]
        self.cursors = list(state["cursors"])
        if self.remaining is not None:
            self.remaining = list(state["remaining"])
