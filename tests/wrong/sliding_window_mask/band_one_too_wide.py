"""Known-wrong: keeps keys with t − s ≤ window (tril & triu(-window)), one position too many: the window must
count the position itself, so only t − s < window is allowed."""
import torch


def sliding_window_mask(n, window):
    ones = torch.ones(n, n, dtype=torch.bool)
    return ones.tril() & ones.triu(-window)
