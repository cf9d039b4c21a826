"""Known-wrong: casts x / scale straight to int8, which truncates toward zero instead of rounding to nearest."""
import torch


def quantize_absmax(x, dim=-1):
    scale = x.abs().amax(dim=dim, keepdim=True) / 127
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (x / safe).clamp(-127, 127).to(torch.int8), scale


def dequantize(q, scale):
    return q.float() * scale
