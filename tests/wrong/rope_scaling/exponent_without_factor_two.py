"""Known-wrong: uses θ_i = base^(−i/dim) for i = 0 .. dim/2 − 1, forgetting that i counts PAIRS of
dimensions (the exponent is 2i/dim), so the lowest frequency is only about base^(−1/2)."""
import torch


def rope_inv_freq(dim, base=10000.0, method="none", factor=1.0):
    if method not in ("none", "linear", "ntk"):
        raise ValueError(f"unknown method {method!r}")
    if method == "ntk":
        base = base * factor ** (dim / (dim - 2))
    inv_freq = base ** (-(torch.arange(dim // 2, dtype=torch.float64) / dim))
    if method == "linear":
        inv_freq = inv_freq / factor
    return inv_freq.float()
