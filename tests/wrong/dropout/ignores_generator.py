"""Known-wrong: draws the mask with torch.bernoulli from the global RNG and ignores the generator, so results are not reproducible."""
import torch


def dropout(x, p, training=True, generator=None):
    if not training or p == 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.bernoulli(torch.full_like(x, 1 - p))
    return x * keep / (1 - p)
