"""Known-wrong: draws ONE time for the whole batch when t is not given, so every example in a batch sits at the same
point of the path (higher-variance gradients; not the U(0, 1)-per-example objective)."""
import torch


def flow_matching_loss(model, x1, x0=None, t=None):
    x0 = torch.randn_like(x1) if x0 is None else x0
    t = torch.rand(1).expand(x1.shape[0]) if t is None else t
    tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = (1 - tb) * x0 + tb * x1
    return ((model(x_t, t) - (x1 - x0)) ** 2).mean()


def euler_sample(model, x0, steps):
    x = x0
    for k in range(steps):
        t = torch.full((x.shape[0],), k / steps, dtype=x.dtype)
        x = x + model(x, t) / steps
    return x
