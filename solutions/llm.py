r"""The building blocks that turn a 2017 Transformer into a modern LLM (LLaMA, Mistral, Mixtral).

A modern decoder keeps the pre-norm block but swaps most of its parts.
RMSNorm drops LayerNorm's mean subtraction and bias and only rescales,
$\mathrm{RMSNorm}(x) = x / \sqrt{\tfrac1d\sum_j x_j^2 + \epsilon} \odot g$.
The feed-forward layer becomes a gated SwiGLU,
$\mathrm{FFN}(x) = W_{down}(\mathrm{SiLU}(W_{gate}x) \odot W_{up}x)$.
Attention shares each key/value head among a group of query heads
(grouped-query attention), which shrinks the KV cache by $H_q / H_{kv}$, and may
only look back a fixed window (sliding-window attention). Positions enter
either as a per-head linear penalty on the scores (ALiBi,
$s_{ts} \mathrel{+}= m_h (s - t)$) or as rotations whose frequencies
$\theta_i = b^{-2i/d}$ can be rescaled to stretch the context (position
interpolation, NTK-aware scaling). Finally a mixture-of-experts layer replaces
the one FFN by $E$ experts and a router that sends each token to its top $k$:
$y = \sum_{j \le k} \mathrm{softmax}(\mathrm{top}_k(W_r x))_j \, E_{e_j}(x)$,
trained with a load-balancing loss $E \sum_e f_e P_e$.

Papers: Zhang & Sennrich, *Root Mean Square Layer Normalization*, arXiv:1910.07467;
Shazeer, *GLU Variants Improve Transformer*, arXiv:2002.05202;
Ainslie et al., *GQA*, arXiv:2305.13245; Beltagy et al., *Longformer*, arXiv:2004.05150;
Jiang et al., *Mistral 7B*, arXiv:2310.06825;
Press et al., *Train Short, Test Long* (ALiBi), arXiv:2108.12409;
Chen et al., *Extending Context Window of Large Language Models via Positional
Interpolation*, arXiv:2306.15595; Peng et al., *YaRN*, arXiv:2309.00071 (NTK-aware scaling);
Fedus et al., *Switch Transformers*, arXiv:2101.03961; Jiang et al., *Mixtral of Experts*, arXiv:2401.04088.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""RMSNorm over the last dim: x / √(mean(x², dim=-1) + eps) * weight.

    x: (..., d); weight: (d,). The MEAN (not the sum) of the squares over the
    last dim, eps INSIDE the square root, and no mean subtraction and no bias
    (unlike LayerNorm). Returns x's shape and dtype; equals
    `F.rms_norm(x, (d,), weight, eps)`.
    """
    mean_sq = x.pow(2).mean(dim=-1, keepdim=True)  # (..., 1)  mean of squares, 1/d Σ x_j²
    return x * torch.rsqrt(mean_sq + eps) * weight  # x / √(ms + eps) ⊙ g


class SwiGLU(nn.Module):
    """The gated feed-forward layer of LLaMA-style models (SwiGLU), without biases.

    Submodules: `w_gate` and `w_up` = nn.Linear(d_model, d_hidden, bias=False),
    `w_down` = nn.Linear(d_hidden, d_model, bias=False).
    forward(x): x (..., d_model) -> (..., d_model),

        w_down(silu(w_gate(x)) * w_up(x))

    The SiLU (x·σ(x)) is applied to the GATE branch only; the up branch stays linear.
    """

    def __init__(self, d_model: int, d_hidden: int):
        super().__init__()
        self.w_gate = nn.Linear(d_model, d_hidden, bias=False)
        self.w_up = nn.Linear(d_model, d_hidden, bias=False)
        self.w_down = nn.Linear(d_hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = F.silu(self.w_gate(x))  # (..., d_hidden)  SiLU(x W_gate)
        return self.w_down(gate * self.w_up(x))  # (..., d_model)  (SiLU(x W_gate) ⊙ x W_up) W_down


def grouped_query_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                            mask: torch.Tensor | None = None) -> torch.Tensor:
    """Grouped-query attention (GQA): several query heads share one key/value head.

    q: (B, Hq, L, d); k, v: (B, Hkv, S, d), with Hq divisible by Hkv.
    Query head h uses key/value head h // (Hq // Hkv): CONSECUTIVE query heads
    share a kv head (as k.repeat_interleave(Hq // Hkv, dim=1)), so Hkv = Hq is
    ordinary multi-head attention and Hkv = 1 is multi-query attention.
    Scores are scaled by 1/√d. `mask` (optional) is boolean, True = may attend,
    broadcastable to (B, Hq, L, S). Returns (B, Hq, L, d).
    """
    B, Hq, L, d = q.shape
    Hkv, S = k.size(1), k.size(2)
    assert Hq % Hkv == 0, f"Hq={Hq} is not divisible by Hkv={Hkv}"
    G = Hq // Hkv  # query heads per kv head
    qg = q.reshape(B, Hkv, G, L, d)  # (B, Hkv, G, L, d): heads g*G .. g*G+G-1 form group g
    kg, vg = k.unsqueeze(2), v.unsqueeze(2)  # (B, Hkv, 1, S, d): broadcast over the group, no copy
    scores = qg @ kg.transpose(-2, -1) / math.sqrt(d)  # (B, Hkv, G, L, S)  q kᵀ / √d
    if mask is not None:
        full = torch.broadcast_to(mask, (B, Hq, L, S)).reshape(B, Hkv, G, L, S)
        scores = scores.masked_fill(~full, float("-inf"))  # True = may attend
    out = scores.softmax(dim=-1) @ vg  # (B, Hkv, G, L, d)
    return out.reshape(B, Hq, L, v.size(-1))  # (B, Hq, L, d)


def sliding_window_mask(n: int, window: int) -> torch.Tensor:
    """Causal sliding-window mask: (n, n) bool, entry [t, s] True where 0 ≤ t − s < window.

    Row t (query position) may attend to itself and the window − 1 positions
    before it. `window ≥ n` gives the ordinary causal mask, `window = 1` the identity.
    """
    t = torch.arange(n)[:, None]  # (n, 1) query positions
    s = torch.arange(n)[None, :]  # (1, n) key positions
    dist = t - s  # (n, n) how far back the key is
    return (dist >= 0) & (dist < window)  # causal and inside the window


def _power_of_two_slopes(n: int) -> list[float]:
    """m_h = 2^(−8h/n), h = 1..n: a geometric sequence from 2^(−8/n) down to 2^(−8)."""
    return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """ALiBi's per-head slopes, float32 of shape (n_heads,).

    For n_heads = H a power of two: m_h = 2^(−8h/H), h = 1..H (for 8 heads:
    1/2, 1/4, ..., 1/256). Otherwise the ALiBi authors' rule: the slopes for
    P = 2^⌊log₂H⌋ heads, followed by the first H − P of the even-indexed
    entries (0, 2, 4, ...) of the slopes for 2P heads.
    """
    P = 2 ** int(math.floor(math.log2(n_heads)))  # largest power of two ≤ H
    slopes = _power_of_two_slopes(P)
    if P < n_heads:  # fill up with every other slope of the 2P-head sequence
        slopes += _power_of_two_slopes(2 * P)[0::2][:n_heads - P]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n_heads: int, n: int) -> torch.Tensor:
    """ALiBi's additive attention bias, float32 of shape (n_heads, n, n).

    bias[h, t, s] = m_h · (s − t) for s ≤ t (non-positive: a penalty that grows
    linearly with the distance back to the key), 0 for s > t (those entries are
    removed by the causal mask anyway). m_h = alibi_slopes(n_heads)[h].
    """
    pos = torch.arange(n, dtype=torch.float32)
    rel = (pos[None, :] - pos[:, None]).clamp(max=0.0)  # (n, n)  s − t for s ≤ t, else 0
    return alibi_slopes(n_heads)[:, None, None] * rel  # (H, n, n)  m_h · (s − t)


def rope_inv_freq(dim: int, base: float = 10000.0, method: str = "none", factor: float = 1.0) -> torch.Tensor:
    """RoPE's inverse frequencies with optional context-extension scaling, float32 of shape (dim // 2,).

    θ_i = base^(−2i/dim) for i = 0 .. dim/2 − 1 (θ_0 = 1 is the highest frequency).
    method "none": θ_i as is. "linear" (position interpolation): θ_i / factor,
    every frequency divided. "ntk" (NTK-aware): base replaced by
    base · factor^(dim/(dim − 2)), so θ_0 is unchanged and the lowest frequency
    θ_{dim/2−1} is divided by exactly `factor`. Any other method: ValueError.
    dim is even and ≥ 4.
    """
    if method not in ("none", "linear", "ntk"):
        raise ValueError(f"unknown RoPE scaling method {method!r}; use 'none', 'linear' or 'ntk'")
    if method == "ntk":
        base = base * factor ** (dim / (dim - 2))  # b' = b · s^(d/(d−2))
    exponent = torch.arange(0, dim, 2, dtype=torch.float64) / dim  # (dim/2,)  2i/d
    inv_freq = base ** (-exponent)  # θ_i = b^(−2i/d)
    if method == "linear":
        inv_freq = inv_freq / factor  # PI: θ_i / s, i.e. positions m → m / s
    return inv_freq.float()


def top_k_routing(router_logits: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k expert routing as in Mixtral: returns (weights, experts).

    router_logits: (N, E) for N tokens and E experts. experts: (N, k) int64,
    the k largest logits' indices in DESCENDING logit order (as torch.topk).
    weights: (N, k), the softmax over the k SELECTED logits only (each row sums
    to 1; the other E − k logits play no part), aligned with `experts`.
    """
    top_logits, experts = router_logits.topk(k, dim=-1)  # (N, k) each, sorted descending
    weights = top_logits.softmax(dim=-1)  # (N, k)  softmax(top_k(logits))
    return weights, experts


def load_balancing_loss(router_logits: torch.Tensor, experts: torch.Tensor, n_experts: int) -> torch.Tensor:
    """The Switch Transformer auxiliary load-balancing loss, for top-k routing; a 0-dim tensor.

    router_logits: (N, E); experts: (N, k) int64 (from top_k_routing); E = n_experts.

        loss = E · Σ_e f_e · P_e

    f_e: the fraction of the N·k assignments that go to expert e (a count: no
    gradient); P_e: the mean over the N tokens of softmax(router_logits)_e over
    all E experts (the gradient reaches the logits through P only). Uniform
    probabilities give 1; routing and probabilities skewed towards the same
    experts give more.
    """
    N, k = experts.shape
    probs = router_logits.softmax(dim=-1)  # (N, E)  over ALL experts
    P = probs.mean(dim=0)  # (E,)  mean router probability per expert
    counts = torch.zeros(n_experts, dtype=probs.dtype, device=probs.device)
    counts = counts.index_add(0, experts.reshape(-1), torch.ones(N * k, dtype=probs.dtype, device=probs.device))
    f = counts / (N * k)  # (E,)  fraction of assignments, a constant for autograd
    return n_experts * (f * P).sum()  # E · Σ_e f_e P_e


class MoE(nn.Module):
    """A sparse mixture-of-experts feed-forward layer (Mixtral style).

    Submodules: `router` = nn.Linear(d_model, n_experts, bias=False) and
    `experts` = nn.ModuleList of n_experts modules mapping (..., d_model) to
    (..., d_model), by default a SwiGLU(d_model, d_hidden) each: bias-free
    linears `w_gate`, `w_up` (d_model -> d_hidden) and `w_down` (d_hidden ->
    d_model), computing w_down(silu(w_gate(x)) * w_up(x)).
    forward(x): x (B, T, d_model) -> (B, T, d_model). For each token, with
    (w, e) = top_k_routing(router(token), k) — the k largest router logits and
    a softmax over those k logits only — the output is Σ_j w_j · experts[e_j](token).
    Sparse dispatch: each expert is called at most once per forward, on a
    (n_routed, d_model) batch of exactly the tokens routed to it; an expert that
    gets no token is not called. Write SwiGLU and top_k_routing in the same file
    (tasks swiglu-ffn and moe-top-k-routing).
    """

    def __init__(self, d_model: int, d_hidden: int, n_experts: int, k: int):
        super().__init__()
        assert 1 <= k <= n_experts, f"k={k} must lie in 1..n_experts={n_experts}"
        self.k = k
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(d_model, d_hidden) for _ in range(n_experts))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape  # batch, time, d_model
        tokens = x.reshape(B * T, D)  # (N, D)
        weights, experts = top_k_routing(self.router(tokens), self.k)  # (N, k), (N, k)
        out = torch.zeros_like(tokens)  # (N, D)
        for e, expert in enumerate(self.experts):
            token_idx, slot = (experts == e).nonzero(as_tuple=True)  # which tokens chose e, in which slot
            if token_idx.numel() == 0:
                continue  # an idle expert costs nothing
            y = expert(tokens[token_idx])  # (n_e, D): one call on exactly its tokens
            out = out.index_add(0, token_idx, weights[token_idx, slot, None] * y)  # Σ_j w_j E_{e_j}(x)
        return out.reshape(B, T, D)
