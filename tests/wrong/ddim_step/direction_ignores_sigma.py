"""Known-wrong: the direction term is √(1 − ᾱ_prev)·ε whatever η is; with η > 0 the added noise σ·z then makes the
total variance 1 − ᾱ_prev + σ², too large."""
import math

import torch


def ddim_step(x_t, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    a_t = float(alphas_cumprod[t])
    a_prev = float(alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps + sigma * noise
