"""Known-wrong: draws g = −log U (exponential noise, one log short of a Gumbel variable); argmax(logits + g) then
no longer follows softmax(logits)."""
import torch


def gumbel_softmax(logits, tau=1.0, hard=False, gumbels=None):
    if gumbels is None:
        u = torch.rand_like(logits).clamp(1e-20, 1 - 1e-7)
        gumbels = -torch.log(u)
    y = torch.softmax((logits + gumbels) / tau, dim=-1)
    if hard:
        index = y.argmax(dim=-1, keepdim=True)
        y = torch.zeros_like(y).scatter(-1, index, 1.0) - y.detach() + y
    return y
