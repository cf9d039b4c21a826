"""Known-wrong: concatenates real and fake with labels 1/0 and takes ONE mean, which halves the loss for equal
batches and weights the two terms by batch size otherwise (the contract adds two separate means)."""
import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    logits = torch.cat([real_logits.flatten(), fake_logits.flatten()])
    labels = torch.cat([torch.ones(real_logits.numel()), torch.zeros(fake_logits.numel())])
    return F.binary_cross_entropy_with_logits(logits, labels)
