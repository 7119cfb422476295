"""Attention that stays inside each packed sample: one causal sdpa call per sample, no (L x L) mask.

A packed row of length L holding samples of lengths n_1..n_k needs only sum(n_i^2) attention pairs,
but sdpa with a block-diagonal 4D mask computes all L^2 of them (the mask only zeroes the crossing
ones) and reads an L x L mask in every layer. Here each sample's slice goes to sdpa on its own with
``is_causal=True`` (torch's CPU flash kernel, no mask tensor at all), and the trailing padding run is
one more slice whose outputs carry no loss. Padded rows (one sample per row) take the same path, so
packed and padded differ only in how many tokens they carry.

The LM's attention implementation is switched to ``SEGMENTS`` for training only; the slices arrive
as the ``segments`` keyword argument, which PolyVLM and Qwen3 hand down to every attention layer
(transformers passes extra forward kwargs through to the attention function). No mask is built for
it (its mask function returns None). The vision tower keeps its own implementation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SEGMENTS = "polyvlm_segments"
"""the attention implementation's registered name"""


def row_segments(seq_ids: torch.Tensor) -> list[list[tuple[int, int]]]:
    """(B, L) sample index per token (-1 padding) -> per row, the (start, end) of each run of one index."""
    out = []
    for row in seq_ids.tolist():
        spans, start = [], 0
        for i in range(1, len(row) + 1):
            if i == len(row) or row[i] != row[start]:
                spans.append((start, i))
                start = i
        out.append(spans)
    return out


def segment_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    segments: list[list[tuple[int, int]]] | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """(B, H, L, D) query, (B, Hkv, L, D) key/value -> (B, L, H, D): causal attention within each segment."""
    if segments is None:
        raise ValueError(f"attention '{SEGMENTS}' needs segments=... in the forward call (training only)")
    if attention_mask is not None:
        raise ValueError(f"attention '{SEGMENTS}' takes no attention mask: the segments are the mask")
    if query.shape[1] != key.shape[1]:
        # key/value heads repeated for the query heads they serve (GQA) rather than sdpa's enable_gqa: on
        # CPU, torch 2.13's flash backward with enable_gqa runs ~100x slower (0.56 s vs 5.6 ms at 445 tokens)
        groups = query.shape[1] // key.shape[1]
        key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    p = dropout if module.training else 0.0
    rows = []
    for b, spans in enumerate(segments):
        if spans[-1][1] != query.shape[2]:
            raise ValueError(f"row {b}: segments end at {spans[-1][1]}, the row has {query.shape[2]} tokens")
        pieces = [
            F.scaled_dot_product_attention(
                query[b : b + 1, :, s:e],
                key[b : b + 1, :, s:e],
                value[b : b + 1, :, s:e],
                dropout_p=p,
                is_causal=True,
                scale=scaling,
            )
            for s, e in spans
        ]
        rows.append(torch.cat(pieces, dim=2))
    return torch.cat(rows).transpose(1, 2).contiguous(), None


def _no_mask(*args, **kwargs) -> None:
    """The mask function for SEGMENTS: none is built."""
    return None


def register() -> None:
    """Make SEGMENTS known to transformers (attention function and mask function); idempotent."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(SEGMENTS, segment_attention_forward)
    AttentionMaskInterface.register(SEGMENTS, _no_mask)


def use_lm_attention(model: torch.nn.Module, implementation: str) -> None:
    """Switch the language model's attention implementation (the vision tower's stays)."""
    if implementation == SEGMENTS:
        register()
    model.language_model.set_attn_implementation(implementation)
