"""Known-wrong (seen in study articles): the gradient norm is penalized at the generated samples instead of at
random interpolates between real and fake samples."""
import torch


def gradient_penalty(critic, real, fake, alpha=None, weight=10.0):
    x = fake.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
