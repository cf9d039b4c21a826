"""Known-wrong: uses the Euclidean distance ‖μ1 − μ2‖ instead of its square in the mean term."""
import torch


def _sqrtm(m):
    w, v = torch.linalg.eigh(m)
    return v @ torch.diag(w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    r1 = _sqrtm(sigma1)
    covmean = _sqrtm(r1 @ sigma2 @ r1)
    return torch.linalg.norm(mu1 - mu2) + torch.trace(sigma1 + sigma2 - 2 * covmean)
