"""Connectors from vision patch features to LM embeddings, in two steps: per crop, then per token.

``pool_crops`` works on each crop (thumbnail or tile) on its own: (N, P, P, width) -> (N, T, T, d).
The model then keeps each image's tokens (``tile_layout.py``) and ``project`` maps them to the LM width.

``AttentionPoolConnector`` (jina-vlm, as its released code runs): features of several ViT layers
concatenated (width L*d_v), every 2x2 window of a crop pooled by multi-head attention whose single
query is the window mean, then a SwiGLU projection to the LM width d_l. ``MLPConnector`` (VILA): one
layer's patches through Linear-GELU-Linear, no pooling.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def pooling_windows(crops: torch.Tensor, pool: int) -> torch.Tensor:
    """(N, P, P, D) -> (N*T*T, pool*pool, D) windows, crop by crop and row-major within a crop.

    An odd side is padded with one row (bottom) or column (right) of zeros, with no mask: as in the
    reference, the zeros take part in the mean query and in the attention (T = ceil(P / pool)).
    """
    n, height, width, dim = crops.shape
    padded = F.pad(crops, (0, 0, 0, -width % pool, 0, -height % pool))
    h, w = padded.shape[1] // pool, padded.shape[2] // pool
    windows = padded.view(n, h, pool, w, pool, dim).permute(0, 1, 3, 2, 4, 5)
    return windows.reshape(n * h * w, pool * pool, dim)


class AttentionPool(nn.Module):
    """Multi-head attention pooling with the window mean as the query.

    For a window X (k, in_dim) with mean x̄ (1, in_dim), H heads of d_h each:
    Q = x̄ Wq + bq (1, H*d_h), K = X Wk + bk (k, H*d_h), V = X Wv + bv (k, H*d_h);
    head h: softmax(Q_h K_h^T / sqrt(d_h)) V_h (1, d_h); out = concat_h(...) Wo + bo (1, out_dim).
    """

    def __init__(self, in_dim: int, num_heads: int, head_dim: int, out_dim: int):
        super().__init__()
        inner = num_heads * head_dim
        self.num_heads, self.head_dim = num_heads, head_dim
        self.q_proj = nn.Linear(in_dim, inner)
        self.k_proj = nn.Linear(in_dim, inner)
        self.v_proj = nn.Linear(in_dim, inner)
        self.o_proj = nn.Linear(inner, out_dim)
        self.scale = 1 / math.sqrt(head_dim)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """(M, k, in_dim) windows -> (M, out_dim)."""
        m, k, _ = windows.shape
        heads = (self.num_heads, self.head_dim)
        query = self.q_proj(windows.mean(dim=1)).view(m, *heads)
        keys = self.k_proj(windows).view(m, k, *heads)
        values = self.v_proj(windows).view(m, k, *heads)
        attn = (torch.einsum("mhd,mkhd->mhk", query, keys) * self.scale).softmax(dim=-1)
        return self.o_proj(torch.einsum("mhk,mkhd->mhd", attn, values).reshape(m, -1))


class SwiGLU(nn.Module):
    """(Swish(x W1) * x W2) W3 with W1 (gate), W2 (up): in -> hidden and W3: hidden -> out, no biases."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.w1 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w3 = nn.Linear(hidden_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project the last dimension."""
        return self.w3(F.silu(self.w1(x)) * self.w2(x))


class AttentionPoolConnector(nn.Module):
    """Per crop: padding embedding, 2x2 attention pooling to d_v; per token: SwiGLU to d_l.

    ``pad_embed`` (2, L*d_v) is the reference's learned padding embedding: row 0 is added to patches
    that are all padding, row 1 to patches that are partly padding. polyvlm's crops hold no padding,
    but the reference's crop mask marks the *last tile of every image* as partly padded (its mask is
    shifted one crop by the thumbnail), so row 1 is added to every patch of that tile, as the released
    weights saw it. Row 0 is kept so a converted checkpoint round-trips; nothing adds it.
    """

    pool = 2

    def __init__(
        self,
        vision_dim: int,
        num_layers: int,
        text_dim: int,
        num_heads: int,
        head_dim: int,
        hidden_dim: int,
    ):
        super().__init__()
        width = vision_dim * num_layers
        self.pad_embed = nn.Parameter(torch.zeros(2, width))
        self.attention_pool = AttentionPool(width, num_heads, head_dim, vision_dim)
        self.projection = SwiGLU(vision_dim, hidden_dim, text_dim)

    def pool_crops(self, crops: torch.Tensor, partly_padded: torch.Tensor) -> torch.Tensor:
        """(N, P, P, L*d_v) crops and an (N,) bool mask -> (N, T, T, d_v) pooled crops."""
        crops = crops + self.pad_embed[1] * partly_padded.to(crops.dtype)[:, None, None, None]
        n, side = crops.shape[0], -(-crops.shape[1] // self.pool)
        pooled = self.attention_pool(pooling_windows(crops, self.pool))
        return pooled.view(n, side, side, -1)

    def project(self, tokens: torch.Tensor) -> torch.Tensor:
        """(tokens, d_v) -> (tokens, d_l)."""
        return self.projection(tokens)


class MLPConnector(nn.Module):
    """VILA's projector: Linear -> GELU -> Linear on every patch, no pooling."""

    pool = 1

    def __init__(self, vision_dim: int, num_layers: int, text_dim: int, **_unused):
        super().__init__()
        self.linear_1 = nn.Linear(vision_dim * num_layers, text_dim)
        self.linear_2 = nn.Linear(text_dim, text_dim)

    def pool_crops(self, crops: torch.Tensor, partly_padded: torch.Tensor) -> torch.Tensor:
        """No pooling: the (N, P, P, L*d_v) crops as they are."""
        return crops

    def project(self, tokens: torch.Tensor) -> torch.Tensor:
        """(tokens, L*d_v) -> (tokens, d_l)."""
        return self.linear_2(F.gelu(self.linear_1(tokens)))


CONNECTORS = {"attention_pool": AttentionPoolConnector, "mlp": MLPConnector}
