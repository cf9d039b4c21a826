"""Known-wrong: takes ᾱ_t = f(t) without dividing by f(0); the offset s makes f(0) < 1, so every ᾱ is too small
(by 2% for s = 0.1)."""
import math

import torch


def cosine_alphas_cumprod(T, s=0.008):
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = torch.cat([torch.ones(1, dtype=torch.float64), f[1:]])
    betas = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float()


def rescale_zero_terminal_snr(betas):
    sqrt_ab = torch.cumprod(1 - betas.double(), 0).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    ab = ((sqrt_ab - last) * first / (first - last)) ** 2
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return (1 - alphas).to(betas.dtype)
