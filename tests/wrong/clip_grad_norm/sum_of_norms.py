"""Known-wrong: takes the total norm as the SUM of the per-tensor norms, Σ‖g_i‖, instead of √(Σ‖g_i‖²)."""
import torch


def clip_grad_norm(grads, max_norm, eps=1e-6):
    total = sum(torch.linalg.vector_norm(g) for g in grads)
    if total > max_norm:
        return [g * (max_norm / (total + eps)) for g in grads], total
    return [g.clone() for g in grads], total
