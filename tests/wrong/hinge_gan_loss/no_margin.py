"""Known-wrong: uses a margin of 0, relu(−real) + relu(fake), so D only needs the right sign and stops at
logits just past 0."""
import torch.nn.functional as F


def hinge_d_loss(real_logits, fake_logits):
    return F.relu(-real_logits).mean() + F.relu(fake_logits).mean()


def hinge_g_loss(fake_logits):
    return -fake_logits.mean()
