"""Known-wrong: σ = η·√(1 − ᾱ_t/ᾱ_prev), dropping the factor √((1 − ᾱ_prev)/(1 − ᾱ_t)); at η = 1 this is DDPM's
upper-bound variance β_t instead of the posterior variance β̃_t."""
import math

import torch


def ddim_step(x_t, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    a_t = float(alphas_cumprod[t])
    a_prev = float(alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt(1 - a_t / a_prev)
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps + sigma * noise
