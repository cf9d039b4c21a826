"""Known-wrong: builds the band with the key index as the row (s − t in [0, window)), i.e. the transpose:
queries look at the next tokens instead of the previous ones."""
import torch


def sliding_window_mask(n, window):
    pos = torch.arange(n)
    d = pos[None, :] - pos[:, None]
    return (d >= 0) & (d < window)
