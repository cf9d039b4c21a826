"""Known-wrong: adds the margin, −log σ(r_c − r_r + m); the margin must be subtracted so that the chosen reward has to beat the rejected one by at least m."""
import torch.nn.functional as F


def bradley_terry_loss(r_chosen, r_rejected, margin=None):
    diff = r_chosen - r_rejected
    if margin is not None:
        diff = diff + margin
    return -F.logsigmoid(diff).mean()
