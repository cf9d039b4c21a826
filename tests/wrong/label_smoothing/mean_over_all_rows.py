"""Known-wrong: zeroes the ignored rows' losses but then takes .mean() over all N rows, so ignored rows still dilute the average."""
import torch


def smoothed_cross_entropy(logits, target, smoothing=0.1, ignore_index=-100):
    n_classes = logits.size(-1)
    log_p = torch.log_softmax(logits, dim=-1)
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    nll = -log_p.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    per_row = (1 - smoothing) * nll - smoothing * log_p.sum(-1) / n_classes
    return (per_row * keep).mean()
