"""The loss of a micro-batch: summed token cross-entropy over supervised targets, divided by the
supervised tokens of the whole global batch (all ranks, all accumulation steps).

With that one normaliser, the gradient of an optimiser step is the same whether the global batch is
one forward or many accumulated ones, packed or padded, on one rank or several: each supervised token
weighs 1/N. The model is given the targets and returns the summed CE itself: the head runs only at
supervised positions, a chunk of rows at a time, with the gradients taken as it goes
(model/supervised_loss.py), so no (tokens x vocabulary) logits exist for the micro-batch.
``full_logits=True`` is the path before that (issue 22): the forward returns the supervised
positions' logits all at once (``logits_to_keep`` as a boolean mask) and autograd takes the CE here;
kept as the benchmark's baseline and the tests' reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from polyvlm.train.data.packing import MicroBatch, block_diagonal_mask
from polyvlm.train.data.tokenize import IGNORE
from polyvlm.train.segment_attention import row_segments


def model_inputs(
    mb: MicroBatch,
    dtype: torch.dtype,
    mask_from_positions: bool = False,
    device: torch.device | str = "cpu",
    segments: bool = False,
) -> dict:
    """The forward's keyword arguments for ``mb``: every processor tensor passed through, plus mask and positions.

    With ``mask_from_positions`` no mask is passed: transformers finds the samples where the position
    ids restart (FlashAttention varlen on GPU; a block mask it builds itself for sdpa). With
    ``segments`` no mask either: each sample's (start, end) goes to the per-sample attention
    (train/segment_attention.py). Otherwise the block-diagonal 4D mask is built here.
    """
    inputs = {k: v.to(device) for k, v in mb.inputs.items() if k != "seq_ids"}
    if segments:
        inputs["attention_mask"] = None
        inputs["segments"] = row_segments(mb.inputs["seq_ids"])
        return inputs
    seq_ids = mb.inputs["seq_ids"].to(device)
    inputs["attention_mask"] = None if mask_from_positions else block_diagonal_mask(seq_ids, dtype)
    return inputs


def micro_batch_loss(
    model: torch.nn.Module,
    mb: MicroBatch,
    normaliser: float,
    mask_from_positions: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    segments: bool = False,
    full_logits: bool = False,
) -> tuple[torch.Tensor, float]:
    """(summed CE / normaliser to backpropagate, the summed CE as a float for logging)."""
    targets = mb.targets.to(device)
    inputs = model_inputs(mb, dtype, mask_from_positions, device, segments)
    if full_logits:
        keep = targets != IGNORE
        out = model(**inputs, logits_to_keep=keep, use_cache=False)
        loss_sum = F.cross_entropy(out.logits.float(), targets[keep], reduction="sum")
    else:
        loss_sum = model(**inputs, targets=targets, use_cache=False).loss
    return loss_sum / normaliser, float(loss_sum.detach())
