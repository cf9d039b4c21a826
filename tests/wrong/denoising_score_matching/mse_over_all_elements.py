"""Known-wrong: averages the squared error over every element (F.mse_loss style) instead of summing it over each
example's dims and averaging over the batch; the loss is smaller by the number of features."""
import torch


def dsm_loss(score_model, x, sigma, noise=None):
    noise = torch.randn_like(x) if noise is None else noise
    s = score_model(x + sigma * noise, sigma)
    return 0.5 * sigma ** 2 * (s + noise / sigma).pow(2).mean()
