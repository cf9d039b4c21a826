"""Known-wrong: copies the paper's 1-based indices and reads alphas_cumprod[t − 1] and alphas_cumprod[t_prev − 1],
so every noise level is one step too early."""
import math

import torch


def ddim_step(x_t, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    a_t = float(alphas_cumprod[t - 1])
    a_prev = float(alphas_cumprod[t_prev - 1]) if t_prev >= 1 else 1.0
    x0 = (x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps + sigma * noise
