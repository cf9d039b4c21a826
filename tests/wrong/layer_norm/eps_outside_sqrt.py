"""Known-wrong: divides by σ + eps instead of √(σ² + eps); the two differ when the variance is small."""
import torch


def layer_norm(x, weight, bias, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    std = (x - mu).pow(2).mean(-1, keepdim=True).sqrt()
    return weight * (x - mu) / (std + eps) + bias
