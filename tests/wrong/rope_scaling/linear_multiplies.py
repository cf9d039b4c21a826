"""Known-wrong: multiplies the frequencies by factor under position interpolation; stretching the
context means slower rotation, θ_i / factor."""
import torch


def rope_inv_freq(dim, base=10000.0, method="none", factor=1.0):
    if method not in ("none", "linear", "ntk"):
        raise ValueError(f"unknown method {method!r}")
    if method == "ntk":
        base = base * factor ** (dim / (dim - 2))
    inv_freq = base ** (-(torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if method == "linear":
        inv_freq = inv_freq * factor
    return inv_freq.float()
