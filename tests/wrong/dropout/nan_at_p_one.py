"""Known-wrong: no special case for p = 1, so x·mask/(1 − p) is 0/0 = NaN everywhere."""
import torch


def dropout(x, p, training=True, generator=None):
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep / (1 - p)
