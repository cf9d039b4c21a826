"""Known-wrong: reads t as the paper's 1-based index, using β_{t−1}, ᾱ_{t−1} and ᾱ_{t−2} where the 0-based task
needs β_t, ᾱ_t and ᾱ_{t−1}."""
import torch


def q_posterior(x0, xt, t, betas):
    alphas = 1 - betas
    a_bar = torch.cumprod(alphas, 0)
    a_bar_prev = torch.cat([torch.ones(1), a_bar[:-1]])
    s = t - 1  # should be t
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, alpha, ab, ab_prev = (v[s].reshape(shape) for v in (betas, alphas, a_bar, a_bar_prev))
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * xt
    return mean, (1 - ab_prev) / (1 - ab) * beta
