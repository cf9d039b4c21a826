"""Known-wrong: scales the noise by the variance 1 − ᾱ_t instead of the standard deviation √(1 − ᾱ_t), so x_t has
too little noise and its variance is not 1 − ᾱ_t."""
import torch


def linear_beta_schedule(T, beta_1=1e-4, beta_T=0.02):
    return torch.linspace(beta_1, beta_T, T)


def q_sample(x0, t, noise, alphas_cumprod):
    a_bar = alphas_cumprod[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return a_bar.sqrt() * x0 + (1 - a_bar) * noise
