"""Known-wrong: returns log_s.sum() over the whole batch, a single number, instead of one log-determinant per
example (B,)."""
import torch
import torch.nn as nn


class AffineCoupling(nn.Module):
    def __init__(self, dim, hidden, mask):
        super().__init__()
        self.register_buffer("mask", mask.clone().float())
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * dim))

    def forward(self, x):
        m = self.mask
        log_s, t = self.net(x * m).chunk(2, dim=-1)
        log_s, t = log_s * (1 - m), t * (1 - m)
        return x * m + (1 - m) * (x * torch.exp(log_s) + t), log_s.sum()

    def inverse(self, y):
        m = self.mask
        log_s, t = self.net(y * m).chunk(2, dim=-1)
        log_s, t = log_s * (1 - m), t * (1 - m)
        return y * m + (1 - m) * (y - t) * torch.exp(-log_s)
