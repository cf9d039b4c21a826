"""Known-wrong: uses −ε/σ² as the target, mixing up −(x̃ − x)/σ² (in terms of x̃ − x = σε) with ε; the right target
in terms of ε is −ε/σ."""
import torch


def dsm_loss(score_model, x, sigma, noise=None):
    noise = torch.randn_like(x) if noise is None else noise
    s = score_model(x + sigma * noise, sigma)
    return (0.5 * sigma ** 2 * (s + noise / sigma ** 2).pow(2).flatten(1).sum(1)).mean()
