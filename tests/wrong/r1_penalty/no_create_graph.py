"""Known-wrong: calls torch.autograd.grad without create_graph=True; the gradient is a constant, the penalty has
no graph back to D's parameters, and training D on it changes nothing."""
import torch


def r1_penalty(discriminator, real, gamma=10.0):
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x)
    return 0.5 * gamma * grad.flatten(1).pow(2).sum(1).mean()
