"""Known-wrong: evaluates the score model at the clean x instead of the noised x̃ = x + σε, so it is asked to predict
the noise from an input that does not contain it."""
import torch


def dsm_loss(score_model, x, sigma, noise=None):
    noise = torch.randn_like(x) if noise is None else noise
    s = score_model(x, sigma)
    return (0.5 * sigma ** 2 * (s + noise / sigma).pow(2).flatten(1).sum(1)).mean()
