"""Discriminators (critics) whose input gradient is known in closed form, for the gradient-penalty tasks."""
import torch
import torch.nn as nn


class LinearCritic(nn.Module):
    """f(x) = <w, x> + b for each example: its gradient w.r.t. x is w everywhere."""

    def __init__(self, w, b=0.3):
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(float(b)))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b  # (B,)


class QuadraticCritic(nn.Module):
    """f(x) = ½ Σ c ⊙ x² per example: its gradient w.r.t. x is c ⊙ x, so it depends on WHERE it is taken.
    Records every input it is called on."""

    def __init__(self, c):
        super().__init__()
        self.c = nn.Parameter(c.clone())
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return (0.5 * self.c * x * x).flatten(1).sum(1, keepdim=True)  # (B, 1)
