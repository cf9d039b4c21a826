"""Known-wrong: takes torch.sqrt(sigma1 @ sigma2) elementwise instead of a matrix square root."""
import torch


def frechet_distance(mu1, sigma1, mu2, sigma2):
    covmean = torch.sqrt(sigma1 @ sigma2)  # elementwise; should be a matrix square root
    return (mu1 - mu2).pow(2).sum() + torch.trace(sigma1 + sigma2 - 2 * covmean)
