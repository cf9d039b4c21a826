"""Known-wrong: returns the concatenated heads without the output projection W^O (out_proj is defined but unused)."""
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
        q = self.q_proj(query).view(B, Lq, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(key).view(B, Lk, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(value).view(B, Lk, self.h, self.hd).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hd)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        out = scores.softmax(-1) @ v
        return out.transpose(1, 2).reshape(B, Lq, d)
