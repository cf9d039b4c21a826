"""Known-wrong: overwrites x with its normalized version, so the residual connection adds LN(x) instead of the
un-normalized x."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.h, self.hd = n_heads, d_model // n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        B, Lq, d = query.shape
        Lk = key.size(1)
        q = self.q_proj(query).view(B, Lq, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(key).view(B, Lk, self.h, self.hd).transpose(1, 2)
        v = self.v_proj(value).view(B, Lk, self.h, self.hd).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(B, Lq, d))


class TransformerBlock(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, dropout=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        x = self.ln1(x)
        x = x + self.drop(self.attn(x, x, x, mask))
        x = self.ln2(x)
        x = x + self.drop(self.ff(x))
        return x
