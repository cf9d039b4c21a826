"""Known-wrong: the upper triangle is kept, so every position attends to the future
instead of the past."""
import torch


def causal_mask(n):
    return torch.ones(n, n, dtype=torch.bool).triu()
