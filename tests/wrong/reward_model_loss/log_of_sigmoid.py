"""Known-wrong: computes log(sigmoid(z)), which underflows to log(0) = -inf (an infinite loss) once a pair is ranked wrong by a large reward gap."""
import torch


def bradley_terry_loss(r_chosen, r_rejected, margin=None):
    diff = r_chosen - r_rejected
    if margin is not None:
        diff = diff - margin
    return -torch.log(torch.sigmoid(diff)).mean()
