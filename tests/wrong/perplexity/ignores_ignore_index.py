"""Known-wrong: calls F.cross_entropy without passing ignore_index, so only -100 is ignored whatever the argument says."""
import torch
import torch.nn.functional as F


def perplexity(logits, targets, ignore_index=-100):
    V = logits.size(-1)
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).exp()
