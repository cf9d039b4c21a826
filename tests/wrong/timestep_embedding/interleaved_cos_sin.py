"""Known-wrong: interleaves cos and sin per frequency (cos f_0, sin f_0, cos f_1, …) instead of concatenating all
cosines and then all sines."""
import math

import torch


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.stack([torch.cos(args), torch.sin(args)], dim=-1).reshape(len(t), 2 * half)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb
