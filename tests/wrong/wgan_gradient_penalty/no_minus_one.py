"""Known-wrong (seen in study articles): penalizes ‖∇‖² instead of (‖∇‖ − 1)², pushing the critic towards a
constant instead of towards 1-Lipschitz."""
import torch


def gradient_penalty(critic, real, fake, alpha=None, weight=10.0):
    if alpha is None:
        alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
    x_hat = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return weight * grad.flatten(1).norm(dim=1).pow(2).mean()
