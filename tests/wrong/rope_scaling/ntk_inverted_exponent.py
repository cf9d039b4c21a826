"""Known-wrong: NTK-aware scaling with the exponent upside down, base · factor^((dim − 2)/dim)."""
import torch


def rope_inv_freq(dim, base=10000.0, method="none", factor=1.0):
    if method not in ("none", "linear", "ntk"):
        raise ValueError(f"unknown method {method!r}")
    if method == "ntk":
        base = base * factor ** ((dim - 2) / dim)
    inv_freq = base ** (-(torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if method == "linear":
        inv_freq = inv_freq / factor
    return inv_freq.float()
