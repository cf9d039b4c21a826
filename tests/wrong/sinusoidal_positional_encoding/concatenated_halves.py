"""Known-wrong: all the sines in the first half of the columns and all the cosines in the second half, instead of
interleaving them as (sin, cos) pairs at columns (2i, 2i+1)."""
import math

import torch


def sinusoidal_positional_encoding(n_positions, d_model):
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    return torch.cat([torch.sin(position * div_term), torch.cos(position * div_term)], dim=1)
