"""Known-wrong: regresses on +ε/σ = (x̃ − x)/σ², the direction AWAY from the clean data, instead of the score −ε/σ."""
import torch


def dsm_loss(score_model, x, sigma, noise=None):
    noise = torch.randn_like(x) if noise is None else noise
    s = score_model(x + sigma * noise, sigma)
    return (0.5 * sigma ** 2 * (s - noise / sigma).pow(2).flatten(1).sum(1)).mean()
