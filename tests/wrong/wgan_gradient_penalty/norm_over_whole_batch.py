"""Known-wrong: one L2 norm over the whole batch's gradient tensor instead of one norm per example."""
import torch


def gradient_penalty(critic, real, fake, alpha=None, weight=10.0):
    if alpha is None:
        alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return weight * (grad.norm() - 1).pow(2)
