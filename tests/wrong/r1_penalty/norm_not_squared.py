"""Known-wrong: penalizes the gradient norm ‖∇D‖ instead of its square ‖∇D‖²."""
import torch


def r1_penalty(discriminator, real, gamma=10.0):
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return 0.5 * gamma * grad.flatten(1).norm(dim=1).mean()
