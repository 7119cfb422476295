"""Connectors from vision patch features to LM embeddings.

``AttentionPoolConnector`` (jina-vlm): features of several ViT layers concatenated (width L*d_v),
every 2x2 neighbourhood pooled by attention with the neighbourhood mean as query, then a SwiGLU
projection to the LM width d_l. ``MLPConnector`` (VILA): one layer's patches through
Linear-GELU-Linear, no pooling. Both take a list of region grids (H, W, width) and return the region
tokens row-major, one after the other: the order of ``<im_patch>`` tokens in the prompt.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def pooling_windows(grid: torch.Tensor, pool: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, D) -> (h*w, pool*pool, D) windows in row-major order and a (h*w, pool*pool) validity mask.

    An odd side is padded with one row (bottom) or column (right) of zeros; the mask marks those
    cells so they take part in neither the mean query nor the attention (an edge window pools only
    its 1 or 2 real patches, a corner window only its single patch).
    """
    height, width, dim = grid.shape
    pad_h, pad_w = -height % pool, -width % pool
    padded = F.pad(grid, (0, 0, 0, pad_w, 0, pad_h))
    mask = F.pad(torch.ones(height, width, dtype=torch.bool, device=grid.device), (0, pad_w, 0, pad_h))
    h, w = (height + pad_h) // pool, (width + pad_w) // pool
    windows = padded.view(h, pool, w, pool, dim).permute(0, 2, 1, 3, 4).reshape(h * w, pool * pool, dim)
    mask = mask.view(h, pool, w, pool).permute(0, 2, 1, 3).reshape(h * w, pool * pool)
    return windows, mask


class AttentionPool(nn.Module):
    """softmax(Q Wq (H Wk)^T / sqrt(d_k)) H Wv Wo with Q the mean of each window's valid patches."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.q_proj = nn.Linear(in_dim, out_dim)
        self.k_proj = nn.Linear(in_dim, out_dim)
        self.v_proj = nn.Linear(in_dim, in_dim)
        self.o_proj = nn.Linear(in_dim, out_dim)
        self.scale = 1 / math.sqrt(out_dim)

    def forward(self, windows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(N, k, in_dim) windows with (N, k) mask -> (N, out_dim)."""
        weights = mask.unsqueeze(-1).to(windows.dtype)
        query = (windows * weights).sum(1) / weights.sum(1)
        scores = torch.einsum("nd,nkd->nk", self.q_proj(query), self.k_proj(windows)) * self.scale
        attn = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        return self.o_proj(torch.einsum("nk,nkd->nd", attn, self.v_proj(windows)))


class SwiGLU(nn.Module):
    """(Swish(x W1) * x W2) W3 with W1, W2: in -> hidden and W3: hidden -> out."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.w1 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w3 = nn.Linear(hidden_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project the last dimension."""
        return self.w3(F.silu(self.w1(x)) * self.w2(x))


class AttentionPoolConnector(nn.Module):
    """2x2 attention pooling of concatenated layer features, then SwiGLU to the LM width."""

    pool = 2

    def __init__(self, vision_dim: int, num_layers: int, text_dim: int):
        super().__init__()
        self.attention_pool = AttentionPool(vision_dim * num_layers, vision_dim)
        self.projection = SwiGLU(vision_dim, 3 * text_dim, text_dim)

    def forward(self, grids: list[torch.Tensor]) -> torch.Tensor:
        """Region grids (H, W, L*d_v) -> (sum of ceil(H/2)*ceil(W/2), d_l) tokens, regions in order."""
        # Windows of every region go through the pool and projection as one batch.
        windows, masks = zip(*(pooling_windows(g, self.pool) for g in grids), strict=True)
        pooled = self.attention_pool(torch.cat(windows), torch.cat(masks))
        return self.projection(pooled)


class MLPConnector(nn.Module):
    """VILA's projector: Linear -> GELU -> Linear on every patch, no pooling."""

    pool = 1

    def __init__(self, vision_dim: int, num_layers: int, text_dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(vision_dim * num_layers, text_dim)
        self.linear_2 = nn.Linear(text_dim, text_dim)

    def forward(self, grids: list[torch.Tensor]) -> torch.Tensor:
        """Region grids (H, W, L*d_v) -> (sum of H*W, d_l) tokens, regions in order."""
        patches = torch.cat([g.reshape(-1, g.shape[-1]) for g in grids])
        return self.linear_2(F.gelu(self.linear_1(patches)))


CONNECTORS = {"attention_pool": AttentionPoolConnector, "mlp": MLPConnector}
