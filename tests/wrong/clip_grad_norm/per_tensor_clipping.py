"""Known-wrong: clips each tensor by its own norm instead of by the global norm over all tensors, which changes the update's direction."""
import torch


def clip_grad_norm(grads, max_norm, eps=1e-6):
    norms = [torch.linalg.vector_norm(g) for g in grads]
    total = torch.linalg.vector_norm(torch.stack(norms))
    out = []
    for g, n in zip(grads, norms):
        out.append(g * (max_norm / (n + eps)) if n > max_norm else g.clone())
    return out, total
