"""Known-wrong: takes the times from torch.linspace(0, 1, steps) (spacing 1/(steps − 1)) but steps by 1/steps, so the
model is evaluated at the wrong times and the last one is t = 1."""
import torch


def flow_matching_loss(model, x1, x0=None, t=None):
    x0 = torch.randn_like(x1) if x0 is None else x0
    t = torch.rand(x1.shape[0]) if t is None else t
    tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = (1 - tb) * x0 + tb * x1
    return ((model(x_t, t) - (x1 - x0)) ** 2).mean()


def euler_sample(model, x0, steps):
    x = x0
    for tk in torch.linspace(0, 1, steps).tolist():
        t = torch.full((x.shape[0],), tk, dtype=x.dtype)
        x = x + model(x, t) / steps
    return x
