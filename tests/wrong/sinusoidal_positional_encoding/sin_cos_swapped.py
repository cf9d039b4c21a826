"""Known-wrong: cosine in the even columns and sine in the odd ones (the contract puts sin at 2i, cos at 2i+1)."""
import math

import torch


def sinusoidal_positional_encoding(n_positions, d_model):
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(n_positions, d_model)
    pe[:, 0::2] = torch.cos(position * div_term)
    pe[:, 1::2] = torch.sin(position * div_term)
    return pe
