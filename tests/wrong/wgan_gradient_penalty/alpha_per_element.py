"""Known-wrong: draws alpha with the full shape of `real`, one per pixel, so x̂ is not on the line between a real
and a fake sample."""
import torch


def gradient_penalty(critic, real, fake, alpha=None, weight=10.0):
    if alpha is None:
        alpha = torch.rand_like(real)
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
