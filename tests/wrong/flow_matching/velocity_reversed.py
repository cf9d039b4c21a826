"""Known-wrong: regresses on x0 − x1 (noise minus data); integrating that velocity from t = 0 moves AWAY from the
data."""
import torch


def flow_matching_loss(model, x1, x0=None, t=None):
    x0 = torch.randn_like(x1) if x0 is None else x0
    t = torch.rand(x1.shape[0]) if t is None else t
    tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
    x_t = (1 - tb) * x0 + tb * x1
    return ((model(x_t, t) - (x0 - x1)) ** 2).mean()


def euler_sample(model, x0, steps):
    x = x0
    for k in range(steps):
        t = torch.full((x.shape[0],), k / steps, dtype=x.dtype)
        x = x + model(x, t) / steps
    return x
