"""Known-wrong: uses Σ1^½ Σ2^½ for the cross term; equal to (Σ1^½ Σ2 Σ1^½)^½ only when the covariances commute (e.g. both diagonal)."""
import torch


def _sqrtm(m):
    w, v = torch.linalg.eigh(m)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    covmean = _sqrtm(sigma1) @ _sqrtm(sigma2)
    return (mu1 - mu2).pow(2).sum() + torch.trace(sigma1 + sigma2 - 2 * covmean)
