"""Known-wrong: sums the per-example losses instead of averaging them over the batch."""
import torch


def cross_entropy(logits, target):
    log_probs = torch.log_softmax(logits, dim=-1)
    return -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1).sum()
