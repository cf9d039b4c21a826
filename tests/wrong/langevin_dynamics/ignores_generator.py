"""Known-wrong: draws the noise with torch.randn_like(x), ignoring the generator argument, so a seeded generator does
not make the sampler reproducible."""
import math

import torch


def langevin_step(x, score, step_size, noise):
    return x + 0.5 * step_size * score + math.sqrt(step_size) * noise


def langevin_sample(score_fn, x0, step_size, n_steps, generator=None):
    x = x0
    for _ in range(n_steps):
        x = langevin_step(x, score_fn(x), step_size, torch.randn_like(x))
    return x
