"""Known-wrong: uses 2^(−8h/H) for every H; for a head count that is not a power of two the
ALiBi authors' rule takes the power-of-two slopes and fills up with every other slope of the next power of two."""

import torch


def alibi_slopes(n_heads):
    return torch.tensor([2.0 ** (-8.0 * h / n_heads) for h in range(1, n_heads + 1)], dtype=torch.float32)


def alibi_bias(n_heads, n):
    pos = torch.arange(n, dtype=torch.float32)
    rel = (pos[None, :] - pos[:, None]).clamp(max=0.0)
    return alibi_slopes(n_heads)[:, None, None] * rel
