"""Known-wrong: scales x0 by ᾱ_t instead of √ᾱ_t, so the signal shrinks too fast and the marginal no longer has
unit variance for unit-variance data."""
import torch


def linear_beta_schedule(T, beta_1=1e-4, beta_T=0.02):
    return torch.linspace(beta_1, beta_T, T)


def q_sample(x0, t, noise, alphas_cumprod):
    a_bar = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return a_bar * x0 + (1 - a_bar).sqrt() * noise
