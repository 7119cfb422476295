"""This rank's micro-batches, step by step: the mixture's plan, read, decoded, tiled and tokenised in workers.

Which samples each micro-batch holds (source, position: a few integers) is decided in the main process
from the mixture, step by step as the loader asks for more, the same on every rank; a map-style
DataLoader is handed those slot lists as its indices (``PlanSampler``), so workers only read records by
position and tokenise, and the order never depends on how many workers there are. Nothing is planned
ahead beyond the loader's prefetch. A sample that cannot train (too long, no supervised token, an unreadable image) is
dropped from its micro-batch with its id and reason ("<kind>: <detail>", the kind counted by the loop's
failure gate), which the loop writes to errors.jsonl.

A micro-batch with no image gets a dummy image sample with no targets when the vision tower or the
connector trains: the tower then runs with zero weight in the loss, so every rank calls the same
collectives and DDP / FSDP do not wait forever on a text-only rank.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Sampler

from polyvlm.train.data.mixture import Mixture
from polyvlm.train.data.packing import MicroBatch, collate
from polyvlm.train.data.sample import IMAGE_MARK, Segment, TrainSample
from polyvlm.train.data.tokenize import NoSupervisedTokens, TokenizedSample, TooLong, tokenize_sample


def dummy_image_sample() -> TrainSample:
    """A mid-grey image with no text to learn: runs the vision tower without touching the loss."""
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 128, dtype=np.uint8)).save(buf, format="PNG")
    return TrainSample("dummy-image", "dummy", [Segment(IMAGE_MARK, False, [buf.getvalue()])])


@dataclass
class RankPlan:
    """Sample (source, index) pairs of each micro-batch this rank runs, in order."""

    micro_batches: list[list[tuple[int, int]]]
    accumulation: int
    """micro-batches per optimiser step"""


def rank_plan(global_batches: list[list[tuple[int, int]]], rank: int, world: int, micro: int) -> RankPlan:
    """Split each global batch: rank r takes slots r, r + world, ...; then micro-batches of ``micro``."""
    out = []
    accumulation = 0
    for batch in global_batches:
        mine = batch[rank::world]
        chunks = [mine[i : i + micro] for i in range(0, len(mine), micro)]
        accumulation = len(chunks)
        out.extend(chunks)
    return RankPlan(out, accumulation)


Slot = tuple[int, int]
"""(source, position) of one sample"""


def rank_micro_batches(
    mixture: Mixture, steps: int, rank: int, world: int, micro: int
) -> Iterator[list[Slot]]:
    """The next ``steps`` global batches of ``mixture`` (advanced), as this rank's micro-batches in order."""
    for _ in range(steps):
        mine = mixture.next_batch()[rank::world]
        yield from (mine[i : i + micro] for i in range(0, len(mine), micro))


class PlanSampler(Sampler):
    """The DataLoader's indices: this rank's micro-batch slot lists from a mixture state on, drawn lazily."""

    def __init__(self, make_mixture, state: dict | None, steps: int, rank: int, world: int, micro: int):
        self.make_mixture, self.state, self.steps = make_mixture, state, steps
        self.rank, self.world, self.micro = rank, world, micro

    def __iter__(self) -> Iterator[list[Slot]]:
        mixture = self.make_mixture()
        if self.state is not None:
            mixture.load_state_dict(self.state)
        return rank_micro_batches(mixture, self.steps, self.rank, self.world, self.micro)


class MicroBatches(Dataset):
    """Item ``slots``: those samples read by position, tokenised and laid out (packed or padded) as one micro-batch."""

    def __init__(
        self,
        sources: Sequence[Sequence[TrainSample]],
        processor,
        max_length: int,
        packing: bool,
        max_tiles: int | None,
        needs_vision: bool,
    ):
        self.sources = sources
        self.processor = processor
        self.max_length = max_length
        self.packing = packing
        self.max_tiles = max_tiles
        self.needs_vision = needs_vision
        self._dummy: TokenizedSample | None = None

    def dummy(self) -> TokenizedSample:
        """The tokenised dummy image sample (made once per worker)."""
        if self._dummy is None:
            self._dummy = tokenize_sample(
                dummy_image_sample(), self.processor, 1 << 30, max_tiles=1, require_supervised=False
            )
        return self._dummy

    def __getitem__(self, slots: list[Slot]) -> MicroBatch:
        samples, dropped = [], {}
        for source, index in slots:
            try:
                sample = self.sources[source][index]
            except (OSError, ValueError) as e:  # a shard that changed or went away since it was indexed
                dropped[f"{getattr(self.sources[source], 'name', source)}:{index}"] = (
                    f"unreadable sample: {type(e).__name__}: {e}"
                )
                continue
            try:
                samples.append(tokenize_sample(sample, self.processor, self.max_length, self.max_tiles))
            except NoSupervisedTokens as e:
                dropped[sample.id] = f"no supervised token: {e}"
            except TooLong as e:
                dropped[sample.id] = f"longer than max_length: {e}"
            except (OSError, ValueError) as e:  # an unreadable image, an image/mark mismatch
                dropped[sample.id] = f"unreadable sample: {type(e).__name__}: {e}"
        has_image = any(s.num_images for s in samples)
        dummy = self.dummy() if (not samples or (self.needs_vision and not has_image)) else None
        pad_id = self.processor.tokenizer.pad_token_id
        return collate(samples, pad_id, self.max_length, self.packing, dummy, dropped)


def _as_is(item):
    return item


def micro_batch_loader(
    dataset: MicroBatches, plan: Sampler | Sequence[list[Slot]], num_workers: int
) -> DataLoader:
    """The micro-batches of ``plan`` (slot lists), in order, built in ``num_workers`` processes."""
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=plan,
        num_workers=num_workers,
        collate_fn=_as_is,
        persistent_workers=False,
        prefetch_factor=2 if num_workers else None,
    )
