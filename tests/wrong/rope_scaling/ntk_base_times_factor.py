"""Known-wrong: NTK-aware scaling with base · factor, without the exponent dim/(dim − 2); the lowest
frequency is then divided by factor^((dim−2)/dim), not by exactly factor."""
import torch


def rope_inv_freq(dim, base=10000.0, method="none", factor=1.0):
    if method not in ("none", "linear", "ntk"):
        raise ValueError(f"unknown method {method!r}")
    if method == "ntk":
        base = base * factor
    inv_freq = base ** (-(torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if method == "linear":
        inv_freq = inv_freq / factor
    return inv_freq.float()
