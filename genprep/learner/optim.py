"""Adam for the training tests, without `torch.optim`.

Creating any `torch.optim` optimizer imports `torch._dynamo` (about a second
on a laptop), which is longer than the short training runs in the task tests
take: a learner waits for it on every run. This is the textbook update
(Kingma & Ba, arXiv:1412.6980, Algorithm 1) in the form PyTorch computes it,
and tests/core/test_optim.py checks it step by step against `torch.optim.Adam`.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch


class Adam:
    """Adam without weight decay or AMSGrad: `zero_grad()`, `backward()`, `step()` as usual."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]  # first moment
        self.v = [torch.zeros_like(p) for p in self.params]  # second moment

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.t)
        root_correction = (1 - b2 ** self.t) ** 0.5
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - b1)  # m ← β1·m + (1−β1)·g
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)  # v ← β2·v + (1−β2)·g²
            p.addcdiv_(m, v.sqrt() / root_correction + self.eps, value=-step_size)
