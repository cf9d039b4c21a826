"""Known-wrong: draws z with Normal(mu, std).sample() when no eps is given; .sample() is not differentiable, so no gradient reaches the encoder."""
import torch


def reparameterize(mu, logvar, eps=None):
    std = torch.exp(0.5 * logvar)
    if eps is None:
        return torch.distributions.Normal(mu, std).sample()  # should be rsample(), or mu + std * randn_like(std)
    return mu + std * eps
