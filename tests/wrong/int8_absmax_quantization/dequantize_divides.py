"""Known-wrong: dequantizes with q / scale, confusing the scale (float per step) with its inverse."""
import torch


def quantize_absmax(x, dim=-1):
    scale = x.abs().amax(dim=dim, keepdim=True) / 127
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return torch.round(x / safe).clamp(-127, 127).to(torch.int8), scale


def dequantize(q, scale):
    return q.float() / torch.where(scale > 0, scale, torch.ones_like(scale))
