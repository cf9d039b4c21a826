"""Known-wrong: uses −m_h · |t − s| on both sides of the diagonal (the bidirectional variant) instead of 0 for
future keys s > t."""
import math

import torch


def _pow2(n):
    return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]


def alibi_slopes(n_heads):
    P = 2 ** int(math.floor(math.log2(n_heads)))
    slopes = _pow2(P)
    if P < n_heads:
        slopes += _pow2(2 * P)[0::2][:n_heads - P]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n_heads, n):
    pos = torch.arange(n, dtype=torch.float32)
    rel = -(pos[None, :] - pos[:, None]).abs()
    return alibi_slopes(n_heads)[:, None, None] * rel
