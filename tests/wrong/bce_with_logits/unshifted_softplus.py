"""Known-wrong: (1 - y)*l + log(1 + exp(-l)) is right on paper, but exp(-l) overflows to inf for l = -1e4; use |l|."""
import torch


def bce_with_logits(logits, target):
    return ((1 - target) * logits + torch.log1p(torch.exp(-logits))).mean()
