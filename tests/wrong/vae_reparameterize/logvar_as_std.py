"""Known-wrong: multiplies the noise by logvar itself, as if the encoder's second output were σ."""
import torch


def reparameterize(mu, logvar, eps=None):
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + logvar * eps
