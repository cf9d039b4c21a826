"""Known-wrong: exponentiates the lse values directly, e^ℓa o_a + e^ℓb o_b over e^ℓa + e^ℓb; right on paper, but
e^ℓ overflows to inf once ℓ exceeds about 88 in float32, and inf/inf is NaN."""
import torch


def merge_attention(o_a, lse_a, o_b, lse_b):
    e_a, e_b = torch.exp(lse_a), torch.exp(lse_b)
    total = e_a + e_b
    o = (e_a.unsqueeze(-1) * o_a + e_b.unsqueeze(-1) * o_b) / total.unsqueeze(-1)
    return o, torch.log(total)
