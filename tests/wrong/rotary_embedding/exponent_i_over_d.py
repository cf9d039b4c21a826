"""Known-wrong: angles p·base^(−i/d) with the pair index i instead of p·base^(−2i/d)."""
import torch


def apply_rotary(x, positions, base=10000.0):
    d = x.size(-1)
    inv_freq = base ** (-torch.arange(d // 2, dtype=torch.float32) / d)
    theta = positions.float()[:, None] * inv_freq
    cos, sin = theta.cos(), theta.sin()
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    y_even = x_even * cos - x_odd * sin
    y_odd = x_even * sin + x_odd * cos
    return torch.stack([y_even, y_odd], dim=-1).flatten(-2)
