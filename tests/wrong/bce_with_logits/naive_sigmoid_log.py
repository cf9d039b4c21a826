"""Known-wrong: computes log(sigmoid(l)) and log(1 - sigmoid(l)); sigmoid rounds to exactly 0 or 1 at |l| = 1e4, giving log 0."""
import torch


def bce_with_logits(logits, target):
    p = torch.sigmoid(logits)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()
