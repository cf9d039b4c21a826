"""Known-wrong: splits the heads with q.reshape(B, H, L, hd) directly, without .view(B, L, H, hd).transpose(1, 2).
The shapes come out right, but each "head" now mixes features of different positions."""
import math

import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads, bias=True):
        super().__init__()
        assert d_model % n_heads == 0
        self.h, self.hd = n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, query, key, value, mask=None):
        B, Lq, d = query.shape
        Lk = key.size(1)
        q = self.q_proj(query).reshape(B, self.h, Lq, self.hd)
        k = self.k_proj(key).reshape(B, self.h, Lk, self.hd)
        v = self.v_proj(value).reshape(B, self.h, Lk, self.hd)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        out = scores.softmax(-1) @ v
        out = out.transpose(1, 2).reshape(B, Lq, d)
        return self.out_proj(out)
