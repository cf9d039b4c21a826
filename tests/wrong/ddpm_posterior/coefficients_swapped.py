"""Known-wrong: the x0 and x_t coefficients are swapped in the posterior mean."""
import torch


def q_posterior(x0, xt, t, betas):
    alphas = 1 - betas
    a_bar = torch.cumprod(alphas, 0)
    a_bar_prev = torch.cat([torch.ones(1), a_bar[:-1]])
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, alpha, ab, ab_prev = (v[t].reshape(shape) for v in (betas, alphas, a_bar, a_bar_prev))
    mean = alpha.sqrt() * (1 - ab_prev) / (1 - ab) * x0 + ab_prev.sqrt() * beta / (1 - ab) * xt
    return mean, (1 - ab_prev) / (1 - ab) * beta
