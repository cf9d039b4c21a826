"""Known-wrong: converts ᾱ' back to alphas with a leading 1 (α'_1 = 1 instead of ᾱ'_1): the first beta becomes 0 and
every ᾱ' is divided by ᾱ'_1, so the first √ᾱ is no longer the original one."""
import math

import torch


def cosine_alphas_cumprod(T, s=0.008):
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0).float()


def rescale_zero_terminal_snr(betas):
    sqrt_ab = torch.cumprod(1 - betas.double(), 0).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    ab = ((sqrt_ab - last) * first / (first - last)) ** 2
    alphas = torch.cat([torch.ones(1, dtype=ab.dtype), ab[1:] / ab[:-1]])
    return (1 - alphas).to(betas.dtype)
