"""Known-wrong: scale = (max − min) / 2**bits, as if 2**bits levels had 2**bits steps (they have 2**bits − 1)."""
import torch


def quantize_groupwise(w, group_size, bits=4):
    n_out, n_in = w.shape
    levels = 2 ** bits - 1
    g = w.reshape(n_out, n_in // group_size, group_size)
    lo, hi = g.amin(-1), g.amax(-1)
    scale = (hi - lo) / 2 ** bits
    scale = torch.where(scale > 0, scale, torch.where(lo != 0, lo.abs(), torch.ones_like(lo)))
    zero = torch.round(-lo / scale)
    q = (torch.round(g / scale.unsqueeze(-1)) + zero.unsqueeze(-1)).clamp(0, levels)
    return q.reshape(n_out, n_in).to(torch.uint8), scale, zero


def dequantize_groupwise(q, scale, zero, group_size):
    n_out, n_in = q.shape
    g = q.float().reshape(n_out, n_in // group_size, group_size)
    return ((g - zero.float().unsqueeze(-1)) * scale.unsqueeze(-1)).reshape(n_out, n_in)
