"""Known-wrong: a symmetric band |t − s| < window (Longformer's bidirectional local attention), which lets a
decoder see future tokens; the mask must also be causal."""
import torch


def sliding_window_mask(n, window):
    pos = torch.arange(n)
    return (pos[:, None] - pos[None, :]).abs() < window
