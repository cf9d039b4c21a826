"""Known-wrong: scales the noise by η instead of √η, as if the noise were a drift; the chain's variance shrinks by a
factor η (about η·s² instead of s²)."""
import math

import torch


def langevin_step(x, score, step_size, noise):
    return x + 0.5 * step_size * score + step_size * noise


def langevin_sample(score_fn, x0, step_size, n_steps, generator=None):
    x = x0
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
