"""Known-wrong: the reconstruction BCE uses the default reduction='mean' (over pixels too), shrinking it by the pixel count relative to the KL."""
import torch
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(x_logits, x)  # mean over batch AND pixels
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()
    return recon + beta * kl
