"""Known-wrong: applies the random mask even when training=False; inverted dropout is the identity at evaluation time."""
import torch


def dropout(x, p, training=True, generator=None):
    if p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep / (1 - p)
