"""Known-wrong: copies LayerNorm's default eps = 1e-5 instead of the task's 1e-6; visible on rows with a small RMS."""
import torch


def rms_norm(x, weight, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight
