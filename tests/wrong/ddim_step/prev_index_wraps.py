"""Known-wrong: reads ᾱ_prev as alphas_cumprod[t_prev] even for t_prev = −1, which in Python is the LAST (noisiest)
entry instead of ᾱ = 1, so the final step re-noises the sample instead of returning x̂₀."""
import math

import torch


def ddim_step(x_t, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    a_t = float(alphas_cumprod[t])
    a_prev = float(alphas_cumprod[t_prev])
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(max(1 - a_t / a_prev, 0.0))
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps + sigma * noise
