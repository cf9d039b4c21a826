"""Known-wrong: takes a full step η·score on the drift instead of (η/2)·score; with √η noise the chain then targets
a distribution whose variance is about half of p's."""
import math

import torch


def langevin_step(x, score, step_size, noise):
    return x + step_size * score + math.sqrt(step_size) * noise


def langevin_sample(score_fn, x0, step_size, n_steps, generator=None):
    x = x0
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = langevin_step(x, score_fn(x), step_size, noise)
    return x
