"""Known-wrong: always draws fresh noise, ignoring the eps passed in, so results cannot be reproduced or checked."""
import torch


def reparameterize(mu, logvar, eps=None):
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + std * eps
