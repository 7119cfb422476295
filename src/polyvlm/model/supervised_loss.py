"""Summed next-token cross-entropy at the supervised positions, without a (tokens x vocabulary) logits
matrix for the whole sequence.

For hidden states ``h`` (N, d) of the supervised positions, head weight ``W`` (V, d) and targets ``t``:

- logits of a chunk of rows: ``z = h W^T`` (chunk, V), taken in float32;
- loss: ``sum_i logsumexp(z_i) - z_i[t_i]``;
- gradient of that sum w.r.t. the logits: ``G = softmax(z) - onehot(t)``, so
  ``dL/dh = G W`` and ``dL/dW = G^T h`` (summed over chunks).

The gradients are computed in the forward, chunk by chunk, while the chunk's logits are at hand: the
backward only scales them by the incoming gradient (the loss is a scalar). So at most one chunk of
logits exists at a time, and no autograd graph over the vocabulary is kept (the same three matmuls
as autograd would run, but one pass of softmax instead of log_softmax + nll_loss and their backwards,
and no fresh (N, V) buffers: on CPU each is page faults and zero fills). The softmax's 1/sum and the
one-hot are applied to the small operands: ``G W = (E W) / s - W[t]`` and
``G^T h = E^T (h / s) - onehot^T h``, with ``E = exp(z - max z)`` and ``s`` its row sums.
"""

from __future__ import annotations

import torch
from torch import nn

# Rows per chunk: 256 x 151k float32 logits are 155 MB; smaller chunks make the matmuls less efficient.
CHUNK_ROWS = 256


class _ChunkedCrossEntropy(torch.autograd.Function):
    """The summed CE of ``hidden @ weight.T`` against ``targets``, its gradients taken in the forward."""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int):
        device = hidden.device.type
        # Under autocast the head would run in the autocast dtype: keep that, with float32 softmax.
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else hidden.dtype
        need_h, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        with torch.autocast(device, enabled=False):
            w = weight.to(dtype)
            grad_h = torch.empty_like(hidden) if need_h else None
            grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if need_w else None
            loss = torch.zeros((), dtype=torch.float32, device=hidden.device)
            for start in range(0, hidden.shape[0], chunk):
                h = hidden[start : start + chunk].to(dtype)
                t = targets[start : start + chunk]
                z = (h @ w.T).float()
                picked = z.gather(1, t[:, None]).squeeze(1)
                peak = z.amax(dim=-1, keepdim=True)
                e = z.sub_(peak).exp_()  # exp(z - max), in the logits' buffer
                total = e.sum(dim=-1)
                loss += (peak.squeeze(1) + total.log() - picked).sum()
                if not (need_h or need_w):
                    continue
                # G = E / total - onehot(t): the 1/total and the onehot go on the small (chunk, d)
                # operands, not on the (chunk, V) matrix, which saves two passes over it.
                e = e.to(dtype)
                if need_h:
                    grad_h[start : start + chunk] = ((e @ w) / total[:, None] - w[t]).to(hidden.dtype)
                if need_w:
                    scaled = (h.float() / total[:, None]).to(dtype)
                    if dtype == torch.float32:
                        grad_w.addmm_(e.T, scaled)
                    else:  # a (V, d) product in the autocast dtype, summed over chunks in float32
                        grad_w.add_(e.T @ scaled)
                    grad_w.index_add_(0, t, h.float(), alpha=-1)
        ctx.save_for_backward(grad_h, grad_w)
        ctx.weight_dtype = weight.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor):
        grad_h, grad_w = ctx.saved_tensors
        return (
            None if grad_h is None else grad_h * grad_loss.to(grad_h.dtype),
            None if grad_w is None else (grad_w * grad_loss).to(ctx.weight_dtype),
            None,
            None,
        )


def supervised_cross_entropy(
    hidden: torch.Tensor, head: nn.Linear, targets: torch.Tensor, chunk: int | None = None
) -> torch.Tensor:
    """Summed CE of ``head(hidden)`` (N, d) against ``targets`` (N,), in chunks (default CHUNK_ROWS rows)."""
    if head.bias is not None:
        raise ValueError("the chunked loss takes a bias-free LM head (Qwen's and Llama's have none)")
    if getattr(head.weight, "ds_status", None) is not None:
        # DeepSpeed ZeRO-3 gathers a partitioned weight only inside the head's own call: go through it.
        return nn.functional.cross_entropy(head(hidden).float(), targets, reduction="sum")
    return _ChunkedCrossEntropy.apply(hidden, head.weight, targets, chunk or CHUNK_ROWS)
