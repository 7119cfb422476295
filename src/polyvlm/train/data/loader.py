"""This rank's micro-batches, step by step: the mixture's plan, decoded, tiled and tokenised in workers.

The plan (which samples each micro-batch holds) is computed in the main process from the mixture, the
same on every rank; a DataLoader over it (map-style, so workers never change the order) does the
expensive part. A sample that cannot train (too long, no supervised token, an unreadable image) is
dropped from its micro-batch with its id and reason ("<kind>: <detail>", the kind counted by the loop's
failure gate), which the loop writes to errors.jsonl.

A micro-batch with no image gets a dummy image sample with no targets when the vision tower or the
connector trains: the tower then runs with zero weight in the loss, so every rank calls the same
collectives and DDP / FSDP do not wait forever on a text-only rank.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

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


class MicroBatches(Dataset):
    """Item i: micro-batch i of a RankPlan, tokenised and laid out (packed or padded)."""

    def __init__(
        self,
        plan: RankPlan,
        sources: list[list[TrainSample]],
        processor,
        max_length: int,
        packing: bool,
        max_tiles: int | None,
        needs_vision: bool,
    ):
        self.plan = plan
        self.sources = sources
        self.processor = processor
        self.max_length = max_length
        self.packing = packing
        self.max_tiles = max_tiles
        self.needs_vision = needs_vision
        self._dummy: TokenizedSample | None = None

    def __len__(self) -> int:
        return len(self.plan.micro_batches)

    def dummy(self) -> TokenizedSample:
        """The tokenised dummy image sample (made once per worker)."""
        if self._dummy is None:
            self._dummy = tokenize_sample(
                dummy_image_sample(), self.processor, 1 << 30, max_tiles=1, require_supervised=False
            )
        return self._dummy

    def __getitem__(self, i: int) -> MicroBatch:
        samples, dropped = [], {}
        for source, index in self.plan.micro_batches[i]:
            sample = self.sources[source][index]
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


def micro_batch_loader(dataset: MicroBatches, num_workers: int, start: int = 0) -> DataLoader:
    """Micro-batches from index ``start`` on, in order, built in ``num_workers`` processes."""
    subset = torch.utils.data.Subset(dataset, range(start, len(dataset)))
    return DataLoader(
        subset,
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_as_is,
        persistent_workers=False,
        prefetch_factor=2 if num_workers else None,
    )
