"""Known-wrong: the "rotate half" layout (GPT-NeoX style) pairs x[i] with x[i + d/2]; it is a valid RoPE variant,
but not the contract's adjacent pairs (x[2i], x[2i+1]), so it disagrees with weights trained the other way. Norms and
the relative-position property still hold — only a comparison with the formula catches it."""
import torch


def apply_rotary(x, positions, base=10000.0):
    d = x.size(-1)
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    theta = positions.float()[:, None] * inv_freq  # (T, d/2)
    cos = torch.cat([theta.cos(), theta.cos()], dim=-1)
    sin = torch.cat([theta.sin(), theta.sin()], dim=-1)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    rotated = torch.cat([-x2, x1], dim=-1)
    return x * cos + rotated * sin
