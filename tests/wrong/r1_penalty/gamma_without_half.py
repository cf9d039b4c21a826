"""Known-wrong: multiplies by γ instead of γ/2, so the penalty (and the effective γ) is twice the paper's."""
import torch


def r1_penalty(discriminator, real, gamma=10.0):
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma * grad.flatten(1).pow(2).sum(1).mean()
