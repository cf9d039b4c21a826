"""Known-wrong: returns f(t)/f(0) directly, without clipping the betas at 0.999; the last entry is then
cos²(π/2)/f(0) ≈ 0 (β_T = 1) instead of 0.001·ᾱ_{T−1}."""
import math

import torch


def cosine_alphas_cumprod(T, s=0.008):
    t = torch.arange(1, T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
    return (f / f0).float()


def rescale_zero_terminal_snr(betas):
    sqrt_ab = torch.cumprod(1 - betas.double(), 0).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    ab = ((sqrt_ab - last) * first / (first - last)) ** 2
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return (1 - alphas).to(betas.dtype)
