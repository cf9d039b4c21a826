"""Known-wrong: shifts and scales ᾱ itself instead of √ᾱ; the final ᾱ is still 0 and the first unchanged, but the
whole curve in between (the signal coefficient √ᾱ) differs from Lin et al.'s Algorithm 1."""
import math

import torch


def cosine_alphas_cumprod(T, s=0.008):
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float()


def rescale_zero_terminal_snr(betas):
    ab = torch.cumprod(1 - betas.double(), 0)
    first, last = ab[0].clone(), ab[-1].clone()
    ab = (ab - last) * first / (first - last)
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return (1 - alphas).to(betas.dtype)
