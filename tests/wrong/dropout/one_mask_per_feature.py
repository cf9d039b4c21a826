"""Known-wrong: draws one mask of shape (d,) for the last dim and broadcasts it, so every example in the batch drops the same features."""
import torch


def dropout(x, p, training=True, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape[-1:], generator=generator) >= p
    return x * keep / (1 - p)
