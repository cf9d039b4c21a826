"""Known-wrong: takes log of probabilities, log(sigmoid(l)) and log(1 - sigmoid(l)); sigmoid rounds to 0 or 1 for
large |l|, so the loss becomes inf (and the gradient NaN) exactly when D is confident."""
import torch


def discriminator_loss(real_logits, fake_logits):
    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    return -torch.log(d_real).mean() - torch.log(1 - d_fake).mean()
