"""Known-wrong: gives the true class 1 − s and spreads s/(C − 1) over the OTHER classes only, instead of s/C over all C."""
import torch


def smoothed_cross_entropy(logits, target, smoothing=0.1, ignore_index=-100):
    n_classes = logits.size(-1)
    log_p = torch.log_softmax(logits, dim=-1)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    q = torch.full_like(log_p, smoothing / (n_classes - 1))
    q.scatter_(-1, safe.unsqueeze(-1), 1.0 - smoothing)
    per_row = -(q * log_p).sum(-1)
    return per_row[keep].mean()
