"""Known-wrong: rotates row t by t·ω_i (torch.arange(T)) and ignores the `positions` argument, which breaks as soon
as positions do not start at 0 — e.g. the single new token of a KV-cache decoding step."""
import torch


def apply_rotary(x, positions, base=10000.0):
    T, d = x.size(-2), x.size(-1)
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    theta = torch.arange(T, dtype=torch.float32)[:, None] * inv_freq
    cos, sin = theta.cos(), theta.sin()
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    y_even = x_even * cos - x_odd * sin
    y_odd = x_even * sin + x_odd * cos
    return torch.stack([y_even, y_odd], dim=-1).flatten(-2)
