"""Known-wrong: concatenates the real and fake hinge terms and takes ONE mean, which halves the loss for equal
batches and weights the two terms by their batch sizes otherwise."""
import torch
import torch.nn.functional as F


def hinge_d_loss(real_logits, fake_logits):
    terms = torch.cat([F.relu(1 - real_logits).flatten(), F.relu(1 + fake_logits).flatten()])
    return terms.mean()


def hinge_g_loss(fake_logits):
    return -fake_logits.mean()
