"""Known-wrong: draws one noise tensor before the loop and reuses it at every step; the chain then converges to a
fixed point shifted by that noise instead of sampling."""
import math

import torch


def langevin_step(x, score, step_size, noise):
    return x + 0.5 * step_size * score + math.sqrt(step_size) * noise


def langevin_sample(score_fn, x0, step_size, n_steps, generator=None):
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    x = x0
    for _ in range(n_steps):
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
