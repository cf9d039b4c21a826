"""Known-wrong: drops the factor 2 on the cross term, Tr(Σ1 + Σ2 − (Σ1^½ Σ2 Σ1^½)^½); identical Gaussians no longer give 0."""
import torch


def _sqrtm(m):
    w, v = torch.linalg.eigh(m)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    r1 = _sqrtm(sigma1)
    covmean = _sqrtm(r1 @ sigma2 @ r1)
    return (mu1 - mu2).pow(2).sum() + torch.trace(sigma1 + sigma2 - covmean)
