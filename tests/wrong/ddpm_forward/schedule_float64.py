"""Known-wrong: builds the schedule with numpy (float64), so everything computed from it silently becomes float64;
the task asks for a float32 schedule."""
import numpy as np
import torch


def linear_beta_schedule(T, beta_1=1e-4, beta_T=0.02):
    return torch.from_numpy(np.linspace(beta_1, beta_T, T))


def q_sample(x0, t, noise, alphas_cumprod):
    a_bar = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1))).to(x0.dtype)
    return a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * noise
