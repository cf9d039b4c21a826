"""Known-wrong: scales the input tensors in place (the clip_grad_norm_ habit) and returns them, so the caller's gradients change."""
import torch


def clip_grad_norm(grads, max_norm, eps=1e-6):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / (total + eps))
    return list(grads), total
