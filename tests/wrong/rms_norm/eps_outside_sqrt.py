"""Known-wrong: x / (√mean(x²) + eps) with eps outside the square root; differs when mean(x²) is small."""
import torch


def rms_norm(x, weight, eps=1e-6):
    rms = x.pow(2).mean(-1, keepdim=True).sqrt()
    return x / (rms + eps) * weight
