"""Known-wrong: real samples labelled 0 and fakes labelled 1, so D is trained to call real data fake."""
import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)))
