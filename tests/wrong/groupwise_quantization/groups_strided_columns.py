"""Known-wrong: reshapes to (out, group_size, in // group_size) and reduces over dim 1, so a "group" is every
(in // group_size)-th column instead of group_size consecutive columns."""
import torch


def quantize_groupwise(w, group_size, bits=4):
    n_out, n_in = w.shape
    levels = 2 ** bits - 1
    n_groups = n_in // group_size
    g = w.reshape(n_out, group_size, n_groups)  # (out, group_size, G): the wrong split
    lo, hi = g.amin(1), g.amax(1)  # (out, G)
    scale = (hi - lo) / levels
    scale = torch.where(scale > 0, scale, torch.where(lo != 0, lo.abs(), torch.ones_like(lo)))
    zero = torch.round(-lo / scale)
    q = (torch.round(g / scale.unsqueeze(1)) + zero.unsqueeze(1)).clamp(0, levels)
    return q.reshape(n_out, n_in).to(torch.uint8), scale, zero


def dequantize_groupwise(q, scale, zero, group_size):
    n_out, n_in = q.shape
    g = q.float().reshape(n_out, group_size, n_in // group_size)
    return ((g - zero.float().unsqueeze(1)) * scale.unsqueeze(1)).reshape(n_out, n_in)
