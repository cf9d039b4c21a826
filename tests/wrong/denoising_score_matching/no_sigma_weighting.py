"""Known-wrong: drops the σ² weight and uses ½‖s + ε/σ‖²; small noise levels then dominate the loss like 1/σ²."""
import torch


def dsm_loss(score_model, x, sigma, noise=None):
    noise = torch.randn_like(x) if noise is None else noise
    s = score_model(x + sigma * noise, sigma)
    return (0.5 * (s + noise / sigma).pow(2).flatten(1).sum(1)).mean()
