"""Known-wrong: takes the mean of squares over dim 0 (the batch) instead of over each row's features."""
import torch


def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(0, keepdim=True) + eps) * weight
