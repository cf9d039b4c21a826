"""Known-wrong (seen in study articles): uses exp(logvar) = σ² as if it were the standard deviation σ."""
import torch


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(logvar) * eps  # should be exp(0.5 * logvar)
