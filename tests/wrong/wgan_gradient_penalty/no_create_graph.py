"""Known-wrong: torch.autograd.grad without create_graph=True, so the penalty is a constant for the optimizer and
never trains the critic."""
import torch


def gradient_penalty(critic, real, fake, alpha=None, weight=10.0):
    if alpha is None:
        alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return weight * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
