"""Known-wrong: reads the mask the other way round: conditions on x·(1 − m) and transforms the mask = 1 dims, so
the dims the contract says pass unchanged are the ones that change."""
import torch
import torch.nn as nn


class AffineCoupling(nn.Module):
    def __init__(self, dim, hidden, mask):
        super().__init__()
        self.register_buffer("mask", mask.clone().float())
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * dim))

    def forward(self, x):
        m = 1 - self.mask
        log_s, t = self.net(x * m).chunk(2, dim=-1)
        log_s, t = log_s * (1 - m), t * (1 - m)
        return x * m + (1 - m) * (x * torch.exp(log_s) + t), log_s.sum(-1)

    def inverse(self, y):
        m = 1 - self.mask
        log_s, t = self.net(y * m).chunk(2, dim=-1)
        log_s, t = log_s * (1 - m), t * (1 - m)
        return y * m + (1 - m) * (y - t) * torch.exp(-log_s)
