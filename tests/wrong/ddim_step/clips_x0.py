"""Known-wrong: clamps x̂₀ to [−1, 1] (the `clip_sample` option of image pipelines); the task's update has no
clipping, and for data outside [−1, 1] the result and the trajectory change."""
import math

import torch


def ddim_step(x_t, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    a_t = float(alphas_cumprod[t])
    a_prev = float(alphas_cumprod[t_prev]) if t_prev >= 0 else 1.0
    x0 = ((x_t - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-1, 1)
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps + sigma * noise
