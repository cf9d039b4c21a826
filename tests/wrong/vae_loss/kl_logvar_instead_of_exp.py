"""Known-wrong (seen in study articles): KL = -0.5*sum(1 + logvar - mu^2 - logvar); the last term must be exp(logvar)."""
import torch
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    B = x.size(0)
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").reshape(B, -1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar).sum(1)
    return (recon + beta * kl).mean()
