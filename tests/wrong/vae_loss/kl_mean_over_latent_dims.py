"""Known-wrong (seen in study articles): averages the KL over latent dims instead of summing, silently dividing β by z_dim."""
import torch
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    B = x.size(0)
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").reshape(B, -1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).mean(1)
    return (recon + beta * kl).mean()
