"""Known-wrong: steps of (beta_T − beta_1)/T from beta_1, so the last variance falls one step short of beta_T."""
import torch


def linear_beta_schedule(T, beta_1=1e-4, beta_T=0.02):
    return beta_1 + (beta_T - beta_1) * torch.arange(T, dtype=torch.float32) / T


def q_sample(x0, t, noise, alphas_cumprod):
    a_bar = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * noise
