"""Known-wrong (seen in study articles): adds a spurious -sum(ln sigma) to the closed-form KL; log sigma^2 is already in it once."""
import torch
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    B = x.size(0)
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").reshape(B, -1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1) - (0.5 * logvar).sum(1)
    return (recon + beta * kl).mean()
