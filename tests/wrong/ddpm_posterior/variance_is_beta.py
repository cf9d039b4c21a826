"""Known-wrong: returns β_t as the posterior variance. β_t is an upper bound (and one choice for the reverse
model's variance), but the posterior's variance is β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t)·β_t."""
import torch


def q_posterior(x0, xt, t, betas):
    alphas = 1 - betas
    a_bar = torch.cumprod(alphas, 0)
    a_bar_prev = torch.cat([torch.ones(1), a_bar[:-1]])
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, alpha, ab, ab_prev = (v[t].reshape(shape) for v in (betas, alphas, a_bar, a_bar_prev))
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * xt
    return mean, beta
