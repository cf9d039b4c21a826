"""Known-wrong: treats p as the KEEP probability (mask = rand < p), so it drops a fraction 1 − p of the elements."""
import torch


def dropout(x, p, training=True, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator) < p
    return x * keep / (1 - p)
