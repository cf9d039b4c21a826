"""Known-wrong: strictly lower triangular, so a position may not attend to itself (and row 0 allows nothing)."""
import torch


def causal_mask(n):
    return torch.ones(n, n, dtype=torch.bool).tril(diagonal=-1)
