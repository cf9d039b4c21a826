"""Known-wrong: the x_t coefficient uses √ᾱ_t instead of √α_t; x_t is one step (α_t) from x_{t−1}, not t steps."""
import torch


def q_posterior(x0, xt, t, betas):
    alphas = 1 - betas
    a_bar = torch.cumprod(alphas, 0)
    a_bar_prev = torch.cat([torch.ones(1), a_bar[:-1]])
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, ab, ab_prev = (v[t].reshape(shape) for v in (betas, a_bar, a_bar_prev))
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + ab.sqrt() * (1 - ab_prev) / (1 - ab) * xt
    return mean, (1 - ab_prev) / (1 - ab) * beta
