"""Known-wrong: computes log(sigmoid(l)) and log(1 - sigmoid(l)) from probabilities; with D confident (|l| large)
sigmoid rounds to 0 or 1 and the loss is inf."""
import torch


def generator_loss(fake_logits, non_saturating=True):
    d = torch.sigmoid(fake_logits)
    if non_saturating:
        return -torch.log(d).mean()
    return torch.log(1 - d).mean()
