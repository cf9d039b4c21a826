"""Known-wrong: the non-saturating loss written as mean log D(G(z)) without the minus sign, so minimizing it makes
the fakes look less real."""
import torch.nn.functional as F


def generator_loss(fake_logits, non_saturating=True):
    if non_saturating:
        return -F.softplus(-fake_logits).mean()  # mean log σ(ℓ): should be −mean log σ(ℓ)
    return -F.softplus(fake_logits).mean()
