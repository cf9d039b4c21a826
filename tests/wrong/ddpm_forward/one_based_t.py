"""Known-wrong: copies the paper's 1-based t and indexes alphas_cumprod[t - 1], so every step is one step early and
t = 0 wraps around to the LAST (noisiest) step."""
import torch


def linear_beta_schedule(T, beta_1=1e-4, beta_T=0.02):
    return torch.linspace(beta_1, beta_T, T)


def q_sample(x0, t, noise, alphas_cumprod):
    a_bar = alphas_cumprod[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))
    return a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * noise
