"""Known-wrong: centres each row first (LayerNorm without bias) — RMSNorm never subtracts the mean."""
import torch


def rms_norm(x, weight, eps=1e-6):
    centred = x - x.mean(-1, keepdim=True)
    return centred / torch.sqrt(centred.pow(2).mean(-1, keepdim=True) + eps) * weight
