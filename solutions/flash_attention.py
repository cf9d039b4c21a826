r"""Exact attention computed in pieces: merging partial results and the online softmax.

Softmax attention over a set of keys can be split into disjoint parts. Attend over each part on its own, keep
the normalized output $o_i$ and the log-sum-exp $\ell_i = \log\sum_{j\in\text{part } i} e^{s_j}$ of its scaled
scores $s_j = q\cdot k_j/\sqrt d$, and the parts combine exactly:

$$\ell = \log(e^{\ell_a} + e^{\ell_b}),\qquad o = e^{\ell_a-\ell}\,o_a + e^{\ell_b-\ell}\,o_b .$$

FlashAttention (Dao et al., 2022, arXiv:2205.14135) applies this one key/value block at a time with a running
maximum $m$ and running sum $l$ (the online softmax of Milakov & Gimelshein, arXiv:1805.02867), so the
(L, S) score matrix never exists; ring attention and split-KV decoding merge partial results the same way.
"""
import math

import torch


def merge_attention(o_a: torch.Tensor, lse_a: torch.Tensor, o_b: torch.Tensor,
                    lse_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Combine two attention results computed over disjoint key sets into the result over their union.

    o_a, o_b: (..., L, d) normalized attention outputs (softmax-weighted averages of the values) of the same
    queries over two disjoint sets of keys. lse_a, lse_b: (..., L) the log-sum-exp of each set's scaled scores,
    log Σ_j exp(q·k_j / √d). A side with lse = -inf (all its keys masked) has a finite `o` (e.g. zeros) and
    must contribute nothing. Returns (o, lse): (..., L, d) and (..., L), the output and log-sum-exp over the
    union of the two key sets, computed without overflow even when lse_a and lse_b are far apart.
    """
    lse = torch.logaddexp(lse_a, lse_b)  # (..., L) ℓ = log(e^ℓa + e^ℓb), stable; -inf on one side gives the other
    w_a = torch.exp(lse_a - lse).unsqueeze(-1)  # (..., L, 1) the share e^ℓa / e^ℓ of side a's softmax mass
    w_b = torch.exp(lse_b - lse).unsqueeze(-1)  # (..., L, 1) the share of side b; w_a + w_b = 1
    return w_a * o_a + w_b * o_b, lse  # o = e^(ℓa−ℓ) o_a + e^(ℓb−ℓ) o_b


def blockwise_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block_size: int,
                        causal: bool = False) -> torch.Tensor:
    r"""Exact softmax attention softmax(q kᵀ / √d) v, computed one key/value block at a time (online softmax).

    q: (..., L, d); k: (..., S, d); v: (..., S, dv); returns (..., L, dv), q's dtype. Keys and values are
    processed in consecutive blocks of `block_size` positions (the last block may be shorter) while a running
    maximum and a running sum of the exponentiated scores are kept per query, so no (L, S)-sized tensor
    (scores, weights or mask) is ever formed; at most (L, block_size) at a time. `causal=True` requires
    L = S: query i may attend to keys j <= i. Use plain tensor operations, not
    F.scaled_dot_product_attention.
    """
    L, S = q.size(-2), k.size(-2)
    if causal and L != S:
        raise ValueError(f"causal blockwise attention needs L == S, got L={L}, S={S}")
    scale = 1.0 / math.sqrt(q.size(-1))
    m = q.new_full((*q.shape[:-1], 1), float("-inf"))  # (..., L, 1) running max of the scores seen so far
    l_sum = q.new_zeros((*q.shape[:-1], 1))  # (..., L, 1) running Σ exp(s − m)
    acc = q.new_zeros((*q.shape[:-1], v.size(-1)))  # (..., L, dv) running Σ exp(s − m) v, not yet normalized
    rows = torch.arange(L, device=q.device).unsqueeze(-1)  # (L, 1) query positions
    for start in range(0, S, block_size):
        k_blk, v_blk = k[..., start:start + block_size, :], v[..., start:start + block_size, :]  # (..., b, d|dv)
        s = q @ k_blk.transpose(-2, -1) * scale  # (..., L, b) the scores of this block: q kᵀ / √d
        if causal:
            cols = torch.arange(start, start + k_blk.size(-2), device=q.device)  # (b,) global key positions
            s = s.masked_fill(cols > rows, float("-inf"))  # query i sees keys j <= i
        m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))  # (..., L, 1) m' = max(m, rowmax(s))
        correction = torch.exp(m - m_new)  # rescale the old statistics from base m to base m' (0 when m = -inf)
        p = torch.exp(s - m_new)  # (..., L, b) exp(s − m')
        l_sum = correction * l_sum + p.sum(dim=-1, keepdim=True)  # l' = e^(m−m') l + rowsum(e^(s−m'))
        acc = correction * acc + p @ v_blk  # acc' = e^(m−m') acc + e^(s−m') v
        m = m_new
    return acc / l_sum  # o = acc / l: the softmax normalization, applied once at the end
