"""Known-wrong: builds the right set of slopes for a non-power-of-two head count but sorts them from
largest to smallest; the rule keeps the P-head slopes first, then the extra ones."""
import math

import torch


def _pow2(n):
    return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]


def alibi_slopes(n_heads):
    P = 2 ** int(math.floor(math.log2(n_heads)))
    slopes = _pow2(P)
    if P < n_heads:
        slopes += _pow2(2 * P)[0::2][:n_heads - P]
    return torch.tensor(sorted(slopes, reverse=True), dtype=torch.float32)


def alibi_bias(n_heads, n):
    pos = torch.arange(n, dtype=torch.float32)
    rel = (pos[None, :] - pos[:, None]).clamp(max=0.0)
    return alibi_slopes(n_heads)[:, None, None] * rel
