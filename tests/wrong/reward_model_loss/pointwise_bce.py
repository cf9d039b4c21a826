"""Known-wrong: scores each response on its own, a binary cross-entropy with the chosen reward labelled 1 and the rejected reward labelled 0, instead of the Bradley–Terry loss on the reward difference."""
import torch
import torch.nn.functional as F


def bradley_terry_loss(r_chosen, r_rejected, margin=None):
    m = 0.0 if margin is None else margin
    logits = torch.cat([r_chosen - m, r_rejected])
    labels = torch.cat([torch.ones_like(r_chosen), torch.zeros_like(r_rejected)])
    return F.binary_cross_entropy_with_logits(logits, labels)
