r"""Attention: scaled dot-product attention and the pieces built on it.

$$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\Big(\frac{QK^\top}{\sqrt{d}}\Big)V$$

Each query takes a convex combination of the values, weighted by how well it
matches each key. Built on it here: the causal mask of autoregressive models,
multi-head attention ($H$ attentions of size $d/H$ side by side), one decoding
step with a KV cache, and the two ways of telling attention where a token is:
sinusoidal positional encodings (added to the input) and rotary embeddings
(rotating q and k so that $\langle R_m q, R_n k\rangle$ depends only on $m-n$).

Masks are boolean with **True = may attend**, the convention of
`torch.nn.functional.scaled_dot_product_attention`.
Papers: Vaswani et al., *Attention Is All You Need*, arXiv:1706.03762;
Su et al., *RoFormer: Enhanced Transformer with Rotary Position Embedding*, arXiv:2104.09864.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """q (..., Lq, d), k (..., Lk, d), v (..., Lk, dv) -> (out (..., Lq, dv), weights (..., Lq, Lk)).

    `mask` is boolean and broadcastable to (..., Lq, Lk); False entries get
    weight exactly 0.
    """
    d = q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0 after the softmax
    weights = scores.softmax(dim=-1)  # each query's weights over the keys sum to 1
    return weights @ v, weights


def causal_mask(n: int) -> torch.Tensor:
    """(n, n) boolean mask, True on and below the diagonal: position t may attend to 0..t.

    Row t is the query at position t, column s the key at position s; the
    entries above the diagonal (s > t, the future) are False.
    """
    return torch.ones(n, n, dtype=torch.bool).tril()  # (n, n), lower triangle incl. the diagonal


class MultiHeadAttention(nn.Module):
    r"""Multi-head attention, batch first.

    $\mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\,W^O$ with
    $\mathrm{head}_h = \mathrm{Attention}(Q W^Q_h, K W^K_h, V W^V_h)$, head dim d_model / n_heads.

    Submodules `q_proj`, `k_proj`, `v_proj`, `out_proj`: each `nn.Linear(d_model, d_model, bias=bias)`.
    Head h uses features h·hd … (h+1)·hd − 1 of the projected q, k, v (hd = d_model / n_heads),
    the layout of `nn.MultiheadAttention`.
    """

    def __init__(self, d_model: int, n_heads: int, bias: bool = True):
        """d_model must be divisible by n_heads."""
        super().__init__()
        assert d_model % n_heads == 0, f"d_model={d_model} is not divisible by n_heads={n_heads}"
        self.d_model, self.n_heads = d_model, n_heads
        self.head_dim = d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """query (B, Lq, d_model), key and value (B, Lk, d_model) -> (B, Lq, d_model).

        `mask` is boolean, True = may attend, broadcastable to (B, H, Lq, Lk):
        e.g. a causal (Lq, Lk) mask or a key-padding mask of shape (B, 1, 1, Lk).
        """
        B, Lq, _ = query.shape  # batch, query length, d_model
        Lk = key.size(1)  # key/value length
        H, hd = self.n_heads, self.head_dim
        # Project, then split the feature dim into heads: (B, L, d) -> (B, L, H, hd) -> (B, H, L, hd).
        q = self.q_proj(query).view(B, Lq, H, hd).transpose(1, 2)  # (B, H, Lq, hd)
        k = self.k_proj(key).view(B, Lk, H, hd).transpose(1, 2)  # (B, H, Lk, hd)
        v = self.v_proj(value).view(B, Lk, H, hd).transpose(1, 2)  # (B, H, Lk, hd)
        out, _ = scaled_dot_product_attention(q, k, v, mask)  # (B, H, Lq, hd), scaled by √hd
        # Concatenate the heads: undo the transpose BEFORE merging (H, hd) back into d_model.
        out = out.transpose(1, 2).reshape(B, Lq, self.d_model)  # (B, Lq, d_model)
        return self.out_proj(out)  # Concat(head_1..head_H) W^O


def attend_step(q_t: torch.Tensor, k_t: torch.Tensor, v_t: torch.Tensor, cache=None) -> tuple[torch.Tensor, object]:
    """One decoding step with a KV cache.

    q_t, k_t, v_t: (B, H, 1, d) for the newest position t. Appends k_t, v_t to
    the cache and attends from q_t over every cached position 0..t. Returns
    (out_t (B, H, 1, d), the new cache). `cache=None` starts a new sequence;
    the cache may be any structure (here a tuple (K, V) of shape (B, H, t+1, d)),
    but it must hold all the state: no globals. No mask is needed: the cache
    holds only positions ≤ t, which is exactly what causal attention allows.
    """
    if cache is None:
        keys, values = k_t, v_t  # (B, H, 1, d)
    else:
        past_k, past_v = cache
        keys = torch.cat([past_k, k_t], dim=-2)  # (B, H, t+1, d): append along the sequence dim
        values = torch.cat([past_v, v_t], dim=-2)  # (B, H, t+1, d)
    out, _ = scaled_dot_product_attention(q_t, keys, values)  # (B, H, 1, d)
    return out, (keys, values)


def sinusoidal_positional_encoding(n_positions: int, d_model: int) -> torch.Tensor:
    r"""(n_positions, d_model) float32 table of sinusoids (Vaswani et al., §3.5).

    $PE[p, 2i] = \sin(p\,\omega_i)$, $PE[p, 2i+1] = \cos(p\,\omega_i)$ with
    $\omega_i = 10000^{-2i/d}$: sine in the even columns, cosine in the odd
    ones, one frequency per pair. d_model must be even.
    """
    assert d_model % 2 == 0, f"d_model={d_model} must be even (sin/cos pairs)"
    p = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (P, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (d/2,): 0, 2, 4, ...
    omega = 10000.0 ** (-two_i / d_model)  # ω_i = 10000^{-2i/d}
    angles = p * omega  # (P, d/2)
    pe = torch.empty(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = angles.sin()  # even columns: sin
    pe[:, 1::2] = angles.cos()  # odd columns: cos
    return pe.float()


def apply_rotary(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    r"""Rotary position embedding (RoPE): rotate each pair (x[2i], x[2i+1]) by θ = p·base^{−2i/d}.

    x: (..., T, d), d even; positions: (T,) integer positions of the T rows.
    Reading a pair as a complex number, $x_{2i} + \mathrm{i}\,x_{2i+1} \mapsto
    (x_{2i} + \mathrm{i}\,x_{2i+1})\,e^{\mathrm{i}\theta}$:

    $$\begin{pmatrix}y_{2i}\\ y_{2i+1}\end{pmatrix} =
      \begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}
      \begin{pmatrix}x_{2i}\\ x_{2i+1}\end{pmatrix}.$$

    Returns a tensor of x's shape and dtype.
    """
    d = x.size(-1)
    assert d % 2 == 0, f"the last dim ({d}) must be even"
    two_i = torch.arange(0, d, 2, dtype=torch.float64, device=x.device)  # (d/2,)
    inv_freq = base ** (-two_i / d)  # base^{-2i/d}
    theta = positions.to(torch.float64)[:, None] * inv_freq  # (T, d/2)
    cos, sin = theta.cos().to(x.dtype), theta.sin().to(x.dtype)
    x_even, x_odd = x[..., 0::2], x[..., 1::2]  # (..., T, d/2) each: the pairs (x[2i], x[2i+1])
    y_even = x_even * cos - x_odd * sin  # real part of (a + ib)(cos θ + i sin θ)
    y_odd = x_even * sin + x_odd * cos  # imaginary part
    return torch.stack([y_even, y_odd], dim=-1).flatten(-2)  # interleave back: (..., T, d)
