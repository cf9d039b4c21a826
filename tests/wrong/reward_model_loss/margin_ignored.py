"""Known-wrong: accepts the margin argument but never uses it, so Llama 2's graded preferences have no effect."""
import torch.nn.functional as F


def bradley_terry_loss(r_chosen, r_rejected, margin=None):
    return -F.logsigmoid(r_chosen - r_rejected).mean()
