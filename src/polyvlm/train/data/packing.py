"""Micro-batches as tensors: several samples packed into one row, or one sample per padded row.

Packing puts samples one after another in rows of at most ``max_length`` tokens, balanced so that
rows are nearly equal and little padding is left (deterministic: longest first into the least loaded
row, for the row count that pads least). Each token carries the index of its sample (``seq_ids``,
-1 for padding); positions restart at 0 for every sample; the attention mask is block-diagonal and
causal, so a token sees only earlier tokens of its own sample::

    allowed[b, i, j] = seq_ids[b, i] == seq_ids[b, j] >= 0  and  j <= i      (padding sees itself)

Padded rows use the same construction with one sample per row, so the two layouts differ only in
where the tokens sit: their losses and gradients must agree (tests/train/test_packing.py).
Image tensors are concatenated in the order their tokens appear, row by row, as the model fills
``<im_patch>`` slots in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from polyvlm.train.data.tokenize import IGNORE, TokenizedSample


@dataclass
class MicroBatch:
    """Model inputs of one forward pass, the shifted targets, and what it holds."""

    inputs: dict[str, torch.Tensor]
    """input_ids, position_ids, seq_ids and the processor's image tensors"""
    targets: torch.Tensor
    sample_ids: list[str]
    tokens: int
    """real (non-padding) tokens, the dummy image sample excluded"""
    padding: int
    supervised: int
    dropped: dict[str, str]
    """id -> reason of samples this micro-batch could not use"""


def pack_rows(lengths: list[int], max_length: int, packing: bool) -> list[list[int]]:
    """Sample indices per row: one per row unpadded, or packed into balanced rows with little padding.

    For each row count from ``ceil(total / max_length)`` up, samples go longest first into the least
    loaded row with room; the layout that needs the least padding (rows are padded to the longest)
    wins, fewer rows on a tie. Each row keeps its samples in their original order.
    """
    if not packing:
        return [[i] for i in range(len(lengths))]
    total = sum(lengths)
    best: tuple[int, int, list[list[int]]] | None = None
    for k in range(max(1, -(-total // max_length)), len(lengths) + 1):
        rows = _balanced(lengths, max_length, k)
        if rows is None:
            continue
        padding = k * max(sum(lengths[i] for i in row) for row in rows) - total
        if best is None or padding < best[0]:
            best = (padding, k, rows)
        if padding == 0:
            break
    assert best is not None  # k = len(lengths) always fits: every sample is <= max_length
    return sorted((sorted(row) for row in best[2]), key=lambda row: row[0])


def _balanced(lengths: list[int], max_length: int, k: int) -> list[list[int]] | None:
    """Longest first into the least loaded of ``k`` rows with room; None if a sample finds none."""
    rows: list[list[int]] = [[] for _ in range(k)]
    load = [0] * k
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        fits = [r for r in range(k) if load[r] + lengths[i] <= max_length]
        if not fits:
            return None
        r = min(fits, key=lambda r: (load[r], r))
        rows[r].append(i)
        load[r] += lengths[i]
    return [row for row in rows if row]


def collate(
    samples: list[TokenizedSample],
    pad_id: int,
    max_length: int,
    packing: bool,
    dummy: TokenizedSample | None = None,
    dropped: dict[str, str] | None = None,
) -> MicroBatch:
    """Lay ``samples`` out in rows; ``dummy`` (an image sample with no targets) joins when given."""
    real = len(samples)
    everything = samples + ([dummy] if dummy is not None else [])
    rows = pack_rows([len(s.input_ids) for s in everything], max_length, packing)
    width = max(sum(len(everything[i].input_ids) for i in row) for row in rows)
    shape = (len(rows), width)
    input_ids = torch.full(shape, pad_id, dtype=torch.long)
    targets = torch.full(shape, IGNORE, dtype=torch.long)
    position_ids = torch.zeros(shape, dtype=torch.long)
    seq_ids = torch.full(shape, -1, dtype=torch.long)
    images: dict[str, list[torch.Tensor]] = {}
    for r, row in enumerate(rows):
        at = 0
        for i in row:
            s = everything[i]
            n = len(s.input_ids)
            input_ids[r, at : at + n] = torch.tensor(s.input_ids)
            targets[r, at : at + n] = torch.tensor(s.targets)
            position_ids[r, at : at + n] = torch.arange(n)
            seq_ids[r, at : at + n] = i
            at += n
            for key, value in s.image_inputs.items():
                images.setdefault(key, []).append(value)
    tokens = sum(len(s.input_ids) for s in samples)
    return MicroBatch(
        inputs={
            "input_ids": input_ids,
            "position_ids": position_ids,
            "seq_ids": seq_ids,
            **{k: torch.cat(v) for k, v in images.items()},
        },
        targets=targets,
        sample_ids=[s.id for s in samples[:real]],
        tokens=tokens,
        padding=int((seq_ids < 0).sum()),
        supervised=int((targets != IGNORE).sum()),
        dropped=dict(dropped or {}),
    )


def block_diagonal_mask(seq_ids: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, L) sample index per token -> (B, 1, L, L) additive mask: 0 where allowed, the dtype's min elsewhere."""
    same = seq_ids[:, :, None] == seq_ids[:, None, :]
    causal = torch.ones(seq_ids.shape[1], seq_ids.shape[1], dtype=torch.bool, device=seq_ids.device).tril()
    allowed = same & causal & (seq_ids[:, :, None] >= 0)
    allowed |= torch.eye(
        seq_ids.shape[1], dtype=torch.bool, device=seq_ids.device
    )  # padding: no empty row (NaN)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=seq_ids.device)
    return mask.masked_fill(~allowed, torch.finfo(dtype).min)[:, None]
