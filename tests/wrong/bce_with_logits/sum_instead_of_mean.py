"""Known-wrong: sums the element losses instead of averaging them."""
import torch


def bce_with_logits(logits, target):
    return (logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))).sum()
