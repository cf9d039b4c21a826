"""Known-wrong: reads ᾱ_{t−1} as `alphas_cumprod[t - 1]`; at t = 0 the index −1 wraps around to the LAST step's
ᾱ_{T−1} instead of ᾱ_{−1} = 1, so the first step's posterior is nonsense (right for every t ≥ 1)."""
import torch


def q_posterior(x0, xt, t, betas):
    alphas = 1 - betas
    a_bar = torch.cumprod(alphas, 0)
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, alpha, ab = (v[t].reshape(shape) for v in (betas, alphas, a_bar))
    ab_prev = a_bar[t - 1].reshape(shape)  # t = 0 reads a_bar[-1]
    mean = ab_prev.sqrt() * beta / (1 - ab) * x0 + alpha.sqrt() * (1 - ab_prev) / (1 - ab) * xt
    return mean, (1 - ab_prev) / (1 - ab) * beta
