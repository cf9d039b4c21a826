"""Known-wrong (seen in study articles): the discriminator minimizes log D(real) + log(1 − D(fake)) — V itself,
which it should maximize — so its loss has the wrong sign and it learns to call real data fake."""
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    # log σ(ℓ) = −softplus(−ℓ), log(1 − σ(ℓ)) = −softplus(ℓ)
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()
