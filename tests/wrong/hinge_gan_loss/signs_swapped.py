"""Known-wrong: swaps the signs inside the hinges, relu(1 + real) + relu(1 − fake), which trains D to score the
real data low and the fakes high."""
import torch.nn.functional as F


def hinge_d_loss(real_logits, fake_logits):
    return F.relu(1 + real_logits).mean() + F.relu(1 - fake_logits).mean()


def hinge_g_loss(fake_logits):
    return -fake_logits.mean()
