"""Known-wrong: always rescales to max_norm (gradient normalization), so small gradients are scaled UP instead of left alone."""
import torch


def clip_grad_norm(grads, max_norm, eps=1e-6):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * (max_norm / (total + eps)) for g in grads], total
