"""Known-wrong: the original, non-inverted dropout — zeroes elements in training but does not scale the survivors by 1/(1 − p)."""
import torch


def dropout(x, p, training=True, generator=None):
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep
