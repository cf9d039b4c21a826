"""Known-wrong: sums the per-pair losses instead of averaging them, so the loss and its gradient grow with the batch size."""
import torch.nn.functional as F


def bradley_terry_loss(r_chosen, r_rejected, margin=None):
    diff = r_chosen - r_rejected
    if margin is not None:
        diff = diff - margin
    return -F.logsigmoid(diff).sum()
