"""Known-wrong: copies WGAN-GP's (‖∇D‖ − 1)², pulling the gradient norm towards 1; R1 is zero-centred and pulls it
towards 0 on the real data."""
import torch


def r1_penalty(discriminator, real, gamma=10.0):
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return 0.5 * gamma * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
