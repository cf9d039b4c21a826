"""Known-wrong: divides only the logits by τ and adds the noise afterwards, softmax(logits/τ + g); the temperature
must divide logits AND noise."""
import torch


def gumbel_softmax(logits, tau=1.0, hard=False, gumbels=None):
    if gumbels is None:
        u = torch.rand_like(logits).clamp(1e-20, 1 - 1e-7)
        gumbels = -torch.log(-torch.log(u))
    y = torch.softmax(logits / tau + gumbels, dim=-1)
    if hard:
        index = y.argmax(dim=-1, keepdim=True)
        y = torch.zeros_like(y).scatter(-1, index, 1.0) - y.detach() + y
    return y
