"""Known-wrong: rounds with sign(v) · floor(|v| + 0.5) (half away from zero, as C's round) instead of half to even."""
import torch


def quantize_absmax(x, dim=-1):
    scale = x.abs().amax(dim=dim, keepdim=True) / 127
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    v = x / safe
    q = torch.sign(v) * torch.floor(v.abs() + 0.5)
    return q.clamp(-127, 127).to(torch.int8), scale


def dequantize(q, scale):
    return q.float() * scale
