"""Known-wrong: switches requires_grad on for the caller's `real` itself (real.requires_grad_()) instead of a detached
copy; the value is right, but the caller's batch now requires grad, so every later D(real) builds a graph back to
the data and D's backward pass fills real.grad."""
import torch


def r1_penalty(discriminator, real, gamma=10.0):
    real.requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return 0.5 * gamma * grad.flatten(1).pow(2).sum(1).mean()
