"""Known-wrong: for hard=True returns the bare one-hot of argmax y; its value is right but it has no gradient
(argmax and scatter are not differentiable), so nothing upstream learns."""
import torch


def gumbel_softmax(logits, tau=1.0, hard=False, gumbels=None):
    if gumbels is None:
        u = torch.rand_like(logits).clamp(1e-20, 1 - 1e-7)
        gumbels = -torch.log(-torch.log(u))
    y = torch.softmax((logits + gumbels) / tau, dim=-1)
    if hard:
        index = y.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(y).scatter(-1, index, 1.0)
    return y
