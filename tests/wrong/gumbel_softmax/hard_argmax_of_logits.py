"""Known-wrong: for hard=True takes the one-hot of argmax(logits), ignoring the noise; the "sample" is then always
the mode, not a draw from softmax(logits)."""
import torch


def gumbel_softmax(logits, tau=1.0, hard=False, gumbels=None):
    if gumbels is None:
        u = torch.rand_like(logits).clamp(1e-20, 1 - 1e-7)
        gumbels = -torch.log(-torch.log(u))
    y = torch.softmax((logits + gumbels) / tau, dim=-1)
    if hard:
        index = logits.argmax(dim=-1, keepdim=True)
        y = torch.zeros_like(y).scatter(-1, index, 1.0) - y.detach() + y
    return y
