"""Known-wrong: clamps every element to [−max_norm, max_norm] (clip by value) instead of rescaling by the global norm."""
import torch


def clip_grad_norm(grads, max_norm, eps=1e-6):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    return [g.clamp(-max_norm, max_norm) for g in grads], total
