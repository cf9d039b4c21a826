"""Known-wrong: returns an additive float mask (0 where allowed, −inf elsewhere) instead of the boolean mask the
task asks for (True = may attend)."""
import torch


def sliding_window_mask(n, window):
    pos = torch.arange(n)
    d = pos[:, None] - pos[None, :]
    allowed = (d >= 0) & (d < window)
    return torch.zeros(n, n).masked_fill(~allowed, float("-inf"))
