"""Known-wrong: a float 0/1 tensor instead of a boolean one. Passed as attn_mask, a float mask is ADDED to the
scores (+1 for the past, +0 for the future), so nothing is masked at all."""
import torch


def causal_mask(n):
    return torch.tril(torch.ones(n, n))
