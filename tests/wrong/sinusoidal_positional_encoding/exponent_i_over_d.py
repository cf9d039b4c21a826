"""Known-wrong: frequencies 10000^(−i/d) with the pair index i, instead of 10000^(−2i/d), so the wavelengths only
reach about 2π·100 instead of about 2π·10000."""
import torch


def sinusoidal_positional_encoding(n_positions, d_model):
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]
    i = torch.arange(d_model // 2, dtype=torch.float32)
    angles = position / 10000 ** (i / d_model)
    pe = torch.zeros(n_positions, d_model)
    pe[:, 0::2] = torch.sin(angles)
    pe[:, 1::2] = torch.cos(angles)
    return pe
