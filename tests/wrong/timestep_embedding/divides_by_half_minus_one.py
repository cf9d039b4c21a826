"""Known-wrong: spaces the exponents as i/(half − 1) so that the lowest frequency is exactly 1/max_period (the
original DDPM code's spacing); the task's f_i = max_period^(−i/half) (ADM, DiT) never reaches 1/max_period."""
import math

import torch


def timestep_embedding(t, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / max(half - 1, 1))
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb
