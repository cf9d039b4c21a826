"""Known-wrong: divides by the scale without guarding all-zero slices, so 0 / 0 = NaN is cast to int8 (which happens
to give 0 on some machines, but is undefined)."""
import torch


def quantize_absmax(x, dim=-1):
    scale = x.abs().amax(dim=dim, keepdim=True) / 127
    return torch.round(x / scale).clamp(-127, 127).to(torch.int8), scale


def dequantize(q, scale):
    return q.float() * scale
