"""Known-wrong: reads "attends to the previous window tokens" as 0 < t − s ≤ window, excluding the position
itself (row 0 then has no key at all and its softmax is NaN)."""
import torch


def sliding_window_mask(n, window):
    pos = torch.arange(n)
    d = pos[:, None] - pos[None, :]
    return (d > 0) & (d <= window)
