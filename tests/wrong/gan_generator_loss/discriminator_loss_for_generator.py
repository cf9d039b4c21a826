"""Known-wrong (seen in study articles): L_G = −log D(x_r) − log(1 − D(x_g)), the discriminator's loss; the real term
has no gradient w.r.t. G, and the fake term −log(1 − D(G(z))) is minimized by making D(G(z)) → 0, pushing G the
wrong way."""
import torch.nn.functional as F


def generator_loss(fake_logits, non_saturating=True):
    # −log(1 − σ(ℓ)) = softplus(ℓ): BCE of the fakes against label 0, whatever the flag
    return F.softplus(fake_logits).mean()
