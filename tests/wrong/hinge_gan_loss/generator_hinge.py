"""Known-wrong: applies the hinge to the generator too, relu(1 − fake); the generator's gradient vanishes as soon
as D scores its samples above +1 (the hinge GAN's G loss is plain −mean fake)."""
import torch.nn.functional as F


def hinge_d_loss(real_logits, fake_logits):
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits):
    return F.relu(1 - fake_logits).mean()
