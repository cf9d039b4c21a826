"""Known-wrong: the flag is read the wrong way round, so the default is the saturating minimax loss."""
import torch.nn.functional as F


def generator_loss(fake_logits, non_saturating=True):
    if not non_saturating:
        return F.softplus(-fake_logits).mean()
    return -F.softplus(fake_logits).mean()
