"""Known-wrong: uses the diffusion-style path x_t = t·x0 + (1 − t)·x1 (t = 0 is the data) while keeping the target
x1 − x0 and sampling from t = 0 = noise; the path and the sampler disagree on which end is the data."""
import torch


def flow_matching_loss(model, x1, x0=None, t=None):
    x0 = torch.randn_like(x1) if x0 is None else x0
    t = torch.rand(x1.shape[0]) if t is None else t
    tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = tb * x0 + (1 - tb) * x1
    return ((model(x_t, t) - (x1 - x0)) ** 2).mean()


def euler_sample(model, x0, steps):
    x = x0
    for k in range(steps):
        t = torch.full((x.shape[0],), k / steps, dtype=x.dtype)
        x = x + model(x, t) / steps
    return x
