"""Known-wrong: counts heads from 0 (m_h = 2^(−8h/H), h = 0..H−1), so the first head gets slope 1
and the last slope 2^(−8) is missing."""
import math

import torch


def alibi_slopes(n_heads):
    P = 2 ** int(math.floor(math.log2(n_heads)))
    slopes = [2.0 ** (-8.0 * h / P) for h in range(P)]
    if P < n_heads:
        slopes += [2.0 ** (-8.0 * h / (2 * P)) for h in range(2 * P)][0::2][:n_heads - P]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n_heads, n):
    pos = torch.arange(n, dtype=torch.float32)
    rel = (pos[None, :] - pos[:, None]).clamp(max=0.0)
    return alibi_slopes(n_heads)[:, None, None] * rel
